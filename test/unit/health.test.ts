import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHealthInputs } from '../../src/actions/health-check/inputs';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { HealthCheckError, probeOnce, waitUntilHealthy } from '../../src/core/health';
import { captureLogger } from '../../src/core/logger';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers with the listed [status, body] pairs in turn, repeating the last. */
function sequence(answers: [number, string][]): Handler {
  let i = 0;
  return (_req, res) => {
    const [status, body] = answers[Math.min(i++, answers.length - 1)] ?? [500, ''];
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** Sends the headers, then one byte every 50 ms for as long as the client listens: never idle, never done. */
const trickle: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('.'), 50);
  res.on('close', () => clearInterval(timer));
};

/** Sends `prefix`, then 1 MiB chunks for as long as the client reads: a body far larger than any health answer. */
function huge(prefix: string): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(prefix);
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let sent = 0;
    const more = () => {
      while (!res.destroyed && sent < 1024) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
}

const fast = { intervalMs: 1_000, timeoutMs: 60_000, requestTimeoutMs: 2_000 };

describe('waitUntilHealthy', () => {
  it('needs the healthy answers in a row: a failure in between starts the count again', async () => {
    const url = await serve(
      sequence([
        [500, 'starting'],
        [200, 'v2\n'],
        [200, 'v2\n'],
        [503, 'blip'],
        [200, 'v2\n'],
        [200, 'v2\n'],
        [200, 'v2\n'],
      ]),
    );
    const logger = captureLogger();
    const result = await waitUntilHealthy({ url, ...fast, consecutiveSuccesses: 3, clock: new FakeClock(), logger });
    expect(result).toMatchObject({ healthy: true, attempts: 7, lastStatus: 200 });
    expect(logger.lines).toContainEqual(expect.stringContaining('HTTP 503 "blip"'));
  });

  it('fails with the last answer (status and first 200 bytes) when the expected version never shows', async () => {
    const url = await serve(sequence([[200, `v1 ${'x'.repeat(400)}`]]));
    const clock = new FakeClock();
    const error = await waitUntilHealthy({ url, ...fast, expectedVersion: 'v2', clock }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HealthCheckError);
    const failure = error as HealthCheckError;
    expect(failure.message).toMatch(/Last response: HTTP 200 "v1 x+" \(the body does not contain the version v2\)/);
    expect(failure.message).toContain(`"v1 ${'x'.repeat(197)}"`);
    // The last look starts at 59s: one at 60s would be cut at once by the deadline.
    expect(failure.result).toMatchObject({ healthy: false, lastStatus: 200, durationMs: 59_000 });
    expect(failure.result.attempts).toBeGreaterThan(10);
  });

  it('checks the body against expected-body', async () => {
    const url = await serve(sequence([[200, '{"status":"degraded"}']]));
    await expect(
      waitUntilHealthy({ url, ...fast, timeoutMs: 3_000, expectedBody: /"status":"ok"/, clock: new FakeClock() }),
    ).rejects.toThrow(/does not match/);
  });

  it('refuses at once a redirect to another host', async () => {
    const elsewhere = await serve(sequence([[200, 'phishing']]));
    const url = await serve((_req, res) => {
      res.writeHead(302, { location: elsewhere.replace('127.0.0.1', 'localhost') });
      res.end();
    });
    const error = (await waitUntilHealthy({ url, ...fast, clock: new FakeClock() }).catch(
      (e: unknown) => e,
    )) as HealthCheckError;
    expect(error).toBeInstanceOf(HealthCheckError);
    expect(error.message).toMatch(/redirected \(HTTP 302\) to another host, localhost:\d+/);
    expect(error.result.attempts).toBe(1);
  });

  it('follows a redirect on the same host and says so', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/health') {
        res.writeHead(301, { location: '/healthz' });
        res.end();
      } else {
        res.writeHead(200);
        res.end('ok');
      }
    });
    const logger = captureLogger();
    const result = await waitUntilHealthy({
      url: `${url}/health`,
      ...fast,
      consecutiveSuccesses: 1,
      clock: new FakeClock(),
      logger,
    });
    expect(result.healthy).toBe(true);
    expect(logger.lines).toContainEqual(expect.stringContaining('Following a same-host redirect (HTTP 301)'));
  });
});

describe('probeOnce', () => {
  it('reports a refused connection as no HTTP answer', async () => {
    const url = await serve(sequence([[200, 'ok']]));
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const answer = await probeOnce({ url, requestTimeoutMs: 2_000 });
    expect(answer).toMatchObject({ ok: false, body: '' });
    expect(answer.status).toBeUndefined();
    expect(answer.problem).toMatch(/ECONNREFUSED/);
  });

  it('gives up on a request that does not answer within the request timeout', async () => {
    const url = await serve(() => undefined);
    const answer = await probeOnce({ url, requestTimeoutMs: 200 });
    expect(answer.problem).toMatch(/no answer within/);
  });
});

describe('a health check that always ends', () => {
  it('cuts a response that trickles in, however busy the socket stays', async () => {
    const url = await serve(trickle);
    const answer = await probeOnce({ url, requestTimeoutMs: 300 });
    expect(answer.ok).toBe(false);
    expect(answer.problem).toBe('no complete answer within 300ms');
  });

  it('ends the whole check at its deadline even when one request is allowed longer than the check', async () => {
    const url = await serve(trickle);
    const check = waitUntilHealthy({ url, intervalMs: 50, timeoutMs: 300, requestTimeoutMs: 600_000 });
    await expect(check).rejects.toBeInstanceOf(HealthCheckError);
    await expect(check).rejects.toThrow(/no 3 healthy answers in a row within 300ms/);
  });

  it('reads at most 64 KiB of a huge body: a version within it is found, and the probe ends', async () => {
    const url = await serve(huge('version abc123 '));
    const answer = await probeOnce({ url, requestTimeoutMs: 60_000, expectedVersion: 'abc123' });
    expect(answer).toMatchObject({ ok: true, status: 200 });
    expect(answer.body).toHaveLength(200);
  });

  it('does not look for the version past the first 64 KiB', async () => {
    const url = await serve(huge(`${'-'.repeat(64 * 1024)}abc123`));
    const answer = await probeOnce({ url, requestTimeoutMs: 60_000, expectedVersion: 'abc123' });
    expect(answer).toMatchObject({ ok: false, status: 200 });
    expect(answer.problem).toMatch(/does not contain the version abc123/);
  });
});

describe('parseHealthInputs', () => {
  const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

  it('applies the documented defaults', () => {
    expect(parseHealthInputs(reader({ url: 'https://example.com/version' }))).toEqual({
      url: 'https://example.com/version',
      expectedStatus: 200,
      consecutiveSuccesses: 3,
      intervalMs: 5_000,
      timeoutMs: 300_000,
      requestTimeoutMs: 10_000,
    });
  });

  it.each([
    [{ url: 'example.com/health' }, 'url'],
    [{ url: 'ftp://example.com' }, 'url'],
    [{ url: 'https://example.com', 'expected-body': '(' }, 'expected-body'],
    [{ url: 'https://example.com', 'expected-status': '2000' }, 'expected-status'],
    [{ url: 'https://example.com', 'consecutive-successes': '0' }, 'consecutive-successes'],
  ])('refuses %j naming %s', (inputs, input) => {
    let error: unknown;
    try {
      parseHealthInputs(reader(inputs));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
  });
});
