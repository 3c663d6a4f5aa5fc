import { copyFile, cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from './docker';
import type { Sandbox } from './index';
import { repoRoot } from './paths';

export const SAMPLE_APP_DIR = join(repoRoot(), 'examples/sample-app');

/**
 * A build context of the sample app: its files plus Debian's static busybox (from busybox-static), which is not
 * committed. Returns the directory to pass to `docker build`.
 */
export async function sampleAppContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adk-sample-'));
  await cp(SAMPLE_APP_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('/busybox') });
  await copyFile('/bin/busybox', join(dir, 'busybox'));
  return dir;
}

/** One variant of the sample app: the commit it serves at /version and the build args that make it what it is. */
export interface SampleVersion {
  sha: string;
  /** e.g. ['HEALTH=fail'] (its /health answers 404) or ['ERRORS=80'] (500 to 80 % of /cgi-bin/api). */
  buildArgs?: string[];
}

/**
 * Builds each variant of the sample app, pushes it to the sandbox registry as `<repository>:sha-<commit>` and
 * returns the digests by name. Logs the engine in first.
 */
export async function pushSampleVersions<Name extends string>(
  sandbox: Sandbox,
  repository: string,
  versions: Record<Name, SampleVersion>,
): Promise<Record<Name, string>> {
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  const digests = {} as Record<Name, string>;
  for (const [name, version] of Object.entries(versions) as [Name, SampleVersion][]) {
    const tag = `${host}/${repository}:sha-${version.sha}`;
    const args = [`VERSION=${version.sha}`, ...(version.buildArgs ?? [])].flatMap((arg) => ['--build-arg', arg]);
    // --no-cache: podman's cache ignores a changed --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', tag, ...args, context], sandbox.env());
    await docker(['push', tag], sandbox.env());
    digests[name] = (await sandbox.registry.client.manifest(repository, `sha-${version.sha}`))!.digest;
  }
  return digests;
}
