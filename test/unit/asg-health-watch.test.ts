import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandOutput,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import type { BootTag } from '../../src/targets/asg/boot-tag';
import { deployAsg } from '../../src/targets/asg/deploy';

const asgMock = mockClient(AutoScalingClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/0123456789abcdef';

function group(healthCheckType: string | undefined) {
  return {
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web-asg',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
        TargetGroupARNs: [TG],
        DesiredCapacity: 2,
        MinSize: 2,
        MaxSize: 4,
        Instances: [
          { InstanceId: 'i-old1', LifecycleState: 'InService', HealthStatus: 'Healthy' },
          { InstanceId: 'i-old2', LifecycleState: 'InService', HealthStatus: 'Healthy' },
        ],
        AvailabilityZones: [],
        DefaultCooldown: 300,
        ...(healthCheckType ? { HealthCheckType: healthCheckType } : {}),
        HealthCheckGracePeriod: 60,
        CreatedTime: new Date(),
      },
    ],
  } as never;
}

function tag(): BootTag {
  let current = OLD;
  return {
    repository: 'web',
    tag: 'latest',
    current: async () => current,
    moveTo: async (digest) => {
      current = digest;
    },
  };
}

/** The refresh runs (InProgress) until it is cancelled, or until `successAfter` looks. */
function refreshRunsUntilCancelled(successAfter = Number.POSITIVE_INFINITY) {
  let cancelled = false;
  let looks = 0;
  asgMock.on(CancelInstanceRefreshCommand).callsFake(() => {
    cancelled = true;
    return { InstanceRefreshId: 'r-1' };
  });
  asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
    if (!input.InstanceRefreshIds) return { InstanceRefreshes: [] };
    looks++;
    const Status = cancelled ? 'Cancelled' : looks > successAfter ? 'Successful' : 'InProgress';
    return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status, PercentageComplete: cancelled ? 50 : 25 }] };
  });
}

const unhealthyReplacement: DescribeTargetHealthCommandOutput = {
  $metadata: {},
  TargetHealthDescriptions: [
    { Target: { Id: 'i-old2' }, TargetHealth: { State: 'healthy' } },
    {
      Target: { Id: 'i-new1' },
      TargetHealth: {
        State: 'unhealthy',
        Reason: 'Target.ResponseCodeMismatch',
        Description: 'Health checks failed with these codes: [500]',
      },
    },
  ],
};

async function deploy(clock = new FakeClock()) {
  const logger = captureLogger();
  const result = await deployAsg(
    {
      autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      clock,
      logger,
    },
    {
      groupName: 'web-asg',
      bootTag: tag(),
      digest: NEW,
      preferences: { minHealthyPercentage: 50 },
      onBusy: 'wait',
      wait: true,
      timeoutMs: 30 * 60_000,
      cancelOnAbort: true,
    },
  );
  return { result, logger };
}

beforeEach(() => {
  asgMock.reset();
  elbMock.reset();
  asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });
});

describe('EC2 health checks: the toolkit watches the replacements itself', () => {
  it('cancels the refresh when a replacement stays unhealthy past the grace period, and says why', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(undefined));
    elbMock.on(DescribeTargetHealthCommand).resolves(unhealthyReplacement);
    const clock = new FakeClock();
    let cancelledAt: number | undefined;
    asgMock.on(CancelInstanceRefreshCommand).callsFake(() => {
      cancelledAt = clock.now();
      return { InstanceRefreshId: 'r-1' };
    });
    let looks = 0;
    asgMock.on(DescribeInstanceRefreshesCommand).callsFake((input: { InstanceRefreshIds?: string[] }) => {
      if (!input.InstanceRefreshIds) return { InstanceRefreshes: [] };
      looks++;
      const Status = cancelledAt !== undefined ? 'Cancelled' : 'InProgress';
      return { InstanceRefreshes: [{ InstanceRefreshId: 'r-1', Status, PercentageComplete: 50 }] };
    });

    const { result, logger } = await deploy(clock);

    expect(looks).toBeGreaterThan(1);
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    // Not before the group's 60-second grace period has passed since the replacement appeared.
    expect(cancelledAt).toBeGreaterThanOrEqual(60_000);
    expect(result).toMatchObject({ status: 'Cancelled', outcome: 'failed', tagMoved: true, previousDigest: OLD });
    expect(result.failure?.message).toContain(
      'Replacement instance i-new1 in web-tg is unhealthy (Target.ResponseCodeMismatch: Health checks failed with ' +
        'these codes: [500]) past the health check grace period (60s) of web-asg.',
    );
    expect(result.failure?.message).toMatch(/uses EC2 health checks, so AWS would have replaced every instance/);
    expect(logger.lines.join('\n')).toMatch(/warning: web-asg uses EC2 health checks: .*--health-check-type ELB/);
    expect(logger.lines.join('\n')).toContain('still points at the new image');
  });

  it('lets the refresh finish when the replacements turn healthy within the grace period', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group('EC2'));
    refreshRunsUntilCancelled(3);
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(unhealthyReplacement)
      .resolves({
        TargetHealthDescriptions: [
          { Target: { Id: 'i-new1' }, TargetHealth: { State: 'healthy' } },
          { Target: { Id: 'i-new2' }, TargetHealth: { State: 'healthy' } },
        ],
      });
    const { result } = await deploy();
    expect(asgMock.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(0);
    expect(result).toMatchObject({ status: 'Successful', outcome: 'succeeded' });
  });

  it('with ELB health checks leaves the watching to AWS, and says so', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group('ELB'));
    refreshRunsUntilCancelled(3);
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [{ Target: { Id: 'i-new1' }, TargetHealth: { State: 'healthy' } }],
    });
    const { result, logger } = await deploy();
    expect(result.outcome).toBe('succeeded');
    // Only the check after the refresh: nothing during it.
    expect(elbMock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(1);
    expect(logger.lines.join('\n')).toContain('web-asg uses ELB health checks');
  });
});
