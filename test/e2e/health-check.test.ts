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
});
