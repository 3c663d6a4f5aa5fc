import {
  AppRunnerClient,
  DescribeServiceCommand,
  ListOperationsCommand,
  ListTagsForResourceCommand,
  PauseServiceCommand,
  ResumeServiceCommand,
  TagResourceCommand as TagAppRunnerCommand,
  UntagResourceCommand as UntagAppRunnerCommand,
} from '@aws-sdk/client-apprunner';
import {
  AutoScalingClient,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { ECRClient } from '@aws-sdk/client-ecr';
import {
  DescribeServicesCommand,
  ECSClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { ActionDeps } from '../../src/actions/runtime';
import { run } from '../../src/actions/schedule/main';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { pauseTags, readPause } from '../../src/core/pause-tags';
import { ensureAwake } from '../../src/deploy/paused';
import { openTarget, type TargetSpec } from '../../src/targets';

const ecsMock = mockClient(ECSClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const appRunnerMock = mockClient(AppRunnerClient);
const asgMock = mockClient(AutoScalingClient);
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/prod/web';
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';
const APP_ARN = 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef';
const DELAYS = { minDelayMs: 1, maxDelayMs: 1 };

beforeEach(() => {
  ecsMock.reset();
  elbMock.reset();
  appRunnerMock.reset();
  asgMock.reset();
});

const clients = () => ({
  ecs: new ECSClient({ region: 'us-east-1' }),
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  apprunner: new AppRunnerClient({ region: 'us-east-1' }),
  autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
});

function deps(inputs: Record<string, string>) {
  const outputs: Record<string, string> = {};
  const logger = captureLogger();
  const d: ActionDeps = {
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger,
    env: { AWS_REGION: 'us-east-1' },
    clock: new FakeClock(Date.UTC(2026, 11, 4, 20)),
    signal: new AbortController().signal,
    writeSummary: async () => undefined,
    saveState: () => undefined,
    getState: () => '',
  };
  return { deps: d, outputs, logger };
}

const services = () => ({ ecr: new ECRClient({ region: 'us-east-1' }), clients: clients(), pollDelays: DELAYS });

/** An ECS service whose tasks follow its desired count at once; its tags live here. */
function fakeService(start: { desired: number; tags?: Record<string, string> }) {
  const state = { desired: start.desired, running: start.desired, tags: { ...(start.tags ?? {}) } };
  ecsMock.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceArn: SERVICE_ARN,
        serviceName: 'web',
        desiredCount: state.desired,
        runningCount: state.running,
        pendingCount: 0,
        loadBalancers: [{ targetGroupArn: TG }],
        tags: Object.entries(state.tags).map(([key, value]) => ({ key, value })),
      },
    ],
  }));
  ecsMock.on(UpdateServiceCommand).callsFake((input: { desiredCount: number }) => {
    state.desired = input.desiredCount;
    state.running = input.desiredCount;
    return {
      service: { serviceArn: SERVICE_ARN, desiredCount: state.desired, loadBalancers: [{ targetGroupArn: TG }] },
    };
  });
  ecsMock.on(TagResourceCommand).callsFake((input: { tags: { key: string; value: string }[] }) => {
    for (const t of input.tags) state.tags[t.key] = t.value;
    return {};
  });
  ecsMock.on(UntagResourceCommand).callsFake((input: { tagKeys: string[] }) => {
    for (const k of input.tagKeys) delete state.tags[k];
    return {};
  });
  elbMock.on(DescribeTargetHealthCommand).resolves({
    TargetHealthDescriptions: [{ Target: { Id: '10.0.0.1', Port: 8080 }, TargetHealth: { State: 'healthy' } }],
  });
  return state;
}

/** A target opened as a deploy step opens it, with the mocked clients. */
async function opened(spec: TargetSpec) {
  const { deps: d, logger } = deps({});
  const context = {
    region: 'us-east-1',
    env: {},
    clock: d.clock,
    logger,
    ecr: new ECRClient({ region: 'us-east-1' }),
    clients: clients(),
    pollDelays: DELAYS,
  };
  return { target: await openTarget(spec, context), logger };
}

const ecsInputs = (mode: string) => ({
  mode,
  environment: 'staging',
  target: 'ecs',
  cluster: 'prod',
  'ecs-service': 'web',
});

describe('inputs are checked before any AWS call', () => {
  it.each([
    [{ environment: 'staging', target: 'ecs', 'ecs-service': 'web' }, 'mode', '"pause" or "resume"'],
    [{ ...ecsInputs('sleep') }, 'mode', '"pause", "resume"'],
    [{ mode: 'pause', environment: 'staging', target: 'asg' }, 'asg-name', 'Auto Scaling group'],
    [{ ...ecsInputs('resume'), 'health-url': '/health' }, 'health-url', 'full URL'],
    [{ ...ecsInputs('pause'), 'asg-name': 'web-asg' }, 'asg-name', 'empty when target is "ecs"'],
  ])('%j fails on %s', async (inputs, input, accepted) => {
    const { deps: d } = deps(inputs as Record<string, string>);
    const error = await run(d, services()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
    expect((error as Error).message).toContain(accepted);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe('ECS', () => {
  it('pause saves the desired count as a tag on the service, then scales it to 0', async () => {
    const state = fakeService({ desired: 3 });
    const { deps: d, outputs, logger } = deps(ecsInputs('pause'));
    await run(d, services());
    expect(state.tags).toEqual({
      'aws-deploy-kit:paused-desired': '3',
      'aws-deploy-kit:paused-at': '2026-12-04T20:00:00Z',
    });
    expect(state.desired).toBe(0);
    expect(outputs.result).toBe('paused');
    expect(logger.lines.join('\n')).toContain('desired count 3 → 0');
    // The tag is written before the scale-down: a pause cut short in between still knows what to restore.
    const order = ecsMock.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('TagResourceCommand')).toBeLessThan(order.indexOf('UpdateServiceCommand'));
  });

  it('a second pause changes nothing and says so', async () => {
    fakeService({ desired: 0, tags: pauseTags({ desired: 3 }, new Date(Date.UTC(2026, 11, 4, 20))) });
    const { deps: d, outputs, logger } = deps(ecsInputs('pause'));
    await run(d, services());
    expect(outputs.result).toBe('already-paused');
    expect(logger.lines.join('\n')).toContain('already paused (since 2026-12-04T20:00:00Z): nothing to do');
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(TagResourceCommand)).toHaveLength(0);
  });

  it('a service tagged keep-running=true is skipped', async () => {
    const state = fakeService({ desired: 2, tags: { 'aws-deploy-kit:keep-running': 'true' } });
    const { deps: d, outputs, logger } = deps(ecsInputs('pause'));
    await run(d, services());
    expect(outputs.result).toBe('kept-running');
    expect(state.desired).toBe(2);
    expect(logger.lines.join('\n')).toContain(
      'Skipped ECS service web (cluster prod): it is tagged aws-deploy-kit:keep-running=true',
    );
  });

  it('resume restores the saved count, removes the tags and waits for healthy targets', async () => {
    const state = fakeService({ desired: 0, tags: { ...pauseTags({ desired: 3 }, new Date()), team: 'payments' } });
    const { deps: d, outputs, logger } = deps(ecsInputs('resume'));
    await run(d, services());
    expect(state.desired).toBe(3);
    expect(state.tags).toEqual({ team: 'payments' });
    expect(outputs.result).toBe('resumed');
    expect(elbMock.commandCalls(DescribeTargetHealthCommand).length).toBeGreaterThan(0);
    expect(logger.lines.join('\n')).toContain('desired count 0 → 3');
  });

  it('resume of a service the schedule did not pause changes nothing', async () => {
    const state = fakeService({ desired: 0 });
    const { deps: d, outputs, logger } = deps(ecsInputs('resume'));
    await run(d, services());
    expect(outputs.result).toBe('not-paused');
    expect(state.desired).toBe(0);
    expect(logger.lines.join('\n')).toContain('it was not paused by aws-deploy-kit');
  });

  it('a paused-desired tag edited into something else fails naming the tag, changing nothing', async () => {
    fakeService({ desired: 0, tags: { 'aws-deploy-kit:paused-desired': 'three' } });
    const { deps: d } = deps(ecsInputs('resume'));
    await expect(run(d, services())).rejects.toThrow('aws-deploy-kit:paused-desired="three", which is not a count');
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('an AWS error says what the step was doing', async () => {
    fakeService({ desired: 2 });
    ecsMock
      .on(TagResourceCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const { deps: d } = deps(ecsInputs('pause'));
    await expect(run(d, services())).rejects.toThrow(
      `Could not tag ${SERVICE_ARN}: access denied (AccessDeniedException). The role needs ecs:TagResource`,
    );
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});

describe('App Runner', () => {
  function fakeApp(status: 'RUNNING' | 'PAUSED', tags: Record<string, string> = {}) {
    const state = { status, tags: { ...tags }, ops: [] as { Id: string; Type: string; Status: string }[] };
    appRunnerMock.on(DescribeServiceCommand).callsFake(() => ({
      Service: { ServiceArn: APP_ARN, ServiceName: 'web', ServiceUrl: 'web.example.com', Status: state.status },
    }));
    appRunnerMock.on(ListTagsForResourceCommand).callsFake(() => ({
      Tags: Object.entries(state.tags).map(([Key, Value]) => ({ Key, Value })),
    }));
    appRunnerMock.on(TagAppRunnerCommand).callsFake((input: { Tags: { Key: string; Value: string }[] }) => {
      for (const t of input.Tags) state.tags[t.Key] = t.Value;
      return {};
    });
    appRunnerMock.on(UntagAppRunnerCommand).callsFake((input: { TagKeys: string[] }) => {
      for (const k of input.TagKeys) delete state.tags[k];
      return {};
    });
    const operate = (type: string, after: 'RUNNING' | 'PAUSED') => () => {
      const id = `op-${state.ops.length}`;
      state.ops.unshift({ Id: id, Type: type, Status: 'SUCCEEDED' });
      state.status = after;
      return { OperationId: id };
    };
    appRunnerMock.on(PauseServiceCommand).callsFake(operate('PAUSE_SERVICE', 'PAUSED'));
    appRunnerMock.on(ResumeServiceCommand).callsFake(operate('RESUME_SERVICE', 'RUNNING'));
    appRunnerMock.on(ListOperationsCommand).callsFake(() => ({ OperationSummaryList: state.ops }));
    return state;
  }
  const appInputs = (mode: string) => ({
    mode,
    environment: 'staging',
    target: 'apprunner',
    'service-arn': APP_ARN,
    'health-url': 'http://127.0.0.1:1/health',
  });

  it('pause tags the service as ours and follows PauseService to its end', async () => {
    const state = fakeApp('RUNNING');
    const { deps: d, outputs } = deps(appInputs('pause'));
    await run(d, services());
    expect(state.status).toBe('PAUSED');
    expect(Object.keys(state.tags)).toEqual(['aws-deploy-kit:paused-at']);
    expect(outputs.result).toBe('paused');
  });

  it('a service paused by someone else is neither paused again nor resumed', async () => {
    fakeApp('PAUSED');
    for (const mode of ['pause', 'resume']) {
      const { deps: d, outputs, logger } = deps(appInputs(mode));
      await run(d, services());
      expect(outputs.result).toBe(mode === 'pause' ? 'already-paused' : 'not-paused');
      expect(logger.lines.join('\n')).toContain('not by aws-deploy-kit');
    }
    expect(appRunnerMock.commandCalls(ResumeServiceCommand)).toHaveLength(0);
    expect(appRunnerMock.commandCalls(PauseServiceCommand)).toHaveLength(0);
  });

  it('a deploy to a running service reads no tags (the deploy role needs no apprunner:ListTagsForResource)', async () => {
    fakeApp('RUNNING');
    const { target, logger } = await opened({ kind: 'apprunner', serviceArn: APP_ARN });
    await ensureAwake(target.scheduler, 'fail', 60_000, logger);
    expect(appRunnerMock.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
  });

  it('a deploy to a paused service fails, whoever paused it', async () => {
    fakeApp('PAUSED');
    const { target, logger } = await opened({ kind: 'apprunner', serviceArn: APP_ARN });
    await expect(ensureAwake(target.scheduler, 'fail', 60_000, logger)).rejects.toThrow(
      'App Runner service web is paused (status PAUSED), not by aws-deploy-kit: a deploy would not run there',
    );
  });
});

describe('Auto Scaling', () => {
  it('pause saves min and desired, sets both to 0, and resume puts them back', async () => {
    const group = { min: 2, desired: 3, tags: {} as Record<string, string> };
    asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(() => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'web-asg',
          MinSize: group.min,
          MaxSize: 6,
          DesiredCapacity: group.desired,
          TargetGroupARNs: [],
          Instances: Array.from({ length: group.desired }, (_, i) => ({
            InstanceId: `i-${i}`,
            LifecycleState: 'InService',
          })),
          Tags: Object.entries(group.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }));
    asgMock.on(UpdateAutoScalingGroupCommand).callsFake((input: { MinSize: number; DesiredCapacity: number }) => {
      group.min = input.MinSize;
      group.desired = input.DesiredCapacity;
      return {};
    });
    asgMock
      .on(CreateOrUpdateTagsCommand)
      .callsFake((input: { Tags: { Key: string; Value: string; PropagateAtLaunch: boolean }[] }) => {
        for (const t of input.Tags) {
          expect(t.PropagateAtLaunch).toBe(false);
          group.tags[t.Key] = t.Value;
        }
        return {};
      });
    asgMock.on(DeleteTagsCommand).callsFake((input: { Tags: { Key: string }[] }) => {
      for (const t of input.Tags) delete group.tags[t.Key];
      return {};
    });
    const asgInputs = (mode: string) => ({ mode, environment: 'staging', target: 'asg', 'asg-name': 'web-asg' });

    await run(deps(asgInputs('pause')).deps, services());
    expect(group).toMatchObject({ min: 0, desired: 0 });
    expect(group.tags).toMatchObject({ 'aws-deploy-kit:paused-min': '2', 'aws-deploy-kit:paused-desired': '3' });

    const resumed = deps(asgInputs('resume'));
    await run(resumed.deps, services());
    expect(group).toEqual({ min: 2, desired: 3, tags: {} });
    expect(resumed.outputs.result).toBe('resumed');
  });
});

describe('a deploy to a paused target', () => {
  const ecsTarget = () => opened({ kind: 'ecs', cluster: 'prod', service: 'web' });

  it('fails before changing anything by default, saying how to resume', async () => {
    fakeService({ desired: 0, tags: pauseTags({ desired: 2 }, new Date(Date.UTC(2026, 11, 4, 20))) });
    const { target, logger } = await ecsTarget();
    await expect(ensureAwake(target.scheduler, 'fail', 60_000, logger)).rejects.toThrow(
      'ECS service web (cluster prod) is paused by the schedule action since 2026-12-04T20:00:00Z',
    );
    await expect(ensureAwake(target.scheduler, 'fail', 60_000, logger)).rejects.toThrow('set on-paused: resume');
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('with on-paused resume, restores the saved count first', async () => {
    const state = fakeService({ desired: 0, tags: pauseTags({ desired: 2 }, new Date()) });
    const { target, logger } = await ecsTarget();
    await ensureAwake(target.scheduler, 'resume', 60_000, logger);
    expect(state.desired).toBe(2);
    expect(state.tags).toEqual({});
    expect(logger.lines.join('\n')).toContain('on-paused is resume: resuming it before the deploy');
  });

  it('a running service is deployed to without a word', async () => {
    fakeService({ desired: 2 });
    const { target, logger } = await ecsTarget();
    await ensureAwake(target.scheduler, 'fail', 60_000, logger);
    expect(logger.lines).toEqual([]);
  });
});

describe('the pause tags', () => {
  it('read back what was written, and keep-running only when true', () => {
    const tags = {
      ...pauseTags({ min: 2, desired: 3 }, new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))),
      'aws-deploy-kit:keep-running': 'TRUE',
    };
    expect(readPause(tags, 'x')).toEqual({
      paused: true,
      counts: { min: 2, desired: 3 },
      at: '2026-01-02T03:04:05Z',
      keys: ['aws-deploy-kit:paused-min', 'aws-deploy-kit:paused-desired', 'aws-deploy-kit:paused-at'],
      keepRunning: true,
    });
    expect(readPause({ 'aws-deploy-kit:keep-running': 'yes' }, 'x')).toMatchObject({
      paused: false,
      keepRunning: false,
    });
  });
});
