import type { BenchContext } from './lib';

/** Shared by the wait benches: the target for a 5-minute operation. */
export const TARGET_CALLS = 40;
export const TARGET_LATE_MS = 10_000;

export interface WaitSample {
  calls: number;
  lateMs: number;
}

/**
 * Runs one simulated wait per scenario many times (the poller jitters its delays, so many runs show the spread) and
 * returns the table rows plus the raw samples, and whether the 5-minute scenario meets the target.
 */
export async function measureWaits<S extends { name: string }>(
  ctx: BenchContext,
  scenarios: readonly S[],
  once: (scenario: S) => Promise<WaitSample>,
  fiveMinuteScenario: string,
): Promise<{
  rows: (string | number)[][];
  data: Record<string, { calls: number[]; lateMs: number[] }>;
  meets: boolean;
}> {
  const rows: (string | number)[][] = [];
  const data: Record<string, { calls: number[]; lateMs: number[] }> = {};
  for (const scenario of scenarios) {
    const samples: WaitSample[] = [];
    for (let i = 0; i < Math.max(ctx.runs, 50); i++) samples.push(await once(scenario));
    const calls = samples.map((s) => s.calls);
    const late = samples.map((s) => s.lateMs);
    data[scenario.name] = { calls, lateMs: late };
    rows.push([
      scenario.name,
      samples.length,
      Math.min(...calls),
      Math.max(...calls),
      (Math.max(...late) / 1000).toFixed(1),
      (late.reduce((a, b) => a + b, 0) / late.length / 1000).toFixed(1),
    ]);
  }
  const five = data[fiveMinuteScenario];
  const meets = !!five && Math.max(...five.calls) <= TARGET_CALLS && Math.max(...five.lateMs) <= TARGET_LATE_MS;
  return { rows, data, meets };
}

export const WAIT_COLUMNS = ['scenario', 'runs', 'calls min', 'calls max', 'late max (s)', 'late mean (s)'];
