import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { clientSettings } from '../../src/aws/clients';
import { probeOnce } from '../../src/core/health';
import { describeProxy } from '../../src/core/proxy';

// A real forward proxy, as a runner in a locked-down network has: it forwards absolute-URI requests to the one local
// service whatever host they name (so a name that resolves nowhere, such as web.test, only answers through it), and
// refuses CONNECT tunnels after noting them (there is no TLS endpoint to reach here).
interface TestProxy {
  url: string;
  seen: string[];
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

const VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'];
const saved = new Map<string, string | undefined>();
let service: Server;
let servicePort: number;
let proxy: TestProxy;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function startProxy(): Promise<TestProxy> {
  const seen: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    authorizations.push(req.headers['proxy-authorization']);
    const target = new URL(req.url ?? '/');
    const upstream = request(
      { host: '127.0.0.1', port: servicePort, method: req.method, path: target.pathname, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, socket) => {
    seen.push(`CONNECT ${req.url}`);
    authorizations.push(req.headers['proxy-authorization']);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, seen, authorizations, close: () => close(server) };
}

beforeAll(async () => {
  // The deployed service and an ECR API endpoint in one.
  service = createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ repositories: [{ repositoryName: 'web', repositoryUri: 'registry.test/web' }] }));
      return;
    }
    res.end('ok a1b2c3d');
  });
  servicePort = await listen(service);
});

afterAll(async () => {
  await close(service);
});

beforeEach(async () => {
  for (const name of VARIABLES) {
    saved.set(name, process.env[name]);
    delete process.env[name];
  }
  proxy = await startProxy();
});

afterEach(async () => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await proxy.close();
});

function ecr(endpoint?: string): ECRClient {
  return new ECRClient({
    ...clientSettings('us-east-1', { AWS_MAX_ATTEMPTS: '1' }),
    ...(endpoint ? { endpoint } : {}),
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
}

describe('HTTP(S) proxy from the environment', () => {
  it('sends the health probe through HTTP_PROXY: a host only the proxy can reach answers', async () => {
    process.env.HTTP_PROXY = proxy.url;
    const url = `http://web.test:${servicePort}/health`;
    const answer = await probeOnce({ url, expectedVersion: 'a1b2c3d' });
    expect(answer).toMatchObject({ ok: true, status: 200 });
    expect(proxy.seen).toEqual([`GET ${url}`]);
  });

  it('sends AWS SDK calls through the proxy (an endpoint override as through AWS_ENDPOINT_URL_ECR)', async () => {
    process.env.http_proxy = proxy.url;
    const out = await ecr(`http://ecr.test:${servicePort}`).send(
      new DescribeRepositoriesCommand({ repositoryNames: ['web'] }),
    );
    expect(out.repositories?.[0]?.repositoryUri).toBe('registry.test/web');
    expect(proxy.seen).toEqual([`POST http://ecr.test:${servicePort}/`]);
  });

  it("tunnels HTTPS with CONNECT: AWS's own endpoint and an https health URL", async () => {
    process.env.HTTPS_PROXY = proxy.url;
    await expect(ecr().send(new DescribeRepositoriesCommand({}))).rejects.toThrow();
    const answer = await probeOnce({ url: 'https://web.test/health' });
    expect(answer.ok).toBe(false);
    expect(proxy.seen).toEqual(['CONNECT api.ecr.us-east-1.amazonaws.com:443', 'CONNECT web.test:443']);
  });

  it('sends the credentials in the proxy URL to the proxy and never logs them', async () => {
    process.env.HTTP_PROXY = proxy.url.replace('http://', 'http://deploy:s3cr%40t@');
    process.env.NO_PROXY = '.internal';
    await probeOnce({ url: `http://web.test:${servicePort}/health` });
    expect(proxy.authorizations).toEqual([`Basic ${Buffer.from('deploy:s3cr@t').toString('base64')}`]);
    const line = describeProxy();
    expect(line).toBe(
      `Proxy for AWS and health-check requests: https direct, http through http://***@${proxy.url.slice(7)}/ ` +
        '(HTTP_PROXY); direct to loopback addresses and to NO_PROXY (.internal).',
    );
    expect(line).not.toContain('s3cr');
  });

  it('says nothing and changes nothing when no proxy is set', async () => {
    expect(describeProxy()).toBeUndefined();
    expect(clientSettings('us-east-1', {}).requestHandler).toBeUndefined();
    const answer = await probeOnce({ url: `http://127.0.0.1:${servicePort}/health` });
    expect(answer.ok).toBe(true);
    expect(proxy.seen).toEqual([]);
  });

  it.each([
    ['a host and port', (port: number) => `example.com,0.0.0.0:${port}`],
    ['a host', () => 'other.test, 0.0.0.0'],
    ['*', () => '*'],
  ])('goes direct to a host NO_PROXY lists as %s', async (_what, noProxy) => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = noProxy(servicePort);
    // 0.0.0.0 reaches this machine's own listening sockets, without being the loopback address that is always direct.
    const answer = await probeOnce({ url: `http://0.0.0.0:${servicePort}/health` });
    expect(answer.ok).toBe(true);
    const sdk = await ecr(`http://0.0.0.0:${servicePort}`).send(new DescribeRepositoriesCommand({}));
    expect(sdk.repositories).toHaveLength(1);
    expect(proxy.seen).toEqual([]);
  });

  it('goes direct to a host under a NO_PROXY domain suffix, and through the proxy elsewhere', async () => {
    process.env.http_proxy = proxy.url;
    process.env.no_proxy = '.internal';
    // Direct: web.internal resolves nowhere, so the probe fails on the name itself, not at the proxy.
    const direct = await probeOnce({ url: `http://web.internal:${servicePort}/health` });
    expect(direct.ok).toBe(false);
    expect(direct.problem).toMatch(/ENOTFOUND|EAI_AGAIN/);
    const proxied = await probeOnce({ url: `http://web.test:${servicePort}/health` });
    expect(proxied.ok).toBe(true);
    expect(proxy.seen).toEqual([`GET http://web.test:${servicePort}/health`]);
  });

  it('still proxies a host whose NO_PROXY entry names another port', async () => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '0.0.0.0:1';
    const answer = await probeOnce({ url: `http://0.0.0.0:${servicePort}/health` });
    expect(answer.ok).toBe(true);
    expect(proxy.seen).toEqual([`GET http://0.0.0.0:${servicePort}/health`]);
  });
});
