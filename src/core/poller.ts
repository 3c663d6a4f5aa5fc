import { type Clock, systemClock } from './clock';
import { awsErrorName, DeployError } from './errors';
import { type Logger, silentLogger } from './logger';

/** What one look at the thing being waited for found. */
export type PollOutcome<T> = { done: true; value: T } | { done: false; progress?: string };

/** How often a wait looks, after its immediate first look. */
export interface PollDelays {
  /** First delay; later delays double up to maxDelayMs. */
  minDelayMs: number;
  /** Cap on one delay: bounds how late the end of an operation is noticed. */
  maxDelayMs: number;
}

/** 2 s doubling up to 10 s: at most 10 s late, about 32 looks for a 5-minute wait. */
export const DEFAULT_POLL_DELAYS: Readonly<PollDelays> = { minDelayMs: 2_000, maxDelayMs: 10_000 };

/** The delays are DEFAULT_POLL_DELAYS unless set. */
export interface PollOptions<T> extends Partial<PollDelays> {
  /** Said in progress lines and errors: "App Runner operation 5f0c…". */
  what: string;
  /**
   * One look. `look.signal` aborts when the wait's deadline passes (or the job is cancelled) and `look.remainingMs`
   * is the time left: a check that makes a request should bound it by both, since the poller stops waiting for a
   * look at the deadline whether or not the look notices.
   */
  check: (attempt: number, look: LookContext) => Promise<PollOutcome<T>>;
  /** Give up this long after the first look. */
  timeoutMs: number;
  /**
   * How long one look may take at most (e.g. an HTTP request timeout). The last look starts this long before the
   * deadline when there is room, so that it can finish instead of being cut short.
   */
  lookMs?: number;
  /** Consecutive transient errors (throttling, 5xx, resets) tolerated before giving up. */
  maxTransientErrors?: number;
  clock?: Clock;
  signal?: AbortSignal;
  logger?: Logger;
  random?: () => number;
}

/** What a look gets from the poller. */
export interface LookContext {
  /** Aborts at the wait's deadline, or when the job is cancelled. */
  signal: AbortSignal;
  /** Time left before the deadline when the look starts (never negative). */
  remainingMs: number;
}

export class PollTimeoutError extends DeployError {
  override readonly name = 'PollTimeoutError';
  constructor(
    what: string,
    timeoutMs: number,
    readonly lastProgress: string | undefined,
  ) {
    super(
      `Gave up waiting for ${what} after ${formatDuration(timeoutMs)}` +
        (lastProgress ? `; last seen: ${lastProgress}` : '') +
        '. Raise timeout-minutes if this is expected to take longer.',
    );
  }
}

const transientNames = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ResourceContention',
  'ResourceContentionFault',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServiceError',
  'InternalServiceErrorException',
  'ServerException',
  'TimeoutError',
  'RequestTimeout',
]);

const transientCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Whether an error is worth another look later (the SDK already retried it a few times). */
export function isTransientError(error: unknown): boolean {
  // An AWS error wrapped with what was being done (withContext) is as transient as the error it wraps.
  if (error instanceof DeployError && error.cause !== undefined) return isTransientError(error.cause);
  const name = awsErrorName(error);
  if (name && transientNames.has(name)) return true;
  const e = error as { $metadata?: { httpStatusCode?: number }; code?: string; $retryable?: unknown };
  if (e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && (status === 429 || status >= 500)) return true;
  return typeof e?.code === 'string' && transientCodes.has(e.code);
}

/**
 * The one poller for every wait (App Runner operations, instance refreshes, HTTP health): an immediate first look,
 * then jittered exponential delays between minDelayMs and maxDelayMs, a deadline, a progress line whenever what is
 * seen changes, and abort on cancellation. Transient errors widen the delay instead of failing the wait.
 */
export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const minDelay = options.minDelayMs ?? DEFAULT_POLL_DELAYS.minDelayMs;
  const maxDelay = Math.max(minDelay, options.maxDelayMs ?? DEFAULT_POLL_DELAYS.maxDelayMs);
  const maxTransient = options.maxTransientErrors ?? 8;
  const started = clock.now();
  const deadline = started + options.timeoutMs;

  let lastProgress: string | undefined;
  let transientInARow = 0;
  for (let attempt = 1; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason;
    let backoff = false;
    try {
      const outcome = await lookWithinDeadline(options, attempt, Math.max(0, deadline - clock.now()), lastProgress);
      transientInARow = 0;
      if (outcome.done) return outcome.value;
      if (outcome.progress !== undefined && outcome.progress !== lastProgress) {
        lastProgress = outcome.progress;
        logger.info(`${options.what}: ${outcome.progress} (${formatDuration(clock.now() - started)} elapsed)`);
      }
    } catch (error) {
      if (!isTransientError(error) || ++transientInARow > maxTransient) throw error;
      backoff = true;
      logger.warning(`${options.what}: ${(error as Error).message}; looking again shortly`);
    }

    const exponential = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt - 1, 30));
    // Jitter only downwards, so maxDelay stays a hard bound on how late the end is noticed.
    let delay = backoff ? maxDelay : Math.max(minDelay, exponential * (0.8 + 0.2 * random()));
    const remaining = deadline - clock.now();
    if (remaining <= 0) throw new PollTimeoutError(options.what, options.timeoutMs, lastProgress);
    const lookMs = options.lookMs ?? 0;
    if (lookMs <= 0) {
      // One last look exactly at the deadline rather than giving up early.
      delay = Math.min(delay, remaining);
    } else if (delay > remaining - lookMs) {
      // A look takes time, and is cut at the deadline: the last one starts early enough to finish when there is
      // room, and none starts at the deadline itself, where it would have no time at all.
      if (remaining > lookMs) delay = remaining - lookMs;
      else if (delay >= remaining) throw new PollTimeoutError(options.what, options.timeoutMs, lastProgress);
    }
    await clock.sleep(Math.round(delay), options.signal);
  }
}

/**
 * Runs one look, but waits for it only until the deadline: a look that hangs (a response trickling a byte at a time,
 * a call that never returns) cannot hold the wait, and the deploy, past timeout-minutes. The look's signal aborts
 * then so that it can stop its request.
 */
async function lookWithinDeadline<T>(
  options: PollOptions<T>,
  attempt: number,
  remainingMs: number,
  lastProgress: string | undefined,
): Promise<PollOutcome<T>> {
  const deadline = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<never>((_resolve, reject) => {
    onAbort = () =>
      reject(
        options.signal?.aborted
          ? options.signal.reason
          : new PollTimeoutError(options.what, options.timeoutMs, lastProgress),
      );
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Real time, whatever the clock: the look itself (a socket, an SDK call) runs in real time.
  const timer = setTimeout(() => deadline.abort(), remainingMs);
  try {
    return await Promise.race([options.check(attempt, { signal, remainingMs }), cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest === 0 ? `${minutes}m` : `${minutes}m${String(rest).padStart(2, '0')}s`;
}
