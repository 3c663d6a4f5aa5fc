import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import type { BootTag } from '../../src/targets/asg/boot-tag';
import { deployAsg } from '../../src/targets/asg/deploy';

const asgMock = mockClient(AutoScalingClient);
const autoscaling = new AutoScalingClient({ region: 'us-east-1' });
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;

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

beforeEach(() => {
  asgMock.reset();
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web-asg',
        LaunchTemplate: { LaunchTemplateId: 'lt-0123', LaunchTemplateName: 'web', Version: '3' },
        TargetGroupARNs: [],
        DesiredCapacity: 2,
        MinSize: 2,
        MaxSize: 4,
        Instances: [],
        AvailabilityZones: [],
        DefaultCooldown: 300,
        HealthCheckType: 'EC2',
        CreatedTime: new Date(),
      },
    ],
  });
  asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
});

describe('deployAsg when the refresh cannot be started', () => {
  it('moves the boot tag back, so the group does not launch the unverified image on its next scale-out', async () => {
    const refused = Object.assign(new Error('Alarm web-5xx does not exist'), { name: 'ValidationError' });
    asgMock.on(StartInstanceRefreshCommand).rejects(refused);
    const tag = fakeTag();
    const logger = captureLogger();
    const error = await deployAsg(
      { autoscaling, clock: new FakeClock(), logger },
      {
        groupName: 'web-asg',
        bootTag: tag,
        digest: NEW,
        preferences: { minHealthyPercentage: 90, alarms: ['web-5xx'] },
        onBusy: 'wait',
        wait: true,
        timeoutMs: 60_000,
        cancelOnAbort: true,
      },
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('Alarm web-5xx does not exist');
    expect(tag.moves).toEqual([NEW, OLD]);
    expect((error as Error).message).toContain(`web:latest was moved back to ${OLD}`);
  });
});
