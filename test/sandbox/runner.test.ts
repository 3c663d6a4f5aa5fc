import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { applyLayer, ImageRunner } from '../../sandbox/runner';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';

let sandbox: Sandbox;
let runner: ImageRunner;

beforeAll(async () => {
  sandbox = await startSandbox();
  runner = new ImageRunner(sandbox.registry, join(sandbox.dir, 'runner-test'));
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  await docker(['build', '-t', `${host}/app:v1`, '--build-arg', 'VERSION=v1', context], sandbox.env());
  await docker(['push', `${host}/app:v1`], sandbox.env());
}, 120_000);

afterAll(async () => {
  await runner?.stopAll();
  await sandbox?.stop();
});

/** GET url until it answers (the process may still be binding its port). */
function getText(url: string): Promise<{ status: number; body: string }> {
  return poll({
    what: `GET ${url}`,
    timeoutMs: 10_000,
    minDelayMs: 50,
    maxDelayMs: 200,
    check: async () => {
      try {
        const res = await fetch(url);
        return { done: true, value: { status: res.status, body: (await res.text()).trim() } };
      } catch {
        return { done: false };
      }
    },
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('ImageRunner', () => {
  it('runs two instances of one pushed image, each on its own port, and stopAll ends both', async () => {
    const digest = (await sandbox.registry.client.manifest('app', 'v1'))?.digest;
    const [a, b] = await Promise.all([runner.start('app', 'v1'), runner.start('app', digest ?? 'missing')]);
    expect(a.port).not.toBe(b.port);
    expect(a.digest).toBe(digest);
    expect(b.digest).toBe(digest);

    for (const instance of [a, b]) {
      expect(await getText(`${instance.url}/version`)).toEqual({ status: 200, body: 'v1' });
      expect(await getText(`${instance.url}/health`)).toEqual({ status: 200, body: 'ok' });
    }

    await runner.stopAll();
    expect(await accepts(a.port)).toBe(false);
    expect(await accepts(b.port)).toBe(false);
    expect(a.running).toBe(false);
    expect(() => process.kill(b.pid, 0)).toThrow();
  });

  it('passes extra environment to the process', async () => {
    const instance = await runner.start('app', 'v1', { env: { APP_HEALTH: 'fail' } });
    expect(await getText(`${instance.url}/version`)).toEqual({ status: 200, body: 'v1' });
    expect((await getText(`${instance.url}/health`)).status).toBe(404);
    await instance.stop();
    expect(await accepts(instance.port)).toBe(false);
  });

  it('refuses a reference the registry does not hold', async () => {
    await expect(runner.start('app', 'nope')).rejects.toThrow('No image app:nope in the sandbox registry');
  });
});

describe('applyLayer', () => {
  it('honours whiteouts: .wh.NAME removes NAME, .wh..wh..opq empties its directory', async () => {
    const base = await mkdtemp(join(tmpdir(), 'adk-layer-'));
    const files = async (dir: string, paths: string[]) => {
      for (const path of paths) {
        await mkdir(join(dir, path, '..'), { recursive: true });
        await writeFile(join(dir, path), path);
      }
    };
    await files(join(base, 'lower'), ['etc/keep', 'etc/gone', 'var/old/a', 'var/old/b']);
    await files(join(base, 'upper'), ['etc/.wh.gone', 'etc/new', 'var/old/.wh..wh..opq', 'var/old/c']);
    const root = join(base, 'root');
    await mkdir(root);
    await applyLayer(join(base, 'lower'), root);
    await applyLayer(join(base, 'upper'), root);
    expect((await readdir(join(root, 'etc'))).sort()).toEqual(['keep', 'new']);
    expect(await readdir(join(root, 'var/old'))).toEqual(['c']);
  });
});
