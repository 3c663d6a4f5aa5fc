// Watching an ECS deployment: how many ECS API calls the ECS target makes for a whole deploy (DescribeServices,
// DescribeTaskDefinition, RegisterTaskDefinition, UpdateService, ListServiceDeployments, DescribeServiceRevisions,
// DescribeServiceDeployments) and how late it notices the end of its service deployment, on a simulated clock.
// Target for a 5-minute deployment: at most 40 calls, at most 10 s late. The baseline is what the official
// aws-actions/amazon-ecs-deploy-task-definition waits with: the SDK's waitUntilServicesStable with minDelay 15 s (its
// default maxDelay, 600 s), run for real on virtual time.
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { FakeClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { newRecord } from '../src/core/record';
import { DeploymentTracker, ECS_POLL_DELAYS } from '../src/targets/ecs/deployment';
import { deployService } from '../src/targets/ecs/service-deploy';
import type { Bench, BenchContext, BenchReport } from './lib';
import { measureWaits, TARGET_CALLS, TARGET_LATE_MS, WAIT_COLUMNS } from './waits';

const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const OLD_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:6';
const NEW_TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';
const SERVICE = 'arn:aws:ecs:us-east-1:123456789012:service/prod/web';
const DEPLOYMENT = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc';
const REVISION = 'arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/7';
const IMAGE = {
  uri: `${REGISTRY}/web@sha256:${'b'.repeat(64)}`,
  digest: `sha256:${'b'.repeat(64)}`,
  repository: 'web',
};

interface Scenario {
  name: string;
  durationMs: number;
  /** A window of throttled answers, relative to the start. */
  throttled?: [number, number];
}

const SCENARIOS: Scenario[] = [
  { name: '1-minute deployment', durationMs: 60_000 },
  { name: '5-minute deployment', durationMs: 300_000 },
  { name: '5-minute deployment, throttled 60 s', durationMs: 300_000, throttled: [120_000, 180_000] },
  { name: '15-minute deployment', durationMs: 900_000 },
];

/** A stand-in ECS whose deployment started by UpdateService ends `durationMs` later on the given time. */
function simulatedEcs(now: () => number, scenario: Scenario, counter: { calls: number }): ECSClient {
  let startedAt: number | undefined;
  const done = () => startedAt !== undefined && now() - startedAt >= scenario.durationMs;
  return {
    send: async (command: unknown) => {
      counter.calls++;
      const t = now();
      if (scenario.throttled && startedAt !== undefined) {
        const elapsed = t - startedAt;
        if (elapsed >= scenario.throttled[0] && elapsed < scenario.throttled[1]) {
          throw Object.assign(new Error('Rate exceeded'), {
            name: 'ThrottlingException',
            $metadata: { httpStatusCode: 400 },
          });
        }
      }
      if (command instanceof DescribeServicesCommand) {
        const deploying = startedAt !== undefined && !done();
        return {
          services: [
            {
              serviceArn: SERVICE,
              serviceName: 'web',
              clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod',
              status: 'ACTIVE',
              taskDefinition: startedAt === undefined ? OLD_TD : NEW_TD,
              desiredCount: 3,
              runningCount: 3,
              deploymentController: { type: 'ECS' },
              deployments: deploying
                ? [
                    { status: 'PRIMARY', taskDefinition: NEW_TD, desiredCount: 3, runningCount: 1 },
                    { status: 'ACTIVE', taskDefinition: OLD_TD, desiredCount: 3, runningCount: 3 },
                  ]
                : [
                    {
                      status: 'PRIMARY',
                      taskDefinition: startedAt ? NEW_TD : OLD_TD,
                      desiredCount: 3,
                      runningCount: 3,
                    },
                  ],
            },
          ],
        };
      }
      if (command instanceof DescribeTaskDefinitionCommand) {
        return {
          taskDefinition: {
            taskDefinitionArn: OLD_TD,
            family: 'web',
            revision: 6,
            containerDefinitions: [{ name: 'web', image: `${REGISTRY}/web@sha256:${'a'.repeat(64)}`, essential: true }],
          },
          tags: [],
        };
      }
      if (command instanceof RegisterTaskDefinitionCommand) return { taskDefinition: { taskDefinitionArn: NEW_TD } };
      if (command instanceof UpdateServiceCommand) {
        startedAt = t;
        return { service: { serviceArn: SERVICE } };
      }
      if (command instanceof ListServiceDeploymentsCommand) {
        const active = (command.input.status ?? []).length > 0;
        if (active && (startedAt === undefined || done())) return { serviceDeployments: [] };
        return {
          serviceDeployments:
            startedAt === undefined
              ? []
              : [{ serviceDeploymentArn: DEPLOYMENT, targetServiceRevisionArn: REVISION, status: 'IN_PROGRESS' }],
        };
      }
      if (command instanceof DescribeServiceRevisionsCommand) {
        return { serviceRevisions: [{ serviceRevisionArn: REVISION, taskDefinition: NEW_TD }] };
      }
      if (command instanceof DescribeServiceDeploymentsCommand) {
        const elapsed = t - (startedAt ?? t);
        return {
          serviceDeployments: [
            {
              serviceDeploymentArn: DEPLOYMENT,
              status: done() ? 'SUCCESSFUL' : elapsed < 10_000 ? 'PENDING' : 'IN_PROGRESS',
              lifecycleStage: done() ? 'CLEAN_UP' : 'SCALE_UP',
              targetServiceRevision: {
                arn: REVISION,
                requestedTaskCount: 3,
                runningTaskCount: Math.min(3, Math.floor((elapsed / scenario.durationMs) * 3)),
              },
            },
          ],
        };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  } as unknown as ECSClient;
}

/** Calls of the whole deploy, by scenario: the table counts the wait's (from UpdateService on). */
const deployCalls = new Map<string, number[]>();

async function ours(scenario: Scenario): Promise<{ calls: number; lateMs: number }> {
  const clock = new FakeClock();
  const counter = { calls: 0 };
  const client = simulatedEcs(() => clock.now(), scenario, counter);
  let startedAt = 0;
  let before = 0;
  const tracked = {
    clock,
    logger: silentLogger,
    pollDelays: ECS_POLL_DELAYS,
    client: {
      send: async (command: unknown) => {
        if (command instanceof UpdateServiceCommand) {
          startedAt = clock.now();
          before = counter.calls;
        }
        return client.send(command as never);
      },
    } as unknown as ECSClient,
  };
  const result = await deployService(
    {
      deps: tracked,
      tracker: new DeploymentTracker(tracked, 'prod', 'web'),
      elbv2: () => {
        throw new Error('no load balancer in this scenario');
      },
      save: () => {},
    },
    { cluster: 'prod', service: 'web' },
    IMAGE,
    newRecord('0123456789abcdef0123456789abcdef01234567'),
    2 * 3_600_000,
    {},
  );
  if (result.failure) throw result.failure;
  deployCalls.set(scenario.name, [...(deployCalls.get(scenario.name) ?? []), counter.calls]);
  // The wait's calls: UpdateService's answer on (UpdateService itself is the deploy's).
  return { calls: counter.calls - before - 1, lateMs: clock.now() - startedAt - scenario.durationMs };
}

/**
 * The official action's wait, run for real: the SDK waiter sleeps with setTimeout and reads Date.now, so both are
 * replaced by virtual time while it runs (and put back after).
 */
async function baseline(scenario: Scenario): Promise<{ calls: number; lateMs: number }> {
  let virtual = 0;
  const counter = { calls: 0 };
  const client = simulatedEcs(() => virtual, scenario, counter);
  const realSetTimeout = globalThis.setTimeout;
  const realNow = Date.now;
  const epoch = realNow();
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    virtual += ms ?? 0;
    return realSetTimeout(fn, 0);
  }) as typeof setTimeout;
  Date.now = () => epoch + virtual;
  try {
    // UpdateService first, as the action does, then the waiter.
    await client.send(new UpdateServiceCommand({ cluster: 'prod', service: 'web', taskDefinition: NEW_TD }));
    const start = virtual;
    counter.calls = 0;
    await waitUntilServicesStable(
      { client, minDelay: 15, maxWaitTime: 2 * 3_600 },
      { cluster: 'prod', services: ['web'] },
    );
    return { calls: counter.calls, lateMs: virtual - start - scenario.durationMs };
  } finally {
    globalThis.setTimeout = realSetTimeout;
    Date.now = realNow;
  }
}

export const bench: Bench = {
  name: 'ecs-polling',
  description: 'API calls and detection delay of the ECS deployment wait, beside the official action waiter',
  async run(ctx: BenchContext): Promise<BenchReport> {
    const mine = await measureWaits(ctx, SCENARIOS, ours, '5-minute deployment');
    const theirs = await measureWaits(
      ctx,
      SCENARIOS.filter((s) => !s.throttled),
      baseline,
      '5-minute deployment',
    );
    return {
      title: 'ECS deployment wait: ECS calls of a whole deploy and how late the end is noticed',
      columns: WAIT_COLUMNS,
      rows: [
        ...mine.rows.map((row) => [`aws-deploy-kit: ${row[0]}`, ...row.slice(1)]),
        ...theirs.rows.map((row) => [`official waiter: ${row[0]}`, ...row.slice(1)]),
      ],
      notes: [
        `target for a 5-minute deployment: <= ${TARGET_CALLS} calls and <= ${TARGET_LATE_MS / 1000} s late: ${mine.meets ? 'met' : 'NOT MET'}`,
        'aws-deploy-kit: first look at once, then 5 s doubling to 10 s, jittered downwards only; a throttled look waits 10 s',
        'official waiter: waitUntilServicesStable, minDelay 15 s and the SDK default maxDelay 600 s (as amazon-ecs-deploy-task-definition), DescribeServices calls only',
        'calls: those of the wait, after UpdateService (finding the deployment, then following it)',
        `aws-deploy-kit, whole deploy (describe, busy check, register, update, wait): ${[...deployCalls]
          .map(([name, calls]) => `${name} ${Math.min(...calls)}-${Math.max(...calls)}`)
          .join('; ')} calls`,
      ],
      data: { ours: mine.data, oursWholeDeploy: Object.fromEntries(deployCalls), officialWaiter: theirs.data },
    };
  },
};
