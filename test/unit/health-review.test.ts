import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeClock } from '../../src/core/clock';
import { HealthCheckError, waitUntilHealthy } from '../../src/core/health';
import { captureLogger } from '../../src/core/logger';

let server: Server;
let origin: string;

beforeAll(async () => {
  // A staging site behind basic auth: the health URL carries the credentials (https://user:password@host/health).
  server = createServer((req, res) => {
    const expected = `Basic ${Buffer.from('deploy:s3cret-pw').toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401).end('who are you');
      return;
    }
    if (req.url === '/old') {
      res.writeHead(302, { location: '/health' }).end();
      return;
    }
    res.writeHead(req.url === '/broken' ? 500 : 200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const fast = { intervalMs: 1_000, timeoutMs: 5_000, requestTimeoutMs: 2_000, consecutiveSuccesses: 1 };

describe('health check of a URL with credentials in it', () => {
  it('still sends them, but never shows the password in a log line or the result', async () => {
    const logger = captureLogger();
    const result = await waitUntilHealthy({
      url: `http://deploy:s3cret-pw@${origin}/old`,
      ...fast,
      clock: new FakeClock(),
      logger,
    });
    expect(result.healthy).toBe(true);
    expect(logger.lines.join('\n')).toContain(origin);
    expect(logger.lines.join('\n')).not.toContain('s3cret-pw');
    expect(JSON.stringify(result)).not.toContain('s3cret-pw');
  });

  it('keeps the password out of the failure message (which reaches the record, the summary and the PR comment)', async () => {
    const logger = captureLogger();
    const error = await waitUntilHealthy({
      url: `http://deploy:s3cret-pw@${origin}/broken`,
      ...fast,
      clock: new FakeClock(),
      logger,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HealthCheckError);
    const failure = error as HealthCheckError;
    expect(failure.message).toContain(`${origin}/broken`);
    expect(failure.message).not.toContain('s3cret-pw');
    expect(JSON.stringify(failure.result)).not.toContain('s3cret-pw');
    expect(logger.lines.join('\n')).not.toContain('s3cret-pw');
  });
});
