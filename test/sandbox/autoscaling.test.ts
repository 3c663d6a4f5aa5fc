import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type StartInstanceRefreshCommandInput,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingEmulator } from '../../sandbox/emulator/autoscaling';
import { Elbv2Emulator } from '../../sandbox/emulator/elbv2';
import { AwsEmulator } from '../../sandbox/emulator/server';
import { FakeLauncher } from '../../sandbox/fake-launcher';
import { poll } from '../../src/core/poller';

// The real SDK clients reach the emulator through AWS_ENDPOINT_URL_<SERVICE> only, as the shipped bundles do.
let aws: AwsEmulator;
let asg: AutoScalingEmulator;
let launcher: FakeLauncher;
let autoscaling: AutoScalingClient;
let elbv2: ElasticLoadBalancingV2Client;
const savedEnv = { ...process.env };
let groupCounter = 0;

beforeAll(async () => {
  aws = new AwsEmulator();
  launcher = new FakeLauncher();
  asg = new AutoScalingEmulator(launcher);
  asg.timing = { bootMs: 20, healthCheckMs: 30, graceMs: 400, secondMs: 5, waitMs: 300, pendingMs: 20 };
  aws.register(asg.definition());
  aws.register(new Elbv2Emulator(asg).definition());
  await aws.start();
  Object.assign(process.env, aws.clientEnv(), { AWS_MAX_ATTEMPTS: '3' });
  autoscaling = new AutoScalingClient({});
  elbv2 = new ElasticLoadBalancingV2Client({});
});

afterAll(async () => {
  await asg?.stop();
  await aws?.stop();
  process.env = savedEnv;
});

afterEach(() => aws.faults.clear());

/** A fresh group of `instances` instances booting app:latest = v1 (healthy). */
/** Most tests are about a refresh reacting to health: their groups use ELB checks unless they say otherwise. */
async function group(
  instances = 4,
  options: { targetGroup?: boolean; version?: string; healthCheckType?: 'EC2' | 'ELB' | 'default' } = {},
) {
  const name = `web-${++groupCounter}`;
  launcher.push(name, 'latest', { version: 'v1', healthy: true });
  const type = options.healthCheckType ?? 'ELB';
  await asg.createGroup({
    name,
    repository: name,
    instances,
    targetGroup: options.targetGroup,
    launchTemplateVersion: options.version,
    ...(type === 'default' ? {} : { healthCheckType: type }),
  });
  return name;
}

function start(name: string, extra: Partial<StartInstanceRefreshCommandInput> = {}) {
  return autoscaling.send(
    new StartInstanceRefreshCommand({ AutoScalingGroupName: name, ...extra, Preferences: extra.Preferences ?? {} }),
  );
}

async function describe1(name: string, id: string): Promise<InstanceRefresh> {
  const out = await autoscaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, InstanceRefreshIds: [id] }),
  );
  return out.InstanceRefreshes![0]!;
}

const terminal = ['Successful', 'Failed', 'Cancelled', 'RollbackSuccessful', 'RollbackFailed'];

/** Polls until the refresh ends; returns every status seen on the way and the final refresh. */
async function settle(name: string, id: string) {
  const seen: string[] = [];
  const reasons: string[] = [];
  const final = await poll({
    what: `refresh ${id}`,
    timeoutMs: 60_000,
    minDelayMs: 20,
    maxDelayMs: 40,
    check: async () => {
      const r = await describe1(name, id);
      if (seen[seen.length - 1] !== r.Status) seen.push(r.Status!);
      if (r.StatusReason && !reasons.includes(r.StatusReason)) reasons.push(r.StatusReason);
      return terminal.includes(r.Status!) ? { done: true, value: r } : { done: false };
    },
  });
  return { final, seen, reasons };
}

async function versionsThroughLb(name: string, requests = 12): Promise<Set<string>> {
  const versions = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const res = await fetch(`${asg.loadBalancerUrl(name)}/version`);
    versions.add(`${res.status} ${(await res.text()).trim()}`);
  }
  return versions;
}

async function instancesOf(name: string) {
  const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups![0]!.Instances!;
}

describe('Auto Scaling emulator through the real SDK', () => {
  it('describes a group with its launch template, target groups and instances, and pages groups', async () => {
    const name = await group(2);
    const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    const g = out.AutoScalingGroups![0]!;
    expect(g.AutoScalingGroupName).toBe(name);
    expect(g.DesiredCapacity).toBe(2);
    expect(g.LaunchTemplate?.Version).toBe('1');
    expect(g.LaunchTemplate?.LaunchTemplateId).toMatch(/^lt-/);
    expect(g.TargetGroupARNs).toHaveLength(1);
    expect(g.Instances).toHaveLength(2);
    expect(g.Instances![0]).toMatchObject({ LifecycleState: 'InService', HealthStatus: 'Healthy' });
    expect(g.Instances![0]!.ProtectedFromScaleIn).toBe(false);
    expect(g.CreatedTime).toBeInstanceOf(Date);

    await group(1, { targetGroup: false });
    const page1 = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 1 }));
    expect(page1.AutoScalingGroups).toHaveLength(1);
    expect(page1.NextToken).toBeDefined();
    const page2 = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ MaxRecords: 1, NextToken: page1.NextToken }),
    );
    expect(page2.AutoScalingGroups![0]!.AutoScalingGroupName).not.toBe(
      page1.AutoScalingGroups![0]!.AutoScalingGroupName,
    );
    const missing = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope'] }));
    expect(missing.AutoScalingGroups).toEqual([]);
  });

  it('rolls a moved boot tag through every instance, never below MinHealthyPercentage', async () => {
    const name = await group(4);
    const before = (await instancesOf(name)).map((i) => i.InstanceId);
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const since = Date.now();
    const { InstanceRefreshId } = await start(name, {
      Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 10 },
    });
    expect(InstanceRefreshId).toMatch(/^[0-9a-f-]{36}$/);
    const { final, seen } = await settle(name, InstanceRefreshId!);
    expect(seen[seen.length - 1]).toBe('Successful');
    expect(final).toMatchObject({ PercentageComplete: 100, InstancesToUpdate: 0 });
    expect(final.StartTime).toBeInstanceOf(Date);
    expect(final.EndTime).toBeInstanceOf(Date);
    expect(final.Preferences).toMatchObject({ MinHealthyPercentage: 50, InstanceWarmup: 10, SkipMatching: false });

    const after = (await instancesOf(name)).map((i) => i.InstanceId);
    expect(after).toHaveLength(4);
    expect(after.filter((id) => before.includes(id))).toEqual([]);
    expect(await versionsThroughLb(name)).toEqual(new Set(['200 v2']));
    expect(asg.minInService(name, since)).toBeGreaterThanOrEqual(2);
  });

  it('launches before terminating when MaxHealthyPercentage is above 100, keeping full capacity', async () => {
    const name = await group(2);
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const since = Date.now();
    const { InstanceRefreshId } = await start(name, {
      Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 150 },
    });
    expect((await settle(name, InstanceRefreshId!)).final.Status).toBe('Successful');
    expect(asg.minInService(name, since)).toBeGreaterThanOrEqual(2);
  });

  it('refuses a second refresh while one is active with InstanceRefreshInProgress', async () => {
    const name = await group(1);
    const { InstanceRefreshId } = await start(name, { Preferences: { InstanceWarmup: 60 } });
    const error = await start(name).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InstanceRefreshInProgressFault', Code: 'InstanceRefreshInProgress' });
    expect((error as Error).message).toContain('already in progress');
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }));
    expect((await settle(name, InstanceRefreshId!)).final.Status).toBe('Cancelled');
  });

  it('cancels an active refresh (Cancelling → Cancelled) and says when there is none', async () => {
    const name = await group(2);
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const { InstanceRefreshId } = await start(name, { Preferences: { InstanceWarmup: 100 } });
    const cancelled = await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }));
    expect(cancelled.InstanceRefreshId).toBe(InstanceRefreshId);
    // Cancelling lasts until the emulator's next 20 ms look: on a loaded machine it may already be over.
    expect(['Cancelling', 'Cancelled']).toContain((await describe1(name, InstanceRefreshId!)).Status);
    const { final } = await settle(name, InstanceRefreshId!);
    expect(final.Status).toBe('Cancelled');
    expect(final.PercentageComplete).toBeLessThan(100);

    const none = await autoscaling
      .send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }))
      .catch((e: unknown) => e);
    expect(none).toMatchObject({ name: 'ActiveInstanceRefreshNotFoundFault' });
  });

  it('fails the refresh when a replacement never passes /health, and ELBv2 reports why', async () => {
    const name = await group(2);
    launcher.push(name, 'latest', { version: 'v2-broken', healthy: false });
    const { InstanceRefreshId } = await start(name, { Preferences: { MinHealthyPercentage: 50 } });
    const { final } = await settle(name, InstanceRefreshId!);
    expect(final.Status).toBe('Failed');
    expect(final.StatusReason).toMatch(/replacement instance i-\w+ is unhealthy/);
    expect(final.PercentageComplete).toBeLessThan(100);
    // The old instance still serves; the broken one gets no traffic.
    expect(await versionsThroughLb(name, 4)).toEqual(new Set(['200 v1']));

    const arn = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups![0]!.TargetGroupARNs![0]!;
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    const states = health.TargetHealthDescriptions!.map((d) => d.TargetHealth?.State).sort();
    expect(states).toEqual(['healthy', 'unhealthy']);
    const bad = health.TargetHealthDescriptions!.find((d) => d.TargetHealth?.State === 'unhealthy')!;
    expect(bad.TargetHealth).toMatchObject({ Reason: 'Target.ResponseCodeMismatch' });
    expect(bad.TargetHealth?.Description).toContain('404');
    expect(bad.Target?.Id).toMatch(/^i-/);
  });

  it('with EC2 health checks (the default) a broken image replaces every instance and the refresh succeeds', async () => {
    const name = await group(2, { healthCheckType: 'default' });
    const before = await instancesOf(name);
    launcher.push(name, 'latest', { version: 'v2-broken', healthy: false });
    const { InstanceRefreshId } = await start(name, { Preferences: { MinHealthyPercentage: 50, AutoRollback: false } });
    const { final, reasons } = await settle(name, InstanceRefreshId!);
    const g = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups![0]!;
    expect(g.HealthCheckType).toBe('EC2');
    // No InstanceWarmup: AWS warms each batch up for the group's HealthCheckGracePeriod.
    expect(reasons).toContain('Waiting for instances to warm up before continuing.');
    expect(final.Status).toBe('Successful');
    const after = await instancesOf(name);
    expect(after.map((i) => i.HealthStatus)).toEqual(['Healthy', 'Healthy']);
    expect(after.some((i) => before.some((b) => b.InstanceId === i.InstanceId))).toBe(false);
    // EC2 status checks pass, but the load balancer has nothing healthy to route to.
    expect(await versionsThroughLb(name, 2)).toEqual(new Set([expect.stringMatching(/^503/)]));
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.TargetGroupARNs![0]! }));
    expect(health.TargetHealthDescriptions!.map((d) => d.TargetHealth?.State)).toEqual(['unhealthy', 'unhealthy']);
  });

  it('with ELB health checks an unhealthy replacement is replaced, and the refresh goes on', async () => {
    const name = await group(2);
    launcher.push(name, 'latest', { version: 'v2-broken', healthy: false });
    const { InstanceRefreshId } = await start(name, { Preferences: { MinHealthyPercentage: 50 } });
    // The first replacement turns Unhealthy; the image is fixed before AWS launches the next one.
    await poll({
      what: 'the first unhealthy replacement',
      timeoutMs: 30_000,
      minDelayMs: 10,
      maxDelayMs: 10,
      check: async () => {
        const r = await describe1(name, InstanceRefreshId!);
        if (r.Status === 'Failed') throw new Error(`The refresh failed at once: ${r.StatusReason}`);
        return { done: /Replacing unhealthy instance/.test(r.StatusReason ?? ''), value: undefined };
      },
    });
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const { final } = await settle(name, InstanceRefreshId!);
    expect(final.Status).toBe('Successful');
    expect(await versionsThroughLb(name, 4)).toEqual(new Set(['200 v2']));
  });

  it('rolls back by itself with AutoRollback and a DesiredConfiguration', async () => {
    const name = await group(2);
    const digestV1 = launcher.tags.get(`${name}:latest`)!;
    launcher.push(name, 'v2', { version: 'v2-broken', healthy: false });
    const v2 = asg.addTemplateVersion(name, { repository: name, reference: 'v2' });
    const lt = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })))
      .AutoScalingGroups![0]!.LaunchTemplate!;
    const { InstanceRefreshId } = await start(name, {
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: v2 } },
      Preferences: { MinHealthyPercentage: 50, AutoRollback: true },
    });
    const { final, seen } = await settle(name, InstanceRefreshId!);
    expect(seen).toContain('RollbackInProgress');
    expect(final.Status).toBe('RollbackSuccessful');
    expect(final.RollbackDetails?.RollbackReason).toMatch(/unhealthy/);
    expect(final.RollbackDetails?.RollbackStartTime).toBeInstanceOf(Date);
    expect(final.DesiredConfiguration?.LaunchTemplate?.Version).toBe(v2);
    const instances = await instancesOf(name);
    expect(instances.map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1']);
    expect(asg.liveInstances(name).map((i) => i.digest)).toEqual([digestV1, digestV1]);
    expect(await versionsThroughLb(name, 4)).toEqual(new Set(['200 v1']));
  });

  it('refuses AutoRollback without a DesiredConfiguration, and bad preferences, before starting', async () => {
    const name = await group(1);
    const cases: [StartInstanceRefreshCommandInput['Preferences'], RegExp][] = [
      [{ AutoRollback: true }, /DesiredConfiguration/],
      [{ MinHealthyPercentage: 50, MaxHealthyPercentage: 200 }, /must not exceed 100/],
      [{ CheckpointPercentages: [50, 20, 100] }, /ascending/],
      [{ CheckpointPercentages: [20, 20, 100] }, /unique/],
      [{ CheckpointPercentages: [0, 100] }, /checkpointPercentages/],
      [{ CheckpointDelay: 60 }, /CheckpointPercentages/],
      [{ BakeTime: 172_801 }, /bakeTime/],
      [{ MinHealthyPercentage: 101 }, /minHealthyPercentage/],
    ];
    for (const [Preferences, message] of cases) {
      const error = await start(name, { Preferences }).catch((e: unknown) => e);
      expect(error).toMatchObject({ Code: 'ValidationError' });
      expect((error as Error).message).toMatch(message);
    }
    const missing = await start('no-such-group').catch((e: unknown) => e);
    expect((missing as Error).message).toContain('AutoScalingGroup name not found');
    expect(asg.groups.get(name)!.refreshes).toHaveLength(0);
  });

  it('RollbackInstanceRefresh: refused without a DesiredConfiguration or on $Latest, honoured with one', async () => {
    const plain = await group(1);
    const plainId = (await start(plain, { Preferences: { InstanceWarmup: 200 } })).InstanceRefreshId!;
    const refused = await autoscaling
      .send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: plain }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'IrreversibleInstanceRefreshFault', Code: 'IrreversibleInstanceRefresh' });
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: plain }));
    await settle(plain, plainId);

    const latest = await group(1, { version: '$Latest' });
    const lt1 = asg.groups.get(latest)!.template;
    launcher.push(latest, 'v2', { version: 'v2', healthy: true });
    const v2l = asg.addTemplateVersion(latest, { repository: latest, reference: 'v2' });
    const latestId = (
      await start(latest, {
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: lt1.id, Version: v2l } },
        Preferences: { InstanceWarmup: 200 },
      })
    ).InstanceRefreshId!;
    const refusedLatest = await autoscaling
      .send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: latest }))
      .catch((e: unknown) => e);
    expect(refusedLatest).toMatchObject({ name: 'IrreversibleInstanceRefreshFault' });
    expect((refusedLatest as Error).message).toContain('$Latest');
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: latest }));
    await settle(latest, latestId);

    const name = await group(2);
    const lt = asg.groups.get(name)!.template;
    launcher.push(name, 'v2', { version: 'v2', healthy: true });
    const v2 = asg.addTemplateVersion(name, { repository: name, reference: 'v2' });
    const id = (
      await start(name, {
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateName: lt.name, Version: v2 } },
        Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 40 },
      })
    ).InstanceRefreshId!;
    await poll({
      what: 'first replacement',
      timeoutMs: 10_000,
      minDelayMs: 20,
      maxDelayMs: 20,
      check: async () => ({ done: asg.groups.get(name)!.refreshes[0]!.launched.size > 0, value: undefined }),
    });
    const rolled = await autoscaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: name }));
    expect(rolled.InstanceRefreshId).toBe(id);
    const { final } = await settle(name, id);
    expect(final.Status).toBe('RollbackSuccessful');
    expect(final.RollbackDetails?.RollbackReason).toContain('requested by user');
    expect((await instancesOf(name)).every((i) => i.LaunchTemplate?.Version === '1')).toBe(true);
    const none = await autoscaling
      .send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: name }))
      .catch((e: unknown) => e);
    expect(none).toMatchObject({ name: 'ActiveInstanceRefreshNotFoundFault' });
  });

  it('SkipMatching compares launch template versions only, as AWS does: a moved boot tag is not a change', async () => {
    const name = await group(3);
    const before = (await instancesOf(name)).map((i) => i.InstanceId);
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const skipped = await settle(name, (await start(name, { Preferences: { SkipMatching: true } })).InstanceRefreshId!);
    expect(skipped.final).toMatchObject({ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 });
    expect((await instancesOf(name)).map((i) => i.InstanceId)).toEqual(before);
    expect(await versionsThroughLb(name, 3)).toEqual(new Set(['200 v1']));

    const v2 = asg.addTemplateVersion(name, { repository: name, reference: 'latest' });
    const lt = asg.groups.get(name)!.template;
    const desired = { LaunchTemplate: { LaunchTemplateId: lt.id, Version: v2 } };
    const moved = await start(name, { DesiredConfiguration: desired, Preferences: { SkipMatching: true } });
    expect((await settle(name, moved.InstanceRefreshId!)).final.Status).toBe('Successful');
    const replaced = (await instancesOf(name)).map((i) => i.InstanceId);
    expect(replaced.filter((id) => before.includes(id))).toEqual([]);
    expect(await versionsThroughLb(name, 3)).toEqual(new Set(['200 v2']));
    const groupView = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    expect(groupView.AutoScalingGroups![0]!.LaunchTemplate?.Version).toBe(v2);

    const again = await start(name, { DesiredConfiguration: desired, Preferences: { SkipMatching: true } });
    expect((await settle(name, again.InstanceRefreshId!)).final.Status).toBe('Successful');
    expect((await instancesOf(name)).map((i) => i.InstanceId)).toEqual(replaced);
  });

  it('waits at checkpoints, bakes, and reports progress as it goes', async () => {
    const name = await group(4);
    launcher.push(name, 'latest', { version: 'v2', healthy: true });
    const { InstanceRefreshId } = await start(name, {
      Preferences: {
        MinHealthyPercentage: 50,
        CheckpointPercentages: [50, 100],
        CheckpointDelay: 60,
        BakeTime: 60,
      },
    });
    const { final, seen, reasons } = await settle(name, InstanceRefreshId!);
    expect(final.Status).toBe('Successful');
    expect(seen).toEqual(expect.arrayContaining(['InProgress', 'Baking', 'Successful']));
    expect(reasons).toContain('Waiting for checkpoint delay at 50% complete.');
  });

  it('fails after waiting on a scale-in protected instance with ScaleInProtectedInstances=Wait', async () => {
    const name = await group(2);
    asg.setInstance(name, 0, { protectedFromScaleIn: true });
    const { InstanceRefreshId } = await start(name, { Preferences: { ScaleInProtectedInstances: 'Wait' } });
    const { final, reasons } = await settle(name, InstanceRefreshId!);
    expect(reasons.some((r) => r.startsWith('Waiting for instances to be unprotected'))).toBe(true);
    expect(final.Status).toBe('Failed');
    expect(final.StatusReason).toContain('protected from scale in');
  });

  it('waits on protected and Standby instances by default (the API default is Wait), then fails', async () => {
    const name = await group(2);
    const before = (await instancesOf(name)).map((i) => i.InstanceId);
    asg.setInstance(name, 0, { protectedFromScaleIn: true });
    const { InstanceRefreshId } = await start(name);
    const { final, reasons } = await settle(name, InstanceRefreshId!);
    expect(final.Preferences).toMatchObject({ ScaleInProtectedInstances: 'Wait', StandbyInstances: 'Wait' });
    expect(reasons.some((r) => r.startsWith('Waiting for instances to be unprotected'))).toBe(true);
    expect(final.Status).toBe('Failed');
    expect((await instancesOf(name)).map((i) => i.InstanceId)).toEqual(before);

    const standby = await group(2);
    asg.setInstance(standby, 1, { standby: true });
    const second = await settle(standby, (await start(standby)).InstanceRefreshId!);
    expect(second.final.Status).toBe('Failed');
  });

  it('skips protected and Standby instances with Ignore, replaces them with Refresh and Terminate', async () => {
    const name = await group(3);
    asg.setInstance(name, 0, { protectedFromScaleIn: true });
    asg.setInstance(name, 1, { standby: true });
    const [kept, parked] = (await instancesOf(name)).map((i) => i.InstanceId);
    const ignored = await start(name, {
      Preferences: { ScaleInProtectedInstances: 'Ignore', StandbyInstances: 'Ignore', MinHealthyPercentage: 0 },
    });
    expect((await settle(name, ignored.InstanceRefreshId!)).final.Status).toBe('Successful');
    const afterIgnore = (await instancesOf(name)).map((i) => i.InstanceId);
    expect(afterIgnore).toEqual(expect.arrayContaining([kept, parked]));
    expect(afterIgnore).toHaveLength(3);

    const replaced = await start(name, {
      Preferences: { ScaleInProtectedInstances: 'Refresh', StandbyInstances: 'Terminate', MinHealthyPercentage: 0 },
    });
    expect((await settle(name, replaced.InstanceRefreshId!)).final.Status).toBe('Successful');
    const afterRefresh = (await instancesOf(name)).map((i) => i.InstanceId);
    expect(afterRefresh).not.toContain(kept);
    expect(afterRefresh).not.toContain(parked);
  });

  it("warms up for the group's DefaultInstanceWarmup when InstanceWarmup is not given", async () => {
    const name = `web-${++groupCounter}`;
    launcher.push(name, 'latest', { version: 'v1', healthy: true });
    await asg.createGroup({ name, repository: name, instances: 1, defaultInstanceWarmup: 20 });
    const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    expect(out.AutoScalingGroups![0]!.DefaultInstanceWarmup).toBe(20);
    const { reasons, final } = await settle(name, (await start(name)).InstanceRefreshId!);
    expect(final.Status).toBe('Successful');
    expect(reasons).toContain('Waiting for instances to warm up before continuing.');
  });

  it('waits an hour at a checkpoint when CheckpointDelay is not given, as AWS does', async () => {
    const name = await group(2);
    const { InstanceRefreshId } = await start(name, {
      Preferences: { MinHealthyPercentage: 50, CheckpointPercentages: [50, 100] },
    });
    const atCheckpoint = await poll({
      what: 'the checkpoint',
      timeoutMs: 30_000,
      minDelayMs: 20,
      maxDelayMs: 40,
      check: async () => {
        const r = await describe1(name, InstanceRefreshId!);
        return r.StatusReason?.startsWith('Waiting for checkpoint delay') ? { done: true, value: r } : { done: false };
      },
    });
    expect(atCheckpoint.Preferences?.CheckpointDelay).toBe(3600);
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }));
    expect((await settle(name, InstanceRefreshId!)).final.Status).toBe('Cancelled');
  });

  it('accepts checkpoints that do not end at 100 and replaces only that share of the group', async () => {
    const name = await group(4);
    const before = (await instancesOf(name)).map((i) => i.InstanceId);
    const { InstanceRefreshId } = await start(name, {
      Preferences: { MinHealthyPercentage: 50, CheckpointPercentages: [25, 50], CheckpointDelay: 2 },
    });
    expect((await settle(name, InstanceRefreshId!)).final.Status).toBe('Successful');
    const after = (await instancesOf(name)).map((i) => i.InstanceId);
    expect(after.filter((id) => before.includes(id))).toHaveLength(2);
  });

  it('pages refreshes up to MaxRecords 100 and rejects more with a ValidationError', async () => {
    const name = await group(1);
    const out = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 100 }),
    );
    expect(out.InstanceRefreshes).toEqual([]);
    const error = await autoscaling
      .send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 101 }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as Error).message).toContain('less than or equal to 100');
  });

  it('fails the refresh when a watched alarm goes off', async () => {
    const name = await group(2);
    asg.alarmsInAlarm.add('web-5xx');
    const { InstanceRefreshId } = await start(name, {
      Preferences: { AlarmSpecification: { Alarms: ['web-5xx'] } },
    });
    const { final } = await settle(name, InstanceRefreshId!);
    asg.alarmsInAlarm.delete('web-5xx');
    expect(final).toMatchObject({ Status: 'Failed', StatusReason: 'The alarm web-5xx is in ALARM state.' });
  });

  it('lists refreshes newest first and pages them', async () => {
    const name = await group(1);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = (await start(name, { Preferences: { SkipMatching: true } })).InstanceRefreshId!;
      await settle(name, id);
      ids.push(id);
    }
    const first = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 2 }),
    );
    expect(first.InstanceRefreshes!.map((r) => r.InstanceRefreshId)).toEqual([ids[2], ids[1]]);
    const second = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 2, NextToken: first.NextToken }),
    );
    expect(second.InstanceRefreshes!.map((r) => r.InstanceRefreshId)).toEqual([ids[0]]);
    expect(second.NextToken).toBeUndefined();
  });

  it('serves throttling faults the SDK retries', async () => {
    const name = await group(1);
    aws.faults.add({ kind: 'throttle', service: 'autoscaling', operation: 'DescribeAutoScalingGroups', times: 2 });
    expect(await instancesOf(name)).toHaveLength(1);
    expect(aws.callsOf('DescribeAutoScalingGroups', 'autoscaling').length).toBeGreaterThanOrEqual(3);
  });
});

/** Until the group lists exactly `count` instances, all InService (terminated ones drop out of the list). */
function untilInService(name: string, count: number) {
  return poll({
    what: `${count} instances InService in ${name}`,
    timeoutMs: 30_000,
    minDelayMs: 20,
    maxDelayMs: 40,
    check: async () => {
      const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
      const all = out.AutoScalingGroups![0]!.Instances!;
      const ok = all.length === count && all.every((i) => i.LifecycleState === 'InService');
      return ok ? { done: true, value: all } : { done: false };
    },
  });
}

/** Until the group's target group has exactly `count` healthy targets (what the load balancer routes to). */
function untilHealthyTargets(name: string, count: number) {
  return poll({
    what: `${count} healthy targets of ${name}`,
    timeoutMs: 30_000,
    minDelayMs: 20,
    maxDelayMs: 40,
    check: async () => {
      const out = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
      const arn = out.AutoScalingGroups![0]!.TargetGroupARNs![0]!;
      const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      const healthy = (health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy');
      return healthy.length === count ? { done: true, value: healthy } : { done: false };
    },
  });
}

describe('scale to zero and back (the schedule action)', () => {
  it('desired 0 terminates every instance process; back to 3 boots new ones behind the load balancer', async () => {
    const name = await group(2);
    const before = asg.liveInstances(name).map((i) => i.url!);
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, DesiredCapacity: 0 }),
    );
    await untilInService(name, 0);
    // The instances' own processes are gone, not just out of the load balancer.
    for (const url of before) await expect(fetch(`${url}/version`)).rejects.toThrow();
    const down = await fetch(`${asg.loadBalancerUrl(name)}/version`).then((r) => r.status);
    expect(down).toBe(503);

    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 3, DesiredCapacity: 3 }),
    );
    await untilInService(name, 3);
    // As behind an ALB, an instance InService is routed to once its target is healthy: wait for the target group.
    await untilHealthyTargets(name, 3);
    expect(await versionsThroughLb(name)).toEqual(new Set(['200 v1']));
  });

  it('refuses a desired capacity outside [min, max] with a ValidationError, changing nothing', async () => {
    const name = await group(1);
    await expect(
      autoscaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0, DesiredCapacity: 9 }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('must be between') });
    expect(asg.liveInstances(name)).toHaveLength(1);
  });

  it('keeps tags on the group as AWS does: shown by DescribeAutoScalingGroups, aws: refused, at most 50', async () => {
    const name = await group(1);
    const tag = (Key: string, Value = '1') => ({
      ResourceId: name,
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: false,
    });
    await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('aws-deploy-kit:paused-desired', '1')] }));
    await autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('aws-deploy-kit:paused-desired', '2')] }));
    const described = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    expect(described.AutoScalingGroups![0]!.Tags).toEqual([
      {
        ResourceId: name,
        ResourceType: 'auto-scaling-group',
        Key: 'aws-deploy-kit:paused-desired',
        Value: '2',
        PropagateAtLaunch: false,
      },
    ]);
    await expect(autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('aws:owner')] }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
    const many = Array.from({ length: 50 }, (_, i) => tag(`k${i}`));
    await expect(autoscaling.send(new CreateOrUpdateTagsCommand({ Tags: many }))).rejects.toMatchObject({
      name: 'LimitExceededFault',
    });
    await autoscaling.send(new DeleteTagsCommand({ Tags: [tag('aws-deploy-kit:paused-desired')] }));
    const after = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    expect(after.AutoScalingGroups![0]!.Tags).toEqual([]);
  });
});

describe('ELBv2 emulator through the real SDK', () => {
  it('describes the target groups of a group and the health of their targets', async () => {
    const name = await group(2);
    const arn = asg.groups.get(name)!.targetGroupArns[0]!;
    const tgs = await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }));
    expect(tgs.TargetGroups![0]).toMatchObject({ TargetGroupArn: arn, HealthCheckPath: '/health', Port: 8080 });
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    expect(health.TargetHealthDescriptions!.map((d) => d.TargetHealth?.State)).toEqual(['healthy', 'healthy']);
    expect(health.TargetHealthDescriptions!.map((d) => d.Target?.Id).sort()).toEqual(
      (await instancesOf(name)).map((i) => i.InstanceId).sort(),
    );
  });

  it('answers TargetGroupNotFound for an unknown target group', async () => {
    const error = await elbv2
      .send(new DescribeTargetHealthCommand({ TargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:1:tg/x/1' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TargetGroupNotFoundException', Code: 'TargetGroupNotFound' });
  });
});
