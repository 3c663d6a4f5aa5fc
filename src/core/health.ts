import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from './clock';
import { systemClock } from './clock';
import { DeployError } from './errors';
import { type Logger, silentLogger } from './logger';
import { formatDuration, PollTimeoutError, poll } from './poller';
import { proxyAgents } from './proxy';
import { redactUrl } from './redact';

/** What a healthy answer looks like, and how long to keep asking. */
export interface HealthCheckOptions {
  url: string;
  expectedStatus?: number;
  /** A regular expression the body must match. */
  expectedBody?: RegExp;
  /** A string the body must contain (e.g. the commit SHA served at /version). */
  expectedVersion?: string;
  /** Healthy answers in a row needed; one bad answer starts the count again. */
  consecutiveSuccesses?: number;
  intervalMs?: number;
  timeoutMs?: number;
  requestTimeoutMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  logger?: Logger;
}

/** One answer (or the lack of one). */
export interface ProbeResponse {
  ok: boolean;
  /** HTTP status; undefined when no answer came (refused, timed out, reset). */
  status?: number;
  /** The first 200 bytes of the body. */
  body: string;
  /** Why the answer is not healthy; undefined when ok. */
  problem?: string;
  /** The URL that answered, after same-host redirects. */
  finalUrl: string;
}

export interface HealthResult {
  url: string;
  healthy: boolean;
  attempts: number;
  lastStatus?: number;
  /** The last answer seen, for the failure message and the record. */
  last?: ProbeResponse;
  durationMs: number;
}

export class HealthCheckError extends DeployError {
  override readonly name = 'HealthCheckError';
  constructor(
    message: string,
    readonly result: HealthResult,
  ) {
    super(message);
  }
}

export const HEALTH_DEFAULTS = {
  expectedStatus: 200,
  consecutiveSuccesses: 3,
  intervalMs: 5_000,
  timeoutMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
};

const MAX_REDIRECTS = 5;
const BODY_SHOWN = 200;
// Enough of the body to find a version string or match a pattern without reading a whole page into memory.
const BODY_READ = 64 * 1024;

/** A duration for a request budget: a sub-second one (a tiny timeout, the end of the check) is not "0s". */
function formatBudget(ms: number): string {
  return ms > 0 && ms < 1000 ? `${Math.round(ms)}ms` : formatDuration(ms);
}

/** A redirect to another host: never followed, since the answer would not be about the service being checked. */
class ForeignRedirect extends Error {}

/** Describes an answer in one line: `HTTP 404 "Not Found"` or the network error. */
export function describeResponse(response: ProbeResponse | undefined): string {
  if (!response) return 'no answer yet';
  const body = response.body.replace(/\s+/g, ' ').trim();
  const head = response.status === undefined ? 'no HTTP answer' : `HTTP ${response.status}`;
  return `${head}${body ? ` ${JSON.stringify(body)}` : ''}${response.problem ? ` (${response.problem})` : ''}`;
}

/**
 * Asks once, following same-host redirects, and judges the answer. The whole look (every redirect hop, headers and
 * body) ends within the request timeout, or within `look.remainingMs` when the check has less time left than that:
 * the socket's idle timeout alone would let an endpoint that trickles a byte every few seconds hold the check.
 */
export async function probeOnce(
  options: HealthCheckOptions,
  look?: { signal?: AbortSignal; remainingMs?: number },
): Promise<ProbeResponse> {
  const expectedStatus = options.expectedStatus ?? HEALTH_DEFAULTS.expectedStatus;
  const logger = options.logger ?? silentLogger;
  const requestTimeoutMs = options.requestTimeoutMs ?? HEALTH_DEFAULTS.requestTimeoutMs;
  const budgetMs = Math.max(0, Math.min(requestTimeoutMs, look?.remainingMs ?? requestTimeoutMs));
  // Real time: the request runs on real sockets whatever clock the wait uses.
  const endsAt = Date.now() + budgetMs;
  const signal = look?.signal ?? options.signal;
  let url = new URL(options.url);
  for (let hop = 0; ; hop++) {
    let answer: { status: number; body: Buffer; location?: string };
    try {
      answer = await get(url, Math.max(0, endsAt - Date.now()), budgetMs, signal);
    } catch (error) {
      return { ok: false, body: '', problem: (error as Error).message, finalUrl: redactUrl(url.href) };
    }
    const body = answer.body.toString('utf8');
    const shown = answer.body.subarray(0, BODY_SHOWN).toString('utf8');
    const isRedirect = answer.status >= 300 && answer.status < 400 && answer.location !== undefined;
    if (isRedirect && expectedStatus !== answer.status) {
      const target = new URL(answer.location as string, url);
      if (target.hostname !== url.hostname) {
        throw new ForeignRedirect(
          `${redactUrl(url.href)} redirected (HTTP ${answer.status}) to another host, ${target.host}; a health check never ` +
            'follows that, since the answer would not come from the service being checked. Point the URL at ' +
            'the final address.',
        );
      }
      if (hop >= MAX_REDIRECTS) {
        return {
          ok: false,
          status: answer.status,
          body: shown,
          problem: 'too many redirects',
          finalUrl: redactUrl(url.href),
        };
      }
      logger.info(
        `Following a same-host redirect (HTTP ${answer.status}) from ${redactUrl(url.href)} to ${redactUrl(target.href)}`,
      );
      url = target;
      continue;
    }
    const result = { status: answer.status, body: shown, finalUrl: redactUrl(url.href) };
    if (answer.status !== expectedStatus) {
      return { ...result, ok: false, problem: `expected HTTP ${expectedStatus}` };
    }
    if (options.expectedVersion !== undefined && !body.includes(options.expectedVersion)) {
      return { ...result, ok: false, problem: `the body does not contain the version ${options.expectedVersion}` };
    }
    if (options.expectedBody && !options.expectedBody.test(body)) {
      return { ...result, ok: false, problem: `the body does not match /${options.expectedBody.source}/` };
    }
    return { ...result, ok: true };
  }
}

function get(
  url: URL,
  timeoutMs: number,
  budgetMs: number,
  signal: AbortSignal | undefined,
): Promise<{ status: number; body: Buffer; location?: string }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(new Error(`unsupported protocol ${url.protocol}`));
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // Through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY lists the host: a service behind a corporate proxy is reached
  // the way the runner reaches anything else.
  const agents = proxyAgents();
  const agent = agents && (url.protocol === 'https:' ? agents.httpsAgent : agents.httpAgent);
  return new Promise((settle, fail) => {
    let overall: NodeJS.Timeout | undefined;
    const resolve = (value: { status: number; body: Buffer; location?: string }) => {
      clearTimeout(overall);
      settle(value);
    };
    const reject = (error: Error) => {
      clearTimeout(overall);
      fail(error);
    };
    const req = request(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'aws-deploy-kit-health-check', accept: '*/*' },
        timeout: timeoutMs,
        ...(agent ? { agent } : {}),
        ...(signal ? { signal } : {}),
      },
      (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const location = res.headers.location;
          const body = Buffer.concat(chunks).subarray(0, BODY_READ);
          resolve({ status: res.statusCode ?? 0, body, ...(location ? { location } : {}) });
        };
        res.on('data', (chunk: Buffer) => {
          if (size >= BODY_READ) return;
          chunks.push(chunk);
          size += chunk.length;
          if (size >= BODY_READ) {
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', reject);
      },
    );
    // The socket timeout bounds silence; this bounds the whole request, however slowly the answer trickles in.
    let answered = false;
    overall = setTimeout(() => {
      reject(new Error(`${answered ? 'no complete answer' : 'no answer'} within ${formatBudget(budgetMs)}`));
      req.destroy();
    }, timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${formatBudget(budgetMs)}`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code ? `${error.code}: ${error.message}` : error.message)),
    );
    req.end();
  });
}

/**
 * Probes `url` until it answers healthily `consecutiveSuccesses` times in a row, through the shared poller at a
 * fixed interval. Throws a HealthCheckError carrying the last answer when the time is up, or at once when the URL
 * redirects to another host.
 */
export async function waitUntilHealthy(options: HealthCheckOptions): Promise<HealthResult> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const needed = options.consecutiveSuccesses ?? HEALTH_DEFAULTS.consecutiveSuccesses;
  const intervalMs = options.intervalMs ?? HEALTH_DEFAULTS.intervalMs;
  const timeoutMs = options.timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
  const started = clock.now();
  const shownUrl = redactUrl(options.url);
  let attempts = 0;
  let inARow = 0;
  let last: ProbeResponse | undefined;
  const result = (healthy: boolean): HealthResult => ({
    url: shownUrl,
    healthy,
    attempts,
    ...(last?.status !== undefined ? { lastStatus: last.status } : {}),
    ...(last ? { last } : {}),
    durationMs: clock.now() - started,
  });

  logger.info(
    `Checking ${shownUrl}: HTTP ${options.expectedStatus ?? HEALTH_DEFAULTS.expectedStatus}` +
      (options.expectedVersion ? `, body containing ${options.expectedVersion}` : '') +
      (options.expectedBody ? `, body matching /${options.expectedBody.source}/` : '') +
      `, ${needed} time(s) in a row, every ${formatDuration(intervalMs)}, for up to ${formatDuration(timeoutMs)}`,
  );
  try {
    await poll({
      what: `Health check of ${shownUrl}`,
      timeoutMs,
      minDelayMs: intervalMs,
      maxDelayMs: intervalMs,
      lookMs: options.requestTimeoutMs ?? HEALTH_DEFAULTS.requestTimeoutMs,
      clock,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
      check: async (_attempt, look) => {
        attempts++;
        last = await probeOnce({ ...options, logger }, look);
        inARow = last.ok ? inARow + 1 : 0;
        if (inARow >= needed) return { done: true, value: undefined };
        const progress = last.ok ? `healthy (${inARow} of ${needed} in a row)` : describeResponse(last);
        return { done: false, progress };
      },
    });
  } catch (error) {
    if (error instanceof ForeignRedirect) {
      throw new HealthCheckError(`Health check failed: ${error.message}`, result(false));
    }
    if (error instanceof PollTimeoutError) {
      throw new HealthCheckError(
        `Health check of ${shownUrl} failed: no ${needed} healthy answers in a row within ` +
          `${formatBudget(timeoutMs)} (${attempts} attempts). Last response: ${describeResponse(last)}.`,
        result(false),
      );
    }
    throw error;
  }
  const done = result(true);
  logger.info(`${shownUrl} is healthy: ${needed} good answers in a row after ${attempts} attempt(s)`);
  return done;
}
