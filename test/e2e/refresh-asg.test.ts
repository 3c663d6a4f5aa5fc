import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { RUNNER_CANCEL, runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { systemClock } from '../../src/core/clock';
import { captureLogger } from '../../src/core/logger';
import { poll } from '../../src/core/poller';
import { type DeployRecord, newRecord, serializeRecord } from '../../src/core/record';
import { ecrBootTag } from '../../src/targets/asg/boot-tag';
import { rollbackAsg } from '../../src/targets/asg/rollback';

jest.setTimeout(180_000);

let sandbox: Sandbox;
let autoscaling: AutoScalingClient;
/** tag → digest of the sample app variants pushed to `app`. */
const digests: Record<string, string> = {};
let groupCounter = 0;
const groups: string[] = [];

function uri(tag: string): string {
  return `${sandbox.registry.host}/app@${digests[tag]}`;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  // Real processes take a moment to start; one "second" of warmup/bake/checkpoint delay lasts 10 ms.
  sandbox.autoscaling.timing = {
    bootMs: 100,
    healthCheckMs: 150,
    graceMs: 4_000,
    secondMs: 10,
    // One scaled hour of ScaleInProtectedInstances/StandbyInstances Wait would be 36 s; 2 s keeps the test short.
    waitMs: 2_000,
    pendingMs: 100,
  };
  Object.assign(process.env, sandbox.aws.clientEnv());
  autoscaling = new AutoScalingClient({});
  sandbox.ecr.createRepository('app');

  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const [tag, args] of [
    ['v1', ['--build-arg', 'VERSION=v1']],
    ['v2', ['--build-arg', 'VERSION=v2']],
    ['broken', ['--build-arg', 'VERSION=broken', '--build-arg', 'HEALTH=fail']],
  ] as const) {
    // --no-cache: podman's cache ignores a --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', `${host}/app:${tag}`, ...args, context], sandbox.env());
    await docker(['push', `${host}/app:${tag}`], sandbox.env());
    digests[tag] = (await sandbox.registry.client.manifest('app', tag))!.digest;
  }
}, 240_000);

afterAll(async () => {
  await sandbox?.stop();
});

afterEach(async () => {
  sandbox.aws.faults.clear();
  for (const name of groups.splice(0)) await sandbox.autoscaling.deleteGroup(name);
});

/** The boot tag `web-N` on v1, and a 4-instance group booting it. */
async function groupOnV1(
  instances = 4,
  healthCheckType: 'EC2' | 'ELB' = 'ELB',
): Promise<{ name: string; tag: string }> {
  const name = `web-${++groupCounter}`;
  const tag = `boot-${groupCounter}`;
  const v1 = await sandbox.registry.client.manifest('app', 'v1');
  await sandbox.registry.client.putManifest('app', tag, v1!.mediaType, v1!.bytes);
  await sandbox.autoscaling.createGroup({ name, repository: 'app', bootTag: tag, instances, healthCheckType });
  groups.push(name);
  return { name, tag };
}

function refresh(
  inputs: Record<string, string>,
  options: { cancelAfterMs?: number; env?: Record<string, string> } = {},
) {
  return runBundle('refresh-asg', {
    inputs,
    env: sandbox.env(),
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
    ...options,
  });
}

/** What `requests` requests through the group's load balancer answered at /version. */
async function versions(name: string, requests = 12): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const res = await fetch(`${sandbox.autoscaling.loadBalancerUrl(name)}/version`);
    seen.add(`${res.status} ${(await res.text()).trim()}`);
  }
  return seen;
}

async function bootTagDigest(tag: string): Promise<string | undefined> {
  return (await sandbox.registry.client.manifest('app', tag))?.digest;
}

async function refreshes(name: string) {
  const out = await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name }));
  return out.InstanceRefreshes ?? [];
}

/** Starts a slow refresh directly (as another job would), and waits until it is InProgress. */
async function otherJobsRefresh(name: string): Promise<string> {
  const { InstanceRefreshId } = await autoscaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: name,
      Preferences: { MinHealthyPercentage: 75, InstanceWarmup: 300 },
    }),
  );
  await poll({
    what: 'the other refresh',
    timeoutMs: 10_000,
    minDelayMs: 50,
    maxDelayMs: 50,
    check: async () => ({ done: (await refreshes(name))[0]?.Status === 'InProgress', value: undefined }),
  });
  return InstanceRefreshId!;
}

describe('refresh-asg against the sandbox', () => {
  it('rolls a new image through a 4-instance group without dropping below min healthy', async () => {
    const { name, tag } = await groupOnV1();
    const since = Date.now();
    const run = await refresh({
      'asg-name': name,
      image: uri('v2'),
      'boot-tag': tag,
      'min-healthy-percentage': '75',
      'instance-warmup': '30',
    });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'Successful', 'previous-image': digests.v1 });
    expect(run.outputs['refresh-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(await bootTagDigest(tag)).toBe(digests.v2);
    expect(await versions(name)).toEqual(new Set(['200 v2']));
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.digest)).toEqual(Array(4).fill(digests.v2));
    // 75% of 4: never fewer than 3 instances InService and passing health checks behind the load balancer.
    expect(sandbox.autoscaling.minInService(name, since)).toBeGreaterThanOrEqual(3);

    expect(run.log).toMatch(/Moved the boot tag app:boot-\d+ to sha256:/);
    expect(run.log).toMatch(/Instance refresh [0-9a-f-]+ of web-\d+: InProgress, \d+% complete, \d+ instances? left/);
    expect(run.log).toMatch(/All 4 load balancer targets of web-\d+ are healthy/);
    const record = JSON.parse(run.outputs.record ?? '') as DeployRecord;
    expect(record).toMatchObject({
      outcome: 'succeeded',
      target: { kind: 'asg', id: name },
      previous: { digest: digests.v1 },
      operations: [{ kind: 'instance-refresh', id: run.outputs['refresh-id'], status: 'Successful' }],
    });
    expect(run.summary).toContain('Auto Scaling refresh: succeeded');
  });

  it('fails on a broken image, and the rollback core brings the old version back on every instance', async () => {
    const { name, tag } = await groupOnV1();
    const run = await refresh({
      'asg-name': name,
      image: uri('broken'),
      'boot-tag': tag,
      'min-healthy-percentage': '75',
    });

    expect(run.exitCode).toBe(1);
    expect(run.outputs.status).toBe('Failed');
    expect(run.outputs['previous-image']).toBe(digests.v1);
    expect(run.errors.join('\n')).toMatch(/instance refresh .* of web-\d+ failed at \d+%: .*unhealthy/);
    expect(run.log).toContain('still points at the new image');
    expect(JSON.parse(run.outputs.record ?? '')).toMatchObject({ outcome: 'failed' });
    // Traffic only reaches the healthy old instances meanwhile.
    expect(await versions(name, 6)).toEqual(new Set(['200 v1']));

    const logger = captureLogger();
    const region = 'us-east-1';
    const result = await rollbackAsg(
      {
        autoscaling: new AutoScalingClient({ region }),
        elbv2: new ElasticLoadBalancingV2Client({ region }),
        clock: systemClock,
        logger,
        pollDelays: { minDelayMs: 200, maxDelayMs: 500 },
      },
      {
        groupName: name,
        bootTag: ecrBootTag(new ECRClient({ region }), 'app', tag, logger),
        previousDigest: run.outputs['previous-image']!,
        preferences: { minHealthyPercentage: 75 },
        timeoutMs: 120_000,
        verify: { url: `${sandbox.autoscaling.loadBalancerUrl(name)}/version`, expectedVersion: 'v1', intervalMs: 100 },
      },
    );
    expect(result).toMatchObject({ method: 'refresh', status: 'Successful', tagMoved: true });
    expect(result.targets).toHaveLength(4);
    expect(result.health?.healthy).toBe(true);
    expect(await bootTagDigest(tag)).toBe(digests.v1);
    expect(await versions(name)).toEqual(new Set(['200 v1']));
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.digest)).toEqual(Array(4).fill(digests.v1));
  });

  it('EC2 health checks: stops a broken image after the first replacements, where AWS would replace them all', async () => {
    const { name, tag } = await groupOnV1(4, 'EC2');
    const run = await refresh({
      'asg-name': name,
      image: uri('broken'),
      'boot-tag': tag,
      'min-healthy-percentage': '75',
      // 10 s a batch here: as on AWS (300 s grace and warmup by default), a batch outlasts the toolkit's 10 s looks.
      'instance-warmup': '1000',
      // The least time AWS would take (batches x 1000 s) must fit: the step refuses a refresh that cannot finish.
      'timeout-minutes': '120',
    });

    // AWS itself calls this refresh Successful with every instance on the broken image; the toolkit cancels it.
    expect(run.exitCode).toBe(1);
    expect(run.outputs.status).toBe('Cancelled');
    expect(run.log).toMatch(/uses EC2 health checks: .*--health-check-type ELB/);
    expect(run.errors.join('\n')).toMatch(
      /Replacement instance i-\w+ in web-\d+-tg is unhealthy .* past the health check grace period \(4s\)/,
    );
    expect(JSON.parse(run.outputs.record ?? '')).toMatchObject({ outcome: 'failed' });
    const live = sandbox.autoscaling.liveInstances(name).map((i) => i.digest);
    expect(live).toContain(digests.v1);
    expect(await versions(name, 6)).toEqual(new Set(['200 v1']));

    // The existing rollback path (the pipeline's on failure) brings v1 back on every instance.
    const logger = captureLogger();
    const region = 'us-east-1';
    const result = await rollbackAsg(
      {
        autoscaling: new AutoScalingClient({ region }),
        elbv2: new ElasticLoadBalancingV2Client({ region }),
        clock: systemClock,
        logger,
        pollDelays: { minDelayMs: 200, maxDelayMs: 500 },
      },
      {
        groupName: name,
        bootTag: ecrBootTag(new ECRClient({ region }), 'app', tag, logger),
        previousDigest: run.outputs['previous-image']!,
        preferences: { minHealthyPercentage: 75 },
        timeoutMs: 120_000,
      },
    );
    expect(result).toMatchObject({ method: 'refresh', status: 'Successful', tagMoved: true });
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.digest)).toEqual(Array(4).fill(digests.v1));
    expect(await versions(name)).toEqual(new Set(['200 v1']));
  });

  it('a rollback after a launch-template-version deploy puts the group back on its previous template version', async () => {
    const { name } = await groupOnV1(2);
    const v2 = sandbox.autoscaling.addTemplateVersion(name, { repository: 'app', reference: digests.v2! });
    const run = await refresh({ 'asg-name': name, 'launch-template-version': v2 });
    expect(run.exitCode).toBe(0);
    expect(run.outputs['previous-launch-template-version']).toBe('1');
    expect(await versions(name, 4)).toEqual(new Set(['200 v2']));

    // As the pipeline does when verification fails after a Successful refresh (AWS has moved the group to v2).
    const logger = captureLogger();
    const region = 'us-east-1';
    const result = await rollbackAsg(
      {
        autoscaling: new AutoScalingClient({ region }),
        elbv2: new ElasticLoadBalancingV2Client({ region }),
        clock: systemClock,
        logger,
        pollDelays: { minDelayMs: 200, maxDelayMs: 500 },
      },
      {
        groupName: name,
        launchTemplateVersion: run.outputs['previous-launch-template-version']!,
        preferences: { minHealthyPercentage: 50 },
        timeoutMs: 120_000,
      },
    );
    expect(result).toMatchObject({ method: 'refresh', status: 'Successful' });
    const group = await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
    expect(group.AutoScalingGroups?.[0]?.LaunchTemplate?.Version).toBe('1');
    expect(await versions(name, 4)).toEqual(new Set(['200 v1']));
  });

  it('reports an AWS AutoRollback of a launch template version as a failed deploy', async () => {
    const { name } = await groupOnV1();
    const broken = sandbox.autoscaling.addTemplateVersion(name, { repository: 'app', reference: digests.broken! });
    const run = await refresh({
      'asg-name': name,
      'launch-template-version': broken,
      'auto-rollback': 'true',
      'min-healthy-percentage': '75',
    });

    expect(run.exitCode).toBe(1);
    expect(run.outputs.status).toBe('RollbackSuccessful');
    const error = run.errors.join('\n');
    expect(error).toMatch(/failed and was rolled back/);
    expect(error).toMatch(/Rollback reason: .*unhealthy/);
    expect(JSON.parse(run.outputs.record ?? '')).toMatchObject({ outcome: 'rolled-back' });
    expect(await versions(name)).toEqual(new Set(['200 v1']));
  });

  it('on-busy fail: refuses to start, and leaves the boot tag where it was', async () => {
    const { name, tag } = await groupOnV1(2);
    const other = await otherJobsRefresh(name);
    const run = await refresh({ 'asg-name': name, image: uri('v2'), 'boot-tag': tag, 'on-busy': 'fail' });

    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toContain(`already has an active instance refresh ${other}`);
    expect(await bootTagDigest(tag)).toBe(digests.v1);
    expect((await refreshes(name)).map((r) => r.InstanceRefreshId)).toEqual([other]);
  });

  it('on-busy cancel: cancels the running refresh, then rolls out its own', async () => {
    const { name, tag } = await groupOnV1(2);
    const other = await otherJobsRefresh(name);
    const run = await refresh({
      'asg-name': name,
      image: uri('v2'),
      'boot-tag': tag,
      'on-busy': 'cancel',
      'min-healthy-percentage': '50',
    });

    expect(run.exitCode).toBe(0);
    expect(run.log).toContain(`Cancelling the active instance refresh ${other}`);
    const [ours, theirs] = await refreshes(name);
    expect(ours).toMatchObject({ InstanceRefreshId: run.outputs['refresh-id'], Status: 'Successful' });
    expect(theirs).toMatchObject({ InstanceRefreshId: other, Status: 'Cancelled' });
    expect(await versions(name, 4)).toEqual(new Set(['200 v2']));
  });

  it('on-busy wait: waits for the running refresh to end, then rolls out its own', async () => {
    const { name, tag } = await groupOnV1(2);
    const other = await otherJobsRefresh(name);
    const run = await refresh({
      'asg-name': name,
      image: uri('v2'),
      'boot-tag': tag,
      'min-healthy-percentage': '50',
    });

    expect(run.exitCode).toBe(0);
    expect(run.log).toContain(`Waiting for the active instance refresh ${other}`);
    const [ours, theirs] = await refreshes(name);
    expect(ours).toMatchObject({ InstanceRefreshId: run.outputs['refresh-id'], Status: 'Successful' });
    expect(theirs).toMatchObject({ InstanceRefreshId: other, Status: 'Successful' });
    expect(await versions(name, 4)).toEqual(new Set(['200 v2']));
  });

  it('cancels the refresh it started when the job is cancelled, and says so', async () => {
    const { name, tag } = await groupOnV1(2);
    const run = await refresh(
      {
        'asg-name': name,
        image: uri('v2'),
        'boot-tag': tag,
        'min-healthy-percentage': '50',
        // 2 batches, each warming up for 30 s of emulated time (3 s here): the cancel lands mid-refresh.
        'instance-warmup': '3000',
        // Two warmups of 3000 s are 100 minutes: a shorter timeout would be refused before the refresh starts.
        'timeout-minutes': '120',
      },
      { cancelAfterMs: 5_000 },
    );

    expect(run.exitCode).not.toBe(0);
    const id = run.state['refresh-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.errors.join('\n')).toMatch(new RegExp(`The job was cancelled: cancelled instance refresh ${id}`));
    expect(run.state.settled).toBe('true');
    await poll({
      what: 'the cancellation',
      timeoutMs: 30_000,
      minDelayMs: 100,
      maxDelayMs: 100,
      check: async () => ({ done: (await refreshes(name))[0]?.Status === 'Cancelled', value: undefined }),
    });

    // The post step finds the refresh settled and makes no call.
    const calls = sandbox.aws.calls.length;
    const post = await runBundle('refresh-asg-post', { env: sandbox.env(), state: run.state });
    expect(post.exitCode).toBe(0);
    expect(sandbox.aws.calls.length).toBe(calls);
  });

  it('the post step cancels a refresh the main step could not settle (killed outright)', async () => {
    const { name } = await groupOnV1(2);
    const other = await otherJobsRefresh(name);
    const post = await runBundle('refresh-asg-post', {
      env: sandbox.env(),
      state: { 'refresh-id': other, 'asg-name': name, region: 'us-east-1', 'cancel-on-abort': 'true' },
    });
    expect(post.exitCode).toBe(0);
    expect(post.warnings.join('\n')).toContain(`cancelled instance refresh ${other} of ${name}`);
    expect((await refreshes(name))[0]?.Status).toMatch(/^Cancell/);
  });

  it('keeps watching through a storm of throttled DescribeInstanceRefreshes calls', async () => {
    const { name, tag } = await groupOnV1(2);
    const started = sandbox.aws.callsOf('StartInstanceRefresh').length;
    // Three SDK attempts a call (AWS_MAX_ATTEMPTS, as a user may set it): the storm of nine outlasts one call's
    // retries, so it is the poller that has to ride it out. With the default ten, the SDK alone would.
    const running = refresh(
      {
        'asg-name': name,
        image: uri('v2'),
        'boot-tag': tag,
        'min-healthy-percentage': '50',
      },
      { env: { ...sandbox.env(), AWS_MAX_ATTEMPTS: '3' } },
    );
    // The storm begins once the refresh has started: every look at it is throttled for a while.
    await poll({
      what: 'the refresh to start',
      timeoutMs: 30_000,
      minDelayMs: 20,
      maxDelayMs: 20,
      check: async () => ({ done: sandbox.aws.callsOf('StartInstanceRefresh').length > started, value: undefined }),
    });
    sandbox.aws.faults.add({
      kind: 'throttle',
      service: 'autoscaling',
      operation: 'DescribeInstanceRefreshes',
      times: 9,
    });
    const run = await running;

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.status).toBe('Successful');
    expect(run.log).toContain('looking again shortly');
    expect(await versions(name, 4)).toEqual(new Set(['200 v2']));
  });

  it('rejects bad inputs before any AWS call', async () => {
    const calls = sandbox.aws.calls.length;
    const run = await refresh({
      'asg-name': 'web',
      'min-healthy-percentage': '50',
      'max-healthy-percentage': '200',
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/Input 'max-healthy-percentage' has an invalid value "200"/);
    expect(sandbox.aws.calls.length).toBe(calls);
  });

  it("warns of AWS's default Wait on a scale-in protected instance, and Ignore rolls out around it", async () => {
    const { name, tag } = await groupOnV1(2);
    sandbox.autoscaling.setInstance(name, 0, { protectedFromScaleIn: true });
    const protectedId = sandbox.autoscaling.liveInstances(name)[0]!.id;
    const waited = await refresh({
      'asg-name': name,
      image: uri('v2'),
      'boot-tag': tag,
      'min-healthy-percentage': '50',
    });
    expect(waited.exitCode).toBe(1);
    expect(waited.outputs.status).toBe('Failed');
    expect(waited.warnings.join('\n')).toMatch(
      /1 instance\(s\) protected from scale in and scale-in-protected-instances is empty, so AWS's API default Wait applies: AWS waits up to 1 h/,
    );
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.id)).toContain(protectedId);

    const ignored = await refresh({
      'asg-name': name,
      image: uri('v2'),
      'boot-tag': tag,
      'min-healthy-percentage': '50',
      'scale-in-protected-instances': 'Ignore',
    });
    expect(ignored.errors).toEqual([]);
    expect(ignored.outputs.status).toBe('Successful');
    expect(ignored.log).toContain('scale-in-protected-instances is Ignore: they are left as they are');
    const live = sandbox.autoscaling.liveInstances(name);
    expect(live.find((i) => i.id === protectedId)?.digest).toBe(digests.v1);
    expect(live.filter((i) => i.id !== protectedId).map((i) => i.digest)).toEqual([digests.v2]);
  });

  it('refuses, before any AWS call, checkpoints whose AWS default hour outlasts timeout-minutes', async () => {
    const calls = sandbox.aws.calls.length;
    const run = await refresh({ 'asg-name': 'web-x', 'checkpoint-percentages': '50,100', 'timeout-minutes': '30' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(
      /Input 'timeout-minutes' has an invalid value "30": expected at least 60 minutes.*checkpoint-delay is empty: AWS waits 3600 s/,
    );
    expect(sandbox.aws.calls.length).toBe(calls);
  });

  it('says so when skip-matching finds every instance on the target version and replaces none', async () => {
    const { name } = await groupOnV1(2);
    const before = sandbox.autoscaling.liveInstances(name).map((i) => i.id);
    const run = await refresh({ 'asg-name': name, 'skip-matching': 'true', 'launch-template-version': '1' });
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('Successful');
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.id)).toEqual(before);
    expect(run.warnings.join('\n')).toMatch(
      /skip-matching: every instance of web-\d+ already matched launch template version 1, so the refresh replaced no instance/,
    );
    expect(run.summary).toMatch(/\| Instances replaced \| 0 \(skip-matching/);
    const record = JSON.parse(run.outputs.record ?? '') as DeployRecord;
    expect(record.phases.find((p) => p.name === 'deploy')?.detail).toMatch(/no instance was replaced/);
  });

  describe('cancelled as a runner cancels a job', () => {
    // runBundle's default GITHUB_SHA: the commit the report looks up pull requests for.
    const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    /** 2 batches, each warming up for 3000 emulated seconds (30 s here): the signal lands mid-refresh. */
    const slow = { 'min-healthy-percentage': '50', 'instance-warmup': '3000', 'timeout-minutes': '120' };
    const finishCommand = (name: string) =>
      `aws autoscaling start-instance-refresh --region us-east-1 --auto-scaling-group-name ${name} --preferences '{"MinHealthyPercentage":50}'`;

    async function noRefreshRunning(name: string): Promise<string[]> {
      // CancelInstanceRefresh answers at once; the refresh itself turns Cancelled a moment later.
      await poll({
        what: 'the cancelled refresh to stop',
        timeoutMs: 30_000,
        minDelayMs: 100,
        maxDelayMs: 100,
        check: async () => ({ done: (await refreshes(name))[0]?.Status !== 'Cancelling', value: undefined }),
      });
      return (await refreshes(name)).map((r) => r.Status ?? '');
    }

    it('SIGINT then SIGTERM mid-refresh: stopped, boot tag back, outcome cancelled, and the report says so', async () => {
      const { name, tag } = await groupOnV1(2);
      sandbox.github.addPullRequest('octo-org/web', { number: 11, headSha: sha });
      const main = await runBundle('refresh-asg', {
        inputs: {
          'asg-name': name,
          image: uri('v2'),
          'boot-tag': tag,
          ...slow,
          record: serializeRecord(newRecord(sha, { environment: 'staging' })),
        },
        env: sandbox.env(),
        secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
        // SIGTERM while the step is settling (a runner waits 7.5 s; the step must not need it), SIGKILL as a runner.
        signals: [
          { signal: 'SIGINT', afterMs: 0 },
          { signal: 'SIGTERM', afterMs: 50 },
          { signal: 'SIGKILL', afterMs: RUNNER_CANCEL[2]!.afterMs },
        ],
        signalsWhen: /Instance refresh [0-9a-f-]+ of web-\d+: InProgress/,
      });

      // It ended by itself (SIGTERM did not cut the settling short), failing the step.
      expect(main.killedBy).toBeUndefined();
      expect(main.exitCode).toBe(1);
      const id = main.state['refresh-id']!;
      expect(main.errors.join('\n')).toContain(`The job was cancelled: cancelled instance refresh ${id} of ${name}`);
      expect(main.warnings).toContain(`To finish the rollback, run: ${finishCommand(name)}`);
      expect(main.state.settled).toBe('true');
      const record = JSON.parse(main.outputs.record ?? '') as DeployRecord;
      expect(record).toMatchObject({
        outcome: 'cancelled',
        previous: { digest: digests.v1 },
        operations: [{ kind: 'instance-refresh', id }],
        cancellation: { finish: finishCommand(name) },
      });
      expect(record.cancellation?.runsNow).toEqual([
        expect.stringMatching(new RegExp(`^instance refresh ${id}: Cancell(ing|ed).* \\(cancelled by this run\\)$`)),
        expect.stringMatching(
          new RegExp(`^instances of ${name}: those the refresh replaced .*run the new image ${digests.v2}`),
        ),
        `boot tag app:${tag}: ${digests.v1} (the previous image, moved back)`,
      ]);
      expect(main.summary).toContain(`### Auto Scaling refresh of ${name}: cancelled`);

      // The post step finds it settled: no call, nothing done twice.
      const calls = sandbox.aws.calls.length;
      const post = await runBundle('refresh-asg-post', { env: sandbox.env(), state: main.state });
      expect(post.exitCode).toBe(0);
      expect(sandbox.aws.calls.length).toBe(calls);

      expect(await noRefreshRunning(name)).toEqual(['Cancelled']);
      expect(await bootTagDigest(tag)).toBe(digests.v1);

      const report = await runBundle('report', {
        inputs: { record: main.outputs.record!, 'github-token': sandbox.github.token },
        env: sandbox.env(),
        secrets: [sandbox.github.token],
      });
      expect(report.exitCode).toBe(0);
      expect(report.warnings).toEqual([]);
      const github = sandbox.github.repo('octo-org/web');
      const deployment = github.deployments.find((d) => d.id === Number(report.outputs['deployment-id']));
      expect(deployment).toMatchObject({ ref: sha, environment: 'staging', payload: { outcome: 'cancelled' } });
      expect(github.latestStatus(deployment!.id)).toMatchObject({
        state: 'error',
        description: expect.stringContaining('a1b2c3d was cancelled'),
      });
      const comment = github.comments.find((c) => c.issue === 11)?.body ?? '';
      expect(comment).toContain('### Deploy staging: ⏹️ cancelled');
      expect(comment).toContain(`boot tag app:${tag}: ${digests.v1} (the previous image, moved back)`);
      expect(comment).toContain(`Finish the rollback: \`${finishCommand(name)}\``);
      expect(report.summary).toContain('## Deploy staging: ⏹️ cancelled');

      // The printed command does finish the rollback: every instance back on v1.
      const preferences = JSON.parse(/--preferences '(.*)'$/.exec(finishCommand(name))![1]!) as {
        MinHealthyPercentage: number;
      };
      const { InstanceRefreshId } = await autoscaling.send(
        new StartInstanceRefreshCommand({ AutoScalingGroupName: name, Preferences: preferences }),
      );
      await poll({
        what: 'the refresh that finishes the rollback',
        timeoutMs: 60_000,
        minDelayMs: 200,
        maxDelayMs: 200,
        check: async () => {
          const r = (await refreshes(name)).find((x) => x.InstanceRefreshId === InstanceRefreshId);
          return { done: r?.Status === 'Successful', value: undefined };
        },
      });
      expect(sandbox.autoscaling.liveInstances(name).map((i) => i.digest)).toEqual([digests.v1, digests.v1]);
      expect(await versions(name, 4)).toEqual(new Set(['200 v1']));
    });

    it('SIGKILL mid-refresh: the post step alone cancels it and moves the boot tag back', async () => {
      const { name, tag } = await groupOnV1(2);
      const main = await runBundle('refresh-asg', {
        inputs: { 'asg-name': name, image: uri('v2'), 'boot-tag': tag, ...slow },
        env: sandbox.env(),
        signals: [{ signal: 'SIGKILL', afterMs: 0 }],
        signalsWhen: /Started instance refresh/,
      });
      expect(main.killedBy).toBe('SIGKILL');
      const id = main.state['refresh-id']!;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(main.state.settled).toBeUndefined();
      expect(main.state['boot-tag-moved']).toBe('true');
      expect(await bootTagDigest(tag)).toBe(digests.v2);

      const post = await runBundle('refresh-asg-post', { env: sandbox.env(), state: main.state });
      expect(post.exitCode).toBe(0);
      const warnings = post.warnings.join('\n');
      expect(warnings).toContain(`The refresh-asg step ended early: cancelled instance refresh ${id} of ${name}`);
      expect(warnings).toContain(`Moved app:${tag} back to ${digests.v1}`);
      expect(warnings).toContain(`To finish the rollback, run: ${finishCommand(name)}`);
      expect(post.summary).toContain(`### Auto Scaling refresh of ${name}: cancelled`);
      expect(post.summary).toContain(finishCommand(name));

      expect(await noRefreshRunning(name)).toEqual(['Cancelled']);
      expect(await bootTagDigest(tag)).toBe(digests.v1);
    });
  });
});
