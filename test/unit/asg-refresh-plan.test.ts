import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type Instance,
  type InstanceRefresh,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import type { BootTag } from '../../src/targets/asg/boot-tag';
import { type AsgDeployOptions, deployAsg } from '../../src/targets/asg/deploy';

const asgMock = mockClient(AutoScalingClient);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;

function deps() {
  return { autoscaling, clock: new FakeClock(), logger: captureLogger() };
}

function fakeTag(): BootTag & { moves: string[] } {
  let current: string | undefined = OLD;
  const moves: string[] = [];
  return {
    repository: 'web',
    tag: 'latest',
    moves,
    current: async () => current,
    moveTo: async (digest) => {
      moves.push(digest);
      current = digest;
    },
  };
}

function instance(id: string, extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: id,
    LifecycleState: 'InService',
    HealthStatus: 'Healthy',
    ProtectedFromScaleIn: false,
    AvailabilityZone: 'us-east-1a',
    LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
    ...extra,
  };
}

function group(instances: Instance[], extra: Record<string, unknown> = {}) {
  return {
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web-asg',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
        TargetGroupARNs: [],
        DesiredCapacity: instances.length,
        MinSize: 1,
        MaxSize: 4,
        Instances: instances,
        AvailabilityZones: [],
        DefaultCooldown: 300,
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 0,
        CreatedTime: new Date(),
        ...extra,
      },
    ],
  };
}

/** The newest-first listing answers `active`; each look at r-1 answers the next of `looks`. */
function refreshes(active: InstanceRefresh | undefined, looks: InstanceRefresh[]) {
  let i = 0;
  asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
    if (!input.InstanceRefreshIds) return { InstanceRefreshes: active ? [active] : [] };
    if (active && input.InstanceRefreshIds[0] === active.InstanceRefreshId) {
      return { InstanceRefreshes: [{ ...active, Status: 'RollbackSuccessful' }] };
    }
    return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', ...looks[Math.min(i++, looks.length - 1)]! }] };
  });
}

function options(extra: Partial<AsgDeployOptions> = {}, moveTag = true): AsgDeployOptions {
  const all: AsgDeployOptions = {
    groupName: 'web-asg',
    bootTag: fakeTag(),
    digest: NEW,
    preferences: { minHealthyPercentage: 50 },
    onBusy: 'wait',
    wait: true,
    timeoutMs: 30 * 60_000,
    cancelOnAbort: true,
    ...extra,
  };
  if (!moveTag) delete all.digest;
  return all;
}

const two = [instance('i-1'), instance('i-2')];

beforeEach(() => {
  asgMock.reset();
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(two));
  asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
  refreshes(undefined, [{ Status: 'Successful', PercentageComplete: 100 }]);
});

describe('protected and Standby instances', () => {
  it('sends ScaleInProtectedInstances and StandbyInstances only when set', async () => {
    await deployAsg(
      deps(),
      options({
        preferences: { minHealthyPercentage: 50, scaleInProtectedInstances: 'Refresh', standbyInstances: 'Ignore' },
      }),
    );
    await deployAsg(deps(), options());
    const [chosen, empty] = asgMock.commandCalls(StartInstanceRefreshCommand).map((c) => c.args[0].input.Preferences);
    expect(chosen).toMatchObject({ ScaleInProtectedInstances: 'Refresh', StandbyInstances: 'Ignore' });
    expect(empty).not.toHaveProperty('ScaleInProtectedInstances');
    expect(empty).not.toHaveProperty('StandbyInstances');
  });

  it("warns, before starting, that AWS's default Wait waits up to 1 h for protected and Standby instances, then fails", async () => {
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves(
        group([instance('i-1', { ProtectedFromScaleIn: true }), instance('i-2', { LifecycleState: 'Standby' })]),
      );
    const d = deps();
    await deployAsg(d, options());
    const warnings = d.logger.lines.filter((l) => l.startsWith('warning'));
    expect(warnings.join('\n')).toMatch(
      /1 instance\(s\) protected from scale in and scale-in-protected-instances is empty, so AWS's API default Wait applies: AWS waits up to 1 h/,
    );
    expect(warnings.join('\n')).toMatch(
      /1 instance\(s\) in Standby and standby-instances is empty.*then fails the refresh/,
    );
  });

  it('states the policy without a warning when it does not wait, or when nothing is protected', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group([instance('i-1', { ProtectedFromScaleIn: true })]));
    const d = deps();
    await deployAsg(d, options({ preferences: { minHealthyPercentage: 50, scaleInProtectedInstances: 'Ignore' } }));
    const text = d.logger.lines.join('\n');
    expect(text).toContain('web-asg has 1 instance(s) protected from scale in; scale-in-protected-instances is Ignore');
    expect(text).toContain('web-asg has no instance in Standby');
    expect(d.logger.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });
});

describe('durations AWS implies', () => {
  it("refuses to start when the group's DefaultInstanceWarmup per batch outlasts timeout-minutes", async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(two, { DefaultInstanceWarmup: 600 }));
    const tag = fakeTag();
    const error = await deployAsg(deps(), options({ bootTag: tag, timeoutMs: 15 * 60_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe('timeout-minutes');
    expect((error as Error).message).toMatch(
      /at least 20 minutes.*2 batch\(es\) of 2 instance\(s\) × 600 s warmup \(the group's DefaultInstanceWarmup, as instance-warmup is empty\)/,
    );
    expect(tag.moves).toEqual([]);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  it('falls back to HealthCheckGracePeriod, and counts the checkpoint hour AWS adds', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(two, { HealthCheckGracePeriod: 300 }));
    const error = await deployAsg(
      deps(),
      options({ preferences: { minHealthyPercentage: 50, checkpointPercentages: [50, 100] }, timeoutMs: 60 * 60_000 }),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /at least 70 minutes.*1 checkpoint\(s\) of checkpoint-percentages × 3600 s \(checkpoint-delay is empty: AWS waits 3600 s\) \+ 2 batch\(es\).*HealthCheckGracePeriod/,
    );
  });

  it('starts when the least time fits', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(two, { DefaultInstanceWarmup: 600 }));
    const result = await deployAsg(deps(), options({ timeoutMs: 25 * 60_000 }));
    expect(result.status).toBe('Successful');
  });
});

describe('on-busy cancel during a rollback', () => {
  it('does not cancel a refresh in RollbackInProgress: waits for it and says why', async () => {
    refreshes({ InstanceRefreshId: 'r-0', Status: 'RollbackInProgress', PercentageComplete: 40 }, [
      { Status: 'Successful' },
    ]);
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-0' });
    const d = deps();
    const result = await deployAsg(d, options({ onBusy: 'cancel' }));
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(result.status).toBe('Successful');
    expect(d.logger.lines.join('\n')).toMatch(
      /instance refresh r-0 \(RollbackInProgress, 40% complete\) of web-asg is rolling back\. on-busy is "cancel", but cancelling a rollback would leave the group running a mix of configurations/,
    );
  });
});

describe('skip-matching', () => {
  it('says so when every instance already matched and the refresh replaced none', async () => {
    const d = deps();
    const result = await deployAsg(
      d,
      options({ launchTemplateVersion: '3', preferences: { minHealthyPercentage: 50, skipMatching: true } }, false),
    );
    expect(result.replaced).toBe(0);
    expect(d.logger.lines.join('\n')).toMatch(
      /skip-matching: every instance of web-asg already matched launch template version 3, so the refresh replaced no instance/,
    );
  });

  it('counts the instances it replaced', async () => {
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce(group(two))
      .resolves(group([instance('i-1'), instance('i-9', { LaunchTemplate: { Version: '4' } })]));
    const result = await deployAsg(
      deps(),
      options({ launchTemplateVersion: '4', preferences: { minHealthyPercentage: 50, skipMatching: true } }, false),
    );
    expect(result.replaced).toBe(1);
  });
});
