import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, waitForPort } from './ports';

export const MOTO_INSTALL_HINT =
  'The second-opinion test runs moto 5.2.1 (`python3 -m moto.server`): install it with ' +
  "`pip install 'moto[server]==5.2.1'`.";

export interface Moto {
  endpoint: string;
  /** Environment pointing every SDK client (and so the bundles) at moto, with dummy credentials. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts moto's standalone server on a free loopback port: a second opinion on the AWS APIs, written by other people
 * than our emulator. It is not AWS either: sandbox/README.md lists where it differs. Throws (with how to install
 * it) when python3 or moto is missing.
 */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const started = await Promise.race([
    waitForPort(port, 30_000).then(() => 'up' as const),
    exited.then(() => 'exited' as const),
    spawnError.then((e) => e),
  ]).catch((e: unknown) => e as Error);
  if (started !== 'up') {
    child.kill('SIGKILL');
    const why = started instanceof Error ? started.message : `it exited: ${output.trim().split('\n').pop()}`;
    throw new Error(`${MOTO_INSTALL_HINT}\nmoto did not start (${why}).`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAMOTOEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'moto-secret-access-key-do-not-log',
    }),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
