import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigurationError } from '../../core/errors';
import type { InputParser, InputReader } from '../../core/input';

/** The docker/build-push-action parity inputs of build-push (secrets, labels, attestations, cache and pull flags). */
export interface BuildFeatures {
  /** `secrets`: values go to the build through environment variables only, and are masked first. */
  secrets: { id: string; value: string }[];
  /** `secret-files`: absolute paths inside the workspace. */
  secretFiles: { id: string; path: string }[];
  /** `ssh`: `default` or `<id>=<paths>`, as `--ssh` takes them. */
  ssh: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  provenance: boolean;
  sbom: boolean;
  noCache: boolean;
  pull: boolean;
  /** Another account's registry (12 digits); undefined: the credentials' own account. */
  registryId?: string;
}

const secretId = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const labelKey = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
// buildx's `[<level>[,<level>…]:]<key>`, a level optionally narrowed to a platform: `manifest[linux/amd64]`.
const level = '(?:index|manifest|index-descriptor|manifest-descriptor)(?:\\[[a-z0-9/_]+\\])?';
const annotationKey = new RegExp(`^(?:${level}(?:,${level})*:)?[A-Za-z0-9][A-Za-z0-9._/-]*$`);
const accountId = /^\d{12}$/;

/** Parses and checks the parity inputs; paths are resolved against the workspace (GITHUB_WORKSPACE, else cwd). */
export function parseBuildFeatures(
  p: InputParser,
  read: InputReader,
  env: NodeJS.ProcessEnv,
  cwd: string,
): BuildFeatures {
  const workspace = resolve(env.GITHUB_WORKSPACE || cwd);
  const registryId = p.optional('registry-id');
  if (registryId !== undefined && !accountId.test(registryId)) {
    throw new ConfigurationError(
      'registry-id',
      registryId,
      'the 12-digit AWS account ID that owns the ECR registry, e.g. "123456789012"',
    );
  }
  const features: BuildFeatures = {
    secrets: parseSecrets(read),
    secretFiles: pairs(read, 'secret-files').map(([id, path]) => ({
      id: checkSecretId('secret-files', id, `${id}=${path}`),
      path: fileInside('secret-files', `${id}=${path}`, path, workspace),
    })),
    ssh: parseSsh(read, env, cwd),
    labels: checkKeys(
      'labels',
      p.keyValues('labels'),
      labelKey,
      'KEY=VALUE lines whose KEY is a label such as org.opencontainers.image.title',
    ),
    annotations: checkKeys(
      'annotations',
      p.keyValues('annotations'),
      annotationKey,
      'KEY=VALUE lines whose KEY is an annotation such as org.opencontainers.image.description, optionally ' +
        'prefixed by buildx levels ("manifest:", "index,manifest:")',
    ),
    provenance: p.boolean('provenance', false),
    sbom: p.boolean('sbom', false),
    noCache: p.boolean('no-cache', false),
    pull: p.boolean('pull', false),
  };
  if (registryId !== undefined) features.registryId = registryId;
  return features;
}

/** The input that turns the pushed image into an image index, if any (the deploy target must be able to run one). */
export function imageIndexInput(
  build: Pick<BuildFeatures, 'provenance' | 'sbom'> & { platforms: string[] },
): { input: string; given: string } | undefined {
  if (build.platforms.length > 1) return { input: 'platforms', given: build.platforms.join(',') };
  if (build.provenance) return { input: 'provenance', given: 'true' };
  if (build.sbom) return { input: 'sbom', given: 'true' };
  return undefined;
}

/** Non-blank, non-comment lines split at their first `=`; the line itself is never put in an error (`secrets`). */
function pairs(read: InputReader, input: string, hidden = false): [string, string][] {
  const out: [string, string][] = [];
  for (const line of read(input).split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0 || eq === trimmed.length - 1) {
      throw new ConfigurationError(
        input,
        hidden ? '(a line not shown: it may hold a secret)' : trimmed,
        `one id=${input === 'secrets' ? 'value' : 'path'} pair per line, neither part empty`,
      );
    }
    out.push([trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim()]);
  }
  return out;
}

function parseSecrets(read: InputReader): BuildFeatures['secrets'] {
  const secrets = pairs(read, 'secrets', true).map(([id, value]) => ({
    id: checkSecretId('secrets', id, `${id}=***`),
    value,
  }));
  const ids = new Set<string>();
  for (const { id } of secrets) {
    if (ids.has(id)) throw new ConfigurationError('secrets', `${id}=***`, 'each secret id once');
    ids.add(id);
  }
  return secrets;
}

function checkSecretId(input: string, id: string, given: string): string {
  if (!secretId.test(id)) {
    throw new ConfigurationError(
      input,
      given,
      'an id of letters, digits, _ . - (what RUN --mount=type=secret,id=… names)',
    );
  }
  return id;
}

function checkKeys(
  input: string,
  values: Record<string, string>,
  pattern: RegExp,
  accepted: string,
): Record<string, string> {
  for (const key of Object.keys(values)) if (!pattern.test(key)) throw new ConfigurationError(input, key, accepted);
  return values;
}

/** A file inside the workspace, symbolic links followed, as an absolute path. */
function fileInside(input: string, given: string, path: string, workspace: string): string {
  const inside = (root: string, file: string) => {
    const rel = relative(root, file);
    return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
  };
  const where = `id=path lines whose path is a file inside the workspace (${workspace})`;
  const absolute = resolve(workspace, path);
  if (!inside(workspace, absolute)) throw new ConfigurationError(input, given, where);
  // --secret id=…,src=… is comma-separated: a comma would cut the path short.
  if (absolute.includes(',')) throw new ConfigurationError(input, given, `${where}, with no comma in it`);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new ConfigurationError(input, given, `${where}; no such file (write it in an earlier step)`);
  }
  if (!inside(realpathSync(workspace), realpathSync(absolute))) {
    throw new ConfigurationError(input, given, `${where}; this one links outside it`);
  }
  return absolute;
}

function parseSsh(read: InputReader, env: NodeJS.ProcessEnv, cwd: string): string[] {
  const out: string[] = [];
  for (const line of read('ssh').split('\n')) {
    const entry = line.trim();
    if (entry === '' || entry.startsWith('#')) continue;
    const eq = entry.indexOf('=');
    const id = eq < 0 ? entry : entry.slice(0, eq);
    if (!secretId.test(id)) {
      throw new ConfigurationError(
        'ssh',
        entry,
        '"default" or id=path lines (an agent socket or key files, comma-separated)',
      );
    }
    if (eq < 0) {
      // buildx forwards $SSH_AUTH_SOCK for a bare id; without an agent it fails only once the build has started.
      if (!env.SSH_AUTH_SOCK) {
        throw new ConfigurationError(
          'ssh',
          entry,
          'an SSH agent for a bare id: SSH_AUTH_SOCK is not set (start one in an earlier step, e.g. ' +
            'webfactory/ssh-agent), or give the key: id=path',
        );
      }
      out.push(entry);
      continue;
    }
    const paths = entry
      .slice(eq + 1)
      .split(',')
      .map((path) => resolve(cwd, path.trim()));
    for (const path of paths) {
      if (!existsSync(path)) {
        throw new ConfigurationError('ssh', entry, `id=path lines whose paths exist (${path} does not)`);
      }
    }
    out.push(`${id}=${paths.join(',')}`);
  }
  return out;
}
