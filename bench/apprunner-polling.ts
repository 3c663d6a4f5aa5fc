// Watching an App Runner deployment: how many App Runner API calls deploy-apprunner makes (DescribeService,
// UpdateService, ListOperations) and how late it notices the end of its operation, on a simulated clock. Target: for
// a 5-minute operation, at most 40 calls and at most 10 s late. Also operations of other lengths, one whose own
// operation sits on page 2 of ListOperations, and one with a minute of throttling in the middle.
import {
  type AppRunnerClient,
  DescribeServiceCommand,
  ListOperationsCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { FakeClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { newRecord } from '../src/core/record';
import { deployAppRunner } from '../src/targets/apprunner/deploy';
import type { Bench, BenchContext, BenchReport } from './lib';
import { measureWaits, TARGET_CALLS, TARGET_LATE_MS, WAIT_COLUMNS } from './waits';

const ARN = 'arn:aws:apprunner:us-east-1:123456789012:service/web-app/0123456789abcdef0123456789abcdef';
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const OLD = `${REGISTRY}/web@sha256:${'a'.repeat(64)}`;
const NEW = `${REGISTRY}/web@sha256:${'b'.repeat(64)}`;
const OP = '11111111-2222-3333-4444-555555555555';

interface Scenario {
  name: string;
  durationMs: number;
  /** Newer operations listed before ours (another service's automation, say): 20 puts ours on page 2. */
  newerOperations?: number;
  /** A window of throttled answers (HTTP 429), relative to the start. */
  throttled?: [number, number];
}

const SCENARIOS: Scenario[] = [
  { name: '1-minute operation', durationMs: 60_000 },
  { name: '5-minute operation', durationMs: 300_000 },
  { name: '5-minute operation, own id on page 2', durationMs: 300_000, newerOperations: 20 },
  { name: '5-minute operation, throttled 60 s', durationMs: 300_000, throttled: [120_000, 180_000] },
  { name: '15-minute operation', durationMs: 900_000 },
];

/** A stand-in client: the operation started by UpdateService progresses with the simulated clock. */
function simulatedClient(clock: FakeClock, scenario: Scenario, counter: { calls: number }): AppRunnerClient {
  let startedAt = 0;
  return {
    send: async (command: unknown) => {
      counter.calls++;
      const t = clock.now();
      if (scenario.throttled && t >= scenario.throttled[0] && t < scenario.throttled[1]) {
        throw Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 429 },
        });
      }
      if (command instanceof DescribeServiceCommand) {
        return {
          Service: {
            ServiceArn: ARN,
            ServiceName: 'web-app',
            ServiceUrl: 'abc.us-east-1.awsapprunner.com',
            Status: 'RUNNING',
            SourceConfiguration: { ImageRepository: { ImageIdentifier: OLD, ImageRepositoryType: 'ECR' } },
          },
        };
      }
      if (command instanceof UpdateServiceCommand) {
        startedAt = t;
        return { OperationId: OP };
      }
      if (command instanceof ListOperationsCommand) {
        const elapsed = t - startedAt;
        const ours = {
          Id: OP,
          Type: 'UPDATE_SERVICE',
          Status: elapsed >= scenario.durationMs ? 'SUCCEEDED' : elapsed < 10_000 ? 'PENDING' : 'IN_PROGRESS',
        };
        const newer = Array.from({ length: scenario.newerOperations ?? 0 }, (_, i) => ({
          Id: `newer-${i}`,
          Type: 'START_DEPLOYMENT',
          Status: 'SUCCEEDED',
        }));
        const all = [...newer, ours];
        const start = command.input.NextToken ? Number(command.input.NextToken) : 0;
        const size = command.input.MaxResults ?? 20;
        const page = all.slice(start, start + size);
        return {
          OperationSummaryList: page,
          ...(start + size < all.length ? { NextToken: String(start + size) } : {}),
        };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  } as unknown as AppRunnerClient;
}

async function once(scenario: Scenario): Promise<{ calls: number; lateMs: number }> {
  const clock = new FakeClock();
  const counter = { calls: 0 };
  const result = await deployAppRunner(
    { client: simulatedClient(clock, scenario, counter), clock, logger: silentLogger },
    {
      serviceArn: ARN,
      image: NEW,
      timeoutMs: 3_600_000,
      onBusy: 'wait',
      wait: true,
      record: newRecord('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'),
    },
  );
  if (result.failure) throw result.failure;
  // UpdateService ran at t = 0 of the simulated clock, so the operation ended at durationMs.
  return { calls: counter.calls, lateMs: clock.now() - scenario.durationMs };
}

export const bench: Bench = {
  name: 'apprunner-polling',
  description: 'App Runner API calls and detection delay of the deploy-apprunner wait (simulated clock)',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const { rows, data, meets } = await measureWaits(ctx, SCENARIOS, once, '5-minute operation');
    return {
      title: 'App Runner deploy wait: API calls (DescribeService + UpdateService + ListOperations) and lateness',
      columns: WAIT_COLUMNS,
      rows,
      notes: [
        `target for a 5-minute operation: <= ${TARGET_CALLS} calls and <= ${TARGET_LATE_MS / 1000} s late: ${meets ? 'met' : 'NOT MET'}`,
        'for comparison, polling every 1 s (awslabs/amazon-app-runner-deploy) makes ~300 calls for 5 minutes',
        'delays: first look at once, then 2 s doubling to 10 s, jittered downwards only; a throttled look waits 10 s',
      ],
      data,
    };
  },
};
