import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { viewOf } from '../../src/aws/autoscaling';
import { FakeClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import type { BootTag } from '../../src/targets/asg/boot-tag';
import { type AsgDeployOptions, deployAsg } from '../../src/targets/asg/deploy';
import { outcomeOf, refreshFailure, waitForRefresh } from '../../src/targets/asg/refresh';
import { rollbackAsg } from '../../src/targets/asg/rollback';

const asgMock = mockClient(AutoScalingClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const elbv2 = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';

function deps(signal?: AbortSignal) {
  const logger = captureLogger();
  return { autoscaling, elbv2, clock: new FakeClock(), logger, ...(signal ? { signal } : {}) };
}

function fakeTag(initial = OLD): BootTag & { moves: string[] } {
  let current: string | undefined = initial;
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

function group(targetGroups: string[] = []) {
  return {
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web-asg',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
        TargetGroupARNs: targetGroups,
        DesiredCapacity: 2,
        MinSize: 2,
        MaxSize: 4,
        Instances: [],
        AvailabilityZones: [],
        DefaultCooldown: 300,
        HealthCheckType: 'ELB',
        CreatedTime: new Date(),
      },
    ],
  };
}

/** DescribeInstanceRefreshes answers: the newest-first listing (MaxRecords=1) and then each look at refresh r-1. */
function refreshes(active: InstanceRefresh | undefined, looks: InstanceRefresh[]) {
  let i = 0;
  asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
    if (!input.InstanceRefreshIds) return { InstanceRefreshes: active ? [active] : [] };
    const id = input.InstanceRefreshIds[0];
    if (active && id === active.InstanceRefreshId) return { InstanceRefreshes: [{ ...active, Status: 'Cancelled' }] };
    const look = looks[Math.min(i++, looks.length - 1)]!;
    return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', ...look }] };
  });
}

function options(extra: Partial<AsgDeployOptions> = {}): AsgDeployOptions {
  return {
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
}

beforeEach(() => {
  asgMock.reset();
  elbMock.reset();
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group());
  asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
});

describe('refresh outcomes', () => {
  it('counts only Successful as success', () => {
    expect(outcomeOf('Successful')).toBe('succeeded');
    expect(outcomeOf('RollbackSuccessful')).toBe('rolled-back');
    expect(outcomeOf('RollbackFailed')).toBe('rollback-failed');
    expect(outcomeOf('Failed')).toBe('failed');
    expect(outcomeOf('Cancelled')).toBe('failed');
    expect(outcomeOf('InProgress')).toBe('in-progress');
  });

  it('explains every failed terminal status with its reason and the rollback details', () => {
    const view = (r: InstanceRefresh) => viewOf({ InstanceRefreshId: 'r-1', PercentageComplete: 50, ...r });
    expect(refreshFailure('web', view({ Status: 'Successful' }))).toBeUndefined();
    expect(refreshFailure('web', view({ Status: 'Failed', StatusReason: 'Instance i-1 is unhealthy' }))?.message).toBe(
      'The instance refresh r-1 of web failed at 50%: Instance i-1 is unhealthy. Instances already replaced keep ' +
        'the new configuration; roll back to restore the previous image.',
    );
    expect(refreshFailure('web', view({ Status: 'Cancelled' }))?.message).toMatch(/was cancelled at 50%/);
    const rolledBack = refreshFailure(
      'web',
      view({
        Status: 'RollbackSuccessful',
        RollbackDetails: {
          RollbackReason: 'alarm web-5xx in ALARM',
          RollbackStartTime: new Date('2030-01-01T00:00:00Z'),
          PercentageCompleteOnRollback: 25,
          InstancesToUpdateOnRollback: 1,
        },
      }),
    );
    expect(rolledBack?.message).toBe(
      'The instance refresh r-1 of web failed and was rolled back: the group is on its previous configuration ' +
        'again. Rollback reason: alarm web-5xx in ALARM; started 2030-01-01T00:00:00.000Z when the refresh was 25% ' +
        'complete, 1 instance(s) to restore.',
    );
    expect(refreshFailure('web', view({ Status: 'RollbackFailed', StatusReason: 'boom' }))?.message).toMatch(
      /failed and so did its rollback: boom/,
    );
  });
});

describe('waitForRefresh', () => {
  it('prints a line per change of progress and returns the terminal refresh', async () => {
    refreshes(undefined, [
      { Status: 'Pending' },
      { Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 4 },
      { Status: 'InProgress', PercentageComplete: 0, InstancesToUpdate: 4 },
      { Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2, StatusReason: 'Waiting for warmup.' },
      { Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 },
    ]);
    const d = deps();
    const refresh = await waitForRefresh(d, 'web-asg', 'r-1', { timeoutMs: 600_000 });
    expect(refresh.status).toBe('Successful');
    expect(d.logger.lines.map((line) => line.replace(/ \(\d+s elapsed\)$/, ''))).toEqual([
      'Instance refresh r-1 of web-asg: Pending',
      'Instance refresh r-1 of web-asg: InProgress, 0% complete, 4 instances left',
      'Instance refresh r-1 of web-asg: InProgress, 50% complete, 2 instances left: Waiting for warmup.',
    ]);
  });
});

describe('deployAsg', () => {
  it('moves the boot tag, starts the refresh, and checks every target once it succeeds', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group([TG]));
    refreshes(undefined, [{ Status: 'InProgress' }, { Status: 'Successful', PercentageComplete: 100 }]);
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: 'i-1' }, TargetHealth: { State: 'initial' } }] })
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-1' }, TargetHealth: { State: 'healthy' } }] });
    const tag = fakeTag();
    const started: string[] = [];
    const result = await deployAsg(
      deps(),
      options({ bootTag: tag, launchTemplateVersion: '4', onStarted: (id) => started.push(id) }),
    );

    expect(result).toMatchObject({ refreshId: 'r-1', status: 'Successful', previousDigest: OLD, outcome: 'succeeded' });
    expect(result.failure).toBeUndefined();
    expect(result.targets).toHaveLength(1);
    expect(tag.moves).toEqual([NEW]);
    expect(started).toEqual(['r-1']);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: 'web-asg',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '4' } },
      Preferences: { MinHealthyPercentage: 50, SkipMatching: false, AutoRollback: false },
    });
  });

  it('moves the boot tag back as soon as AWS starts rolling back, so relaunched instances pull the old image', async () => {
    refreshes(undefined, [
      { Status: 'InProgress' },
      { Status: 'RollbackInProgress', RollbackDetails: { RollbackReason: 'unhealthy' } },
      { Status: 'RollbackSuccessful', RollbackDetails: { RollbackReason: 'unhealthy' } },
    ]);
    const tag = fakeTag();
    const result = await deployAsg(deps(), options({ bootTag: tag }));
    expect(tag.moves).toEqual([NEW, OLD]);
    expect(result.outcome).toBe('rolled-back');
    expect(result.failure?.message).toMatch(/was rolled back/);
  });

  it('fails with the unhealthy targets and their reasons', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group([TG]));
    refreshes(undefined, [{ Status: 'Successful' }]);
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-1' }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: 'i-2' },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [404]',
          },
        },
      ],
    });
    const result = await deployAsg(deps(), options());
    expect(result.outcome).toBe('failed');
    expect(result.failure?.message).toContain(
      'i-2 in web-tg is unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])',
    );
  });

  it('on-busy fail: stops before moving the boot tag', async () => {
    refreshes({ InstanceRefreshId: 'r-0', Status: 'InProgress', PercentageComplete: 25 }, []);
    const tag = fakeTag();
    await expect(deployAsg(deps(), options({ bootTag: tag, onBusy: 'fail' }))).rejects.toThrow(
      /already has an active instance refresh r-0 \(InProgress, 25% complete\)/,
    );
    expect(tag.moves).toEqual([]);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  it('on-busy cancel: cancels the active refresh and waits for it before starting', async () => {
    refreshes({ InstanceRefreshId: 'r-0', Status: 'InProgress' }, [{ Status: 'Successful' }]);
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-0' });
    const d = deps();
    const result = await deployAsg(d, options({ onBusy: 'cancel' }));
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(result.status).toBe('Successful');
    expect(d.logger.lines.join('\n')).toContain('The earlier instance refresh r-0 ended: Cancelled');
  });

  it('retries the start when another job slipped a refresh in between', async () => {
    refreshes(undefined, [{ Status: 'Successful' }]);
    const busy = Object.assign(new Error('An Instance Refresh is already in progress'), {
      name: 'InstanceRefreshInProgressFault',
    });
    asgMock.on(StartInstanceRefreshCommand).rejectsOnce(busy).resolves({ InstanceRefreshId: 'r-1' });
    const result = await deployAsg(deps(), options());
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(2);
    expect(result.status).toBe('Successful');
  });

  it('cancels the refresh it started when the job is cancelled, and says so', async () => {
    const controller = new AbortController();
    let looks = 0;
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
      if (!input.InstanceRefreshIds) return { InstanceRefreshes: [] };
      if (++looks === 2) controller.abort(new Error('The job was cancelled (SIGTERM).'));
      return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status: 'InProgress', PercentageComplete: 25 }] };
    });
    asgMock.on(CancelInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    // Issue 11: the boot tag no longer stays on the unverified image; it goes back with the cancel.
    const tag = fakeTag();
    await expect(deployAsg(deps(controller.signal), options({ bootTag: tag }))).rejects.toThrow(
      'The job was cancelled: cancelled instance refresh r-1 of web-asg (it was InProgress, 25% complete). ' +
        `Instances already replaced keep the new configuration. Moved web:latest back to ${OLD}, so instances ` +
        'launched from now on pull the previous image.',
    );
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(tag.moves).toEqual([NEW, OLD]);
  });

  it('on timeout with cancel-on-abort false, leaves the refresh running and says how to find it', async () => {
    refreshes(undefined, [{ Status: 'InProgress', PercentageComplete: 10 }]);
    await expect(deployAsg(deps(), options({ timeoutMs: 60_000, cancelOnAbort: false }))).rejects.toThrow(
      /did not finish within timeout-minutes \(1m\)\. Instance refresh r-1 of web-asg is still running \(InProgress, 10% complete\); cancel-on-abort is false/,
    );
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
  });
});

describe('rollbackAsg', () => {
  it('uses RollbackInstanceRefresh while a refresh with a DesiredConfiguration runs, after moving the tag back', async () => {
    const active = {
      InstanceRefreshId: 'r-1',
      Status: 'InProgress',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '4' } },
    };
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => ({
      InstanceRefreshes: [input.InstanceRefreshIds ? { ...active, Status: 'RollbackSuccessful' } : active],
    }));
    asgMock.on(RollbackInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
    const tag = fakeTag(NEW);
    const result = await rollbackAsg(deps(), {
      groupName: 'web-asg',
      bootTag: tag,
      previousDigest: OLD,
      preferences: { minHealthyPercentage: 50 },
      timeoutMs: 600_000,
    });
    expect(result).toMatchObject({ method: 'native', refreshId: 'r-1', status: 'RollbackSuccessful', tagMoved: true });
    expect(tag.moves).toEqual([OLD]);
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
  });

  it('falls back to a new refresh (SkipMatching off) when AWS refuses the native rollback', async () => {
    const active = { InstanceRefreshId: 'r-0', Status: 'InProgress', DesiredConfiguration: { LaunchTemplate: {} } };
    let cancelled = false;
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
      const id = input.InstanceRefreshIds?.[0];
      if (!id) return { InstanceRefreshes: cancelled ? [] : [active] };
      if (id === 'r-0') return { InstanceRefreshes: [{ ...active, Status: 'Cancelled' }] };
      return { InstanceRefreshes: [{ InstanceRefreshId: id, Status: 'Successful' }] };
    });
    asgMock
      .on(RollbackInstanceRefreshCommand)
      .rejects(Object.assign(new Error('cannot roll back $Latest'), { name: 'IrreversibleInstanceRefreshFault' }));
    asgMock.on(CancelInstanceRefreshCommand).callsFake(() => {
      cancelled = true;
      return { InstanceRefreshId: 'r-0' };
    });
    const d = deps();
    const result = await rollbackAsg(d, {
      groupName: 'web-asg',
      preferences: { minHealthyPercentage: 50, skipMatching: true },
      timeoutMs: 600_000,
    });
    expect(result).toMatchObject({ method: 'refresh', refreshId: 'r-1', status: 'Successful', tagMoved: false });
    expect(asgMock.commandCalls(StartInstanceRefreshCommand)[0]!.args[0].input.Preferences).toMatchObject({
      SkipMatching: false,
      AutoRollback: false,
    });
    expect(d.logger.lines.join('\n')).toContain('AWS refused to roll back the instance refresh of web-asg');
  });

  it('fails when the rollback refresh does not succeed', async () => {
    refreshes(undefined, [{ Status: 'Failed', StatusReason: 'unhealthy again' }]);
    await expect(
      rollbackAsg(deps(), { groupName: 'web-asg', preferences: { minHealthyPercentage: 50 }, timeoutMs: 600_000 }),
    ).rejects.toThrow(/The rollback of web-asg did not complete: instance refresh r-1 ended Failed: unhealthy again/);
  });
});
