import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import * as exec from '@actions/exec';
import { DeployError } from '../core/errors';

/** What one docker CLI invocation produced. */
export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DockerRunOptions {
  /** Written to stdin (the registry password for `login --password-stdin`). */
  input?: string;
  /** Keep the command's output out of the log (probes). */
  silent?: boolean;
  /**
   * Variables added to this invocation's environment: build secrets travel here (`--secret id=…,env=NAME`), never in
   * argv, which the runner echoes into the log and `ps` shows.
   */
  env?: Record<string, string>;
}

/** Runs the docker CLI with an argument array: never a shell string built from inputs. */
export type Docker = (args: string[], options?: DockerRunOptions) => Promise<DockerResult>;

/** The executable a command name resolves to through PATH (or the path itself when it has a slash). */
export function findExecutable(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '' && isAbsolute(dir))
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there or not executable: try the next directory.
    }
  }
  return undefined;
}

/** The docker CLI through @actions/exec, with the environment given (DOCKER_HOST, DOCKER_CONFIG are honoured). */
export function execDocker(executable: string, env: NodeJS.ProcessEnv): Docker {
  const cleanEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) cleanEnv[key] = value;
  return async (args, options = {}) => {
    const out = await exec.getExecOutput(executable, args, {
      env: options.env ? { ...cleanEnv, ...options.env } : cleanEnv,
      ignoreReturnCode: true,
      silent: options.silent ?? false,
      ...(options.input !== undefined ? { input: Buffer.from(options.input) } : {}),
    });
    return { exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr };
  };
}

/** The last meaningful line of docker's output: what failed, for the step's error message. */
export function lastErrorLine(result: DockerResult): string {
  const lines = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const errorLine = [...lines].reverse().find((line) => /error|denied|unauthorized|failed|refused/i.test(line));
  return errorLine ?? lines.at(-1) ?? `exit code ${result.exitCode}`;
}

/** Runs docker and throws a DeployError with docker's last error line when it fails. */
export async function dockerOrFail(docker: Docker, doing: string, args: string[], options?: DockerRunOptions) {
  const result = await docker(args, options);
  if (result.exitCode !== 0) {
    throw new DeployError(`Could not ${doing}: docker ${args[0]} failed: ${lastErrorLine(result)}`);
  }
  return result;
}

/** Whether this docker has the buildx plugin (GitHub's runners do; plain engines and podman's shim may not). */
export async function hasBuildx(docker: Docker): Promise<boolean> {
  const result = await docker(['buildx', 'version'], { silent: true });
  return result.exitCode === 0;
}

export function loginArgs(registry: string, username: string): string[] {
  // The password goes to stdin: never in argv, where `ps` and the step log would show it.
  return ['login', '--username', username, '--password-stdin', registry];
}

/** Removes the registry's credentials from the docker config (or its credential store). */
export function logoutArgs(registry: string): string[] {
  return ['logout', registry];
}

export type CacheMode = 'registry' | 'gha' | 'none';

/** What to build, independent of how. */
export interface BuildSpec {
  context: string;
  dockerfile?: string;
  buildArgs: Record<string, string>;
  target?: string;
  platforms: string[];
  /** Full references: <registry>/<repository>:<tag>. */
  tags: string[];
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Secrets by the name of the environment variable that holds each value (see secretEnv). */
  secrets?: { id: string; env: string }[];
  /** Secret files: absolute paths. */
  secretFiles?: { id: string; path: string }[];
  /** `--ssh` values: `default` or `<id>=<socket or key>[,<key>]`. */
  ssh?: string[];
  noCache?: boolean;
  pull?: boolean;
}

/**
 * The environment variables that carry build secrets to the build, by position (ids may hold characters a variable
 * name may not), and the `--secret` entries that name them. The values never reach argv.
 */
export function secretEnv(secrets: { id: string; value: string }[]): {
  refs: { id: string; env: string }[];
  env: Record<string, string>;
} {
  const env: Record<string, string> = {};
  const refs = secrets.map(({ id, value }, i) => {
    const name = `AWS_DEPLOY_KIT_SECRET_${i}`;
    env[name] = value;
    return { id, env: name };
  });
  return { refs, env };
}

function commonArgs(spec: BuildSpec): string[] {
  const args: string[] = [];
  if (spec.dockerfile) args.push('--file', spec.dockerfile);
  for (const [key, value] of Object.entries(spec.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  if (spec.target) args.push('--target', spec.target);
  for (const [key, value] of Object.entries(spec.labels)) args.push('--label', `${key}=${value}`);
  for (const [key, value] of Object.entries(spec.annotations ?? {})) args.push('--annotation', `${key}=${value}`);
  for (const { id, env } of spec.secrets ?? []) args.push('--secret', `id=${id},env=${env}`);
  for (const { id, path } of spec.secretFiles ?? []) args.push('--secret', `id=${id},src=${path}`);
  for (const ssh of spec.ssh ?? []) args.push('--ssh', ssh);
  if (spec.noCache) args.push('--no-cache');
  if (spec.pull) args.push('--pull');
  for (const tag of spec.tags) args.push('--tag', tag);
  return args;
}

export interface BuildxOptions {
  push: boolean;
  cache: CacheMode;
  /** <registry>/<repository>:<cache tag>, for cache: registry. */
  cacheRef: string;
  /** False on IMMUTABLE repositories: the cache tag cannot be rewritten there, so it is only read. */
  cacheWritable: boolean;
  /** Opt-in attestations: either turns the pushed image into an image index. */
  provenance?: boolean;
  sbom?: boolean;
  /** A builder other than the current one (the docker-container builder made for a cache export). */
  builder?: string;
}

/** Whether a buildx build with these options exports a cache (`--cache-to`), which the `docker` driver cannot. */
export function exportsCache(options: Pick<BuildxOptions, 'cache' | 'cacheWritable'>): boolean {
  return options.cache === 'gha' || (options.cache === 'registry' && options.cacheWritable);
}

/**
 * `docker buildx build`. Provenance and SBOM attestations are off unless asked for: they turn the pushed image into an
 * image index, which App Runner rejects. The registry cache is stored as an image manifest because ECR refuses the
 * default cache index format.
 */
export function buildxArgs(spec: BuildSpec, options: BuildxOptions): string[] {
  const args = ['buildx', 'build'];
  if (options.builder) args.push('--builder', options.builder);
  args.push(...commonArgs(spec), `--provenance=${options.provenance ?? false}`, `--sbom=${options.sbom ?? false}`);
  if (spec.platforms.length > 0) args.push('--platform', spec.platforms.join(','));
  if (options.cache === 'registry') {
    args.push('--cache-from', `type=registry,ref=${options.cacheRef}`);
    if (options.cacheWritable) {
      args.push('--cache-to', `type=registry,ref=${options.cacheRef},mode=max,image-manifest=true,oci-mediatypes=true`);
    }
  } else if (options.cache === 'gha') {
    args.push('--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max');
  }
  // Without --push (or --load) buildx keeps the result only in its build cache.
  args.push(options.push ? '--push' : '--load');
  args.push(spec.context);
  return args;
}

/** `docker build` for engines without buildx; the push is a separate `docker push`. */
export function classicBuildArgs(spec: BuildSpec): string[] {
  const args = ['build', ...commonArgs(spec)];
  if (spec.platforms.length === 1) args.push('--platform', spec.platforms[0]!);
  args.push(spec.context);
  return args;
}

export function pushArgs(reference: string): string[] {
  return ['push', reference];
}

/** The driver of a buildx builder (`docker`, `docker-container`, …), or undefined when it cannot be inspected. */
export async function builderDriver(docker: Docker, builder?: string): Promise<string | undefined> {
  const result = await docker(['buildx', 'inspect', ...(builder ? [builder] : [])], { silent: true });
  if (result.exitCode !== 0) return undefined;
  return /^Driver:\s*(\S+)/m.exec(result.stdout)?.[1];
}

/** Started now (--bootstrap), so that a builder that cannot start fails before the build, not in the push. */
export function createBuilderArgs(name: string): string[] {
  return ['buildx', 'create', '--name', name, '--driver', 'docker-container', '--bootstrap'];
}

/** The `--flags` the engine's plain `build` takes (podman's takes --secret, the docker CLI's legacy builder does not). */
export async function classicBuildFlags(docker: Docker): Promise<Set<string>> {
  const result = await docker(['build', '--help'], { silent: true });
  return new Set(`${result.stdout}\n${result.stderr}`.match(/--[a-z][a-z-]*/g) ?? []);
}
