import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SandboxEngine {
  /** unix:///…/podman.sock: what DOCKER_HOST is set to for the docker CLI. */
  dockerHost: string;
  /** A DOCKER_CONFIG directory of this run, so `docker login` never touches ~/.docker. */
  dockerConfig: string;
  /** The environment for running the docker CLI against this engine. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const CERTS_D = '/etc/containers/certs.d';

/**
 * Podman's Docker-compatible API service (vfs storage, files under `dir`), driven by the real docker CLI through
 * DOCKER_HOST. Podman's `docker login` ignores registries.conf's `insecure` and pings over HTTPS, so the registry's
 * CA goes to /etc/containers/certs.d/<host:port>/ca.crt while the engine runs, and is removed when it stops.
 */
export async function startEngine(dir: string, registry: { host: string; ca: string }): Promise<SandboxEngine> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'podman.sock');
  const dockerConfig = join(dir, 'docker-config');
  await mkdir(dockerConfig, { recursive: true });
  const certDir = join(CERTS_D, registry.host);
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'ca.crt'), registry.ca);

  const child: ChildProcess = spawn(
    'podman',
    [
      '--storage-driver',
      'vfs',
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'runroot'),
      '--tmpdir',
      join(dir, 'tmp'),
      'system',
      'service',
      '--time=0',
      `unix://${socket}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: join(dir, 'tmp') } },
  );
  await mkdir(join(dir, 'tmp'), { recursive: true });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const dockerHost = `unix://${socket}`;
  const env = { DOCKER_HOST: dockerHost, DOCKER_CONFIG: dockerConfig };
  await waitForEngine(env, () => stderr);

  return {
    dockerHost,
    dockerConfig,
    env,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      });
      await rm(certDir, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

async function waitForEngine(env: Record<string, string>, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = spawn('docker', ['version', '--format', '{{.Server.Version}}'], {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      probe.on('exit', (code) => resolve(code === 0));
      probe.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`podman system service did not answer within 30 s:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
