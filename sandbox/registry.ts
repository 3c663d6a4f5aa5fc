import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './ports';
import { RegistryClient } from './registry-client';

const run = promisify(execFile);

export interface SandboxRegistry {
  /** host:port, as in image references: 127.0.0.1:PORT */
  host: string;
  user: string;
  password: string;
  /** PEM of the per-run self-signed certificate. */
  ca: string;
  caFile: string;
  /** Where the registry keeps its files (tags can be removed here: registry 2.8 has no tag-delete API). */
  storageDir: string;
  client: RegistryClient;
  stop(): Promise<void>;
}

/**
 * Debian's docker-registry (distribution 2.8) on a free loopback port: HTTPS with a certificate made for this run and
 * htpasswd basic auth with user AWS and a random password, as ECR's data plane is.
 */
export async function startRegistry(dir: string): Promise<SandboxRegistry> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const password = randomBytes(18).toString('base64url');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const storageDir = join(dir, 'storage');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  const { stdout: htpasswd } = await run('htpasswd', ['-Bbn', 'AWS', password]);
  await writeFile(join(dir, 'htpasswd'), htpasswd);
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    '  tls:',
    `    certificate: ${certFile}`,
    `    key: ${keyFile}`,
    'auth:',
    '  htpasswd:',
    '    realm: sandbox-ecr',
    `    path: ${join(dir, 'htpasswd')}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);

  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`docker-registry did not start: ${(error as Error).message}\n${stderr}`);
  }
  const ca = await readFile(certFile, 'utf8');
  return {
    host,
    user: 'AWS',
    password,
    ca,
    caFile: certFile,
    storageDir,
    client: new RegistryClient(host, { user: 'AWS', password }, ca),
    async stop() {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
