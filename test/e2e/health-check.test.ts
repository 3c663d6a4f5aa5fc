import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runBundle } from '../../sandbox/run-bundle';

// The bundle probes real HTTP servers on loopback; a failing check runs until its (short) timeout.
jest.setTimeout(60_000);

const servers: Server[] = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

describe('health-check bundle', () => {
  it('passes once the version is served the required times in a row', async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.writeHead(hits <= 2 ? 503 : 200);
      res.end(hits <= 2 ? 'warming up' : 'a1b2c3d\n');
    });
    const run = await runBundle('health-check', {
      inputs: {
        url: `${url}/version`,
        'expected-version': 'a1b2c3d',
        'interval-seconds': '0.2',
        'consecutive-successes': '3',
      },
    });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ healthy: 'true', attempts: '5', 'last-status': '200' });
    expect(run.log).toContain('HTTP 503 "warming up"');
  });

  it('fails with the last response when the body never matches', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(500);
      res.end(`{"error":"database unreachable"}${' '.repeat(300)}tail-not-shown`);
    });
    const run = await runBundle('health-check', {
      inputs: { url, 'interval-seconds': '0.5', 'timeout-minutes': '0.05', 'expected-body': 'ok' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(
      /Last response: HTTP 500 "\{\\"error\\":\\"database unreachable\\"\}" \(expected HTTP 200\)/,
    );
    expect(run.errors[0]).not.toContain('tail-not-shown');
    expect(run.outputs).toMatchObject({ healthy: 'false', 'last-status': '500', 'duration-seconds': '3' });
  });

  it('never follows a redirect to another host', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(302, { location: 'http://example.invalid/health' });
      res.end();
    });
    const run = await runBundle('health-check', { inputs: { url } });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/redirected \(HTTP 302\) to another host, example\.invalid/);
    expect(run.outputs).toMatchObject({ healthy: 'false', attempts: '1' });
  });

  it('refuses a URL that is not http(s), naming the input', async () => {
    const run = await runBundle('health-check', { inputs: { url: 'localhost:8080/health' } });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/^Input 'url' has an invalid value "localhost:8080\/health"/);
  });

  it('goes through HTTP_PROXY, says so once with the credentials hidden, and straight to NO_PROXY hosts', async () => {
    const service = await serve((_req, res) => res.end('a1b2c3d'));
    const port = new URL(service).port;
    // A forward proxy that reaches the one local service whatever host a request names: web.test resolves nowhere
    // else, so an answer for it came through the proxy.
    const seen: string[] = [];
    const proxy = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
      fetch(`${service}${new URL(req.url ?? '/').pathname}`)
        .then(async (answer) => {
          res.writeHead(answer.status);
          res.end(await answer.text());
        })
        .catch(() => res.writeHead(502).end());
    });
    const secret = 'pr0xy-pass';
    const run = await runBundle('health-check', {
      inputs: { url: `http://web.test:${port}/version`, 'expected-version': 'a1b2c3d', 'consecutive-successes': '1' },
      env: { HTTP_PROXY: proxy.replace('http://', `http://deploy:${secret}@`), NO_PROXY: '.internal' },
      secrets: [secret],
    });
    expect(run.exitCode).toBe(0);
    expect(seen).toEqual([
      `GET http://web.test:${port}/version Basic ${Buffer.from(`deploy:${secret}`).toString('base64')}`,
    ]);
    const said = run.log.split('\n').filter((line) => line.startsWith('Proxy for AWS and health-check requests'));
    expect(said).toEqual([
      `Proxy for AWS and health-check requests: https direct, http through http://***@${proxy.slice(7)}/ (HTTP_PROXY); ` +
        'direct to loopback addresses and to NO_PROXY (.internal).',
    ]);

    const bypassed = await runBundle('health-check', {
      inputs: { url: `http://web.internal:${port}/version`, 'timeout-minutes': '0.01', 'interval-seconds': '0.2' },
      env: { HTTP_PROXY: proxy, NO_PROXY: '.internal' },
    });
    // Straight to web.internal, which resolves nowhere: the name fails, and the proxy saw nothing more.
    expect(bypassed.exitCode).toBe(1);
    expect(bypassed.errors[0]).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(seen).toHaveLength(1);
  });
});
