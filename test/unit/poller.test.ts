import { FakeClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import { PollTimeoutError, poll } from '../../src/core/poller';

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
}

describe('poll', () => {
  it('looks immediately, then backs off exponentially up to the cap', async () => {
    const clock = new FakeClock();
    const seenAt: number[] = [];
    const value = await poll({
      what: 'op',
      clock,
      timeoutMs: 600_000,
      minDelayMs: 2_000,
      maxDelayMs: 10_000,
      random: () => 1,
      check: async (attempt) => {
        seenAt.push(clock.now());
        return attempt === 6 ? { done: true, value: 'ok' } : { done: false };
      },
    });
    expect(value).toBe('ok');
    expect(seenAt).toEqual([0, 2_000, 6_000, 14_000, 24_000, 34_000]);
  });

  it('notices the end of a 5-minute operation within the max delay and under 40 looks', async () => {
    const clock = new FakeClock();
    let looks = 0;
    const endsAt = 300_000;
    await poll({
      what: 'op',
      clock,
      timeoutMs: 1_800_000,
      check: async () => {
        looks++;
        return clock.now() >= endsAt ? { done: true, value: undefined } : { done: false };
      },
    });
    expect(clock.now() - endsAt).toBeLessThanOrEqual(10_000);
    expect(looks).toBeLessThanOrEqual(40);
  });

  it('prints a progress line only when what it sees changes', async () => {
    const clock = new FakeClock();
    const logger = captureLogger();
    const states = ['PENDING', 'PENDING', 'IN_PROGRESS', 'IN_PROGRESS'];
    await poll({
      what: 'App Runner operation abc',
      clock,
      logger,
      timeoutMs: 60_000,
      check: async (attempt) => {
        const state = states[attempt - 1];
        return state ? { done: false, progress: state } : { done: true, value: 1 };
      },
    });
    expect(logger.lines).toEqual([
      expect.stringMatching(/^App Runner operation abc: PENDING \(0s elapsed\)$/),
      expect.stringMatching(/^App Runner operation abc: IN_PROGRESS \(\d+s elapsed\)$/),
    ]);
  });

  it('fails at the deadline with the last thing it saw', async () => {
    const clock = new FakeClock();
    const error = await poll({
      what: 'instance refresh r-1',
      clock,
      timeoutMs: 30_000,
      check: async () => ({ done: false, progress: 'InProgress, 50% complete' }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollTimeoutError);
    expect((error as Error).message).toContain('instance refresh r-1');
    expect((error as Error).message).toContain('InProgress, 50% complete');
    expect(clock.now()).toBe(30_000);
  });

  it('rides out throttling but not other errors', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const value = await poll({
      what: 'op',
      clock,
      timeoutMs: 600_000,
      check: async () => {
        calls++;
        if (calls <= 3) throw throttled();
        return { done: true, value: calls };
      },
    });
    expect(value).toBe(4);

    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    await expect(
      poll({ what: 'op', clock, timeoutMs: 600_000, check: async () => Promise.reject(denied) }),
    ).rejects.toBe(denied);
  });

  it('stops when the job is cancelled', async () => {
    const controller = new AbortController();
    const clock = new FakeClock();
    const reason = new Error('cancelled');
    const promise = poll({
      what: 'op',
      clock,
      signal: controller.signal,
      timeoutMs: 600_000,
      check: async (attempt) => {
        if (attempt === 2) controller.abort(reason);
        return { done: false };
      },
    });
    await expect(promise).rejects.toBe(reason);
  });

  it('holds its deadline during a look: a look that never returns ends the wait at the deadline', async () => {
    let lookSignal: AbortSignal | undefined;
    const wait = poll({
      what: 'a hanging call',
      timeoutMs: 200,
      check: (_attempt, look) => {
        lookSignal = look.signal;
        return new Promise<never>(() => undefined);
      },
    });
    await expect(wait).rejects.toBeInstanceOf(PollTimeoutError);
    // The look is told, so that it can close its request.
    expect(lookSignal?.aborted).toBe(true);
  });

  it('starts the last look early enough for a whole look when there is room', async () => {
    const clock = new FakeClock();
    const seen: { at: number; remainingMs: number }[] = [];
    await expect(
      poll({
        what: 'op',
        clock,
        timeoutMs: 60_000,
        minDelayMs: 5_000,
        maxDelayMs: 5_000,
        lookMs: 10_000,
        random: () => 1,
        check: async (_attempt, look) => {
          seen.push({ at: clock.now(), remainingMs: look.remainingMs });
          return { done: false };
        },
      }),
    ).rejects.toBeInstanceOf(PollTimeoutError);
    expect(seen).toContainEqual({ at: 50_000, remainingMs: 10_000 });
    // No look at the deadline itself, where it would be cut at once.
    expect(seen.every((look) => look.remainingMs > 0)).toBe(true);
  });
});
