// Watching an instance refresh: how many DescribeInstanceRefreshes calls the refresh-asg wait makes, and how late it
// notices the end, on a simulated clock (no sleeping). Target: for a 5-minute refresh, at most 40 calls and at most
// 10 s late. Also refreshes of other lengths, and one with a minute of throttling in the middle.
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { FakeClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { waitForRefresh } from '../src/targets/asg/refresh';
import type { Bench, BenchContext, BenchReport } from './lib';
import { measureWaits, TARGET_CALLS, TARGET_LATE_MS, WAIT_COLUMNS } from './waits';

interface Scenario {
  name: string;
  durationMs: number;
  /** A window of throttled answers (HTTP 429), relative to the start. */
  throttled?: [number, number];
}

const SCENARIOS: Scenario[] = [
  { name: '1-minute refresh', durationMs: 60_000 },
  { name: '5-minute refresh', durationMs: 300_000 },
  { name: '5-minute refresh, throttled 60 s', durationMs: 300_000, throttled: [120_000, 180_000] },
  { name: '15-minute refresh', durationMs: 900_000 },
  { name: '30-minute refresh', durationMs: 1_800_000 },
];

/** A stand-in client whose refresh progresses with the simulated clock. */
function simulatedClient(clock: FakeClock, scenario: Scenario, counter: { calls: number }): AutoScalingClient {
  return {
    send: async () => {
      counter.calls++;
      const t = clock.now();
      if (scenario.throttled && t >= scenario.throttled[0] && t < scenario.throttled[1]) {
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'Throttling',
          $metadata: { httpStatusCode: 429 },
        });
      }
      const done = t >= scenario.durationMs;
      const percentage = Math.min(100, Math.floor((t / scenario.durationMs) * 100));
      return {
        InstanceRefreshes: [
          {
            InstanceRefreshId: 'r-1',
            Status: done ? 'Successful' : t < 10_000 ? 'Pending' : 'InProgress',
            PercentageComplete: done ? 100 : percentage,
            InstancesToUpdate: done ? 0 : Math.ceil(((100 - percentage) / 100) * 4),
          },
        ],
      };
    },
  } as unknown as AutoScalingClient;
}

async function once(scenario: Scenario): Promise<{ calls: number; lateMs: number }> {
  const clock = new FakeClock();
  const counter = { calls: 0 };
  await waitForRefresh(
    { autoscaling: simulatedClient(clock, scenario, counter), clock, logger: silentLogger },
    'web-asg',
    'r-1',
    { timeoutMs: 2 * 3_600_000 },
  );
  return { calls: counter.calls, lateMs: clock.now() - scenario.durationMs };
}

export const bench: Bench = {
  name: 'asg-polling',
  description: 'API calls and detection delay of the instance-refresh wait (simulated clock)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const { rows, data, meets } = await measureWaits(ctx, SCENARIOS, once, '5-minute refresh');
    return {
      title: 'Instance refresh wait: DescribeInstanceRefreshes calls and how late the end is noticed',
      columns: WAIT_COLUMNS,
      rows,
      notes: [
        `target for a 5-minute refresh: <= ${TARGET_CALLS} calls and <= ${TARGET_LATE_MS / 1000} s late: ${meets ? 'met' : 'NOT MET'}`,
        'delays: first look at once, then 2 s doubling to 10 s, jittered downwards only; a throttled look waits 10 s',
      ],
      data,
    };
  },
};
