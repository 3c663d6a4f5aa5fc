import { DescribeServicesCommand, ECSClient, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-ecs';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { pushSampleVersions } from '../../sandbox/sample-app';

// The shipped schedule bundle (and deploy-ecs against a paused service) on the sandbox, whose ECS tasks, App Runner
// revisions and Auto Scaling instances really run the pushed image: "paused" is checked as a URL that no longer
// answers, "resumed" as the same URL serving the same commit again.
jest.setTimeout(300_000);

const commits = { c1: 'a1'.repeat(20), c2: 'a2'.repeat(20) };
type Commit = keyof typeof commits;
const digests = {} as Record<Commit, string>;

let sandbox: Sandbox;
let ecs: ECSClient;
const uri = (c: Commit) => `${sandbox.registry.host}/app@${digests[c]}`;
const secrets = () => [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password];

beforeAll(async () => {
  sandbox = await startSandbox();
  Object.assign(process.env, sandbox.aws.clientEnv());
  ecs = new ECSClient({});
  sandbox.ecr.createRepository('app');
  Object.assign(
    digests,
    await pushSampleVersions(sandbox, 'app', { c1: { sha: commits.c1 }, c2: { sha: commits.c2 } }),
  );
}, 300_000);

afterAll(async () => {
  ecs?.destroy();
  await sandbox?.stop();
});

afterEach(async () => {
  await sandbox.ecs.settle();
});

function schedule(mode: 'pause' | 'resume', target: Record<string, string>, extra: Record<string, string> = {}) {
  return runBundle('schedule', {
    inputs: {
      mode,
      environment: 'staging',
      region: 'us-east-1',
      'health-interval-seconds': '0.2',
      'health-consecutive-successes': '2',
      'health-timeout-minutes': '1',
      'timeout-minutes': '3',
      ...target,
      ...extra,
    },
    env: sandbox.env(),
    secrets: secrets(),
  });
}

/** `status body` of one GET, or `down` when nothing answers. */
async function answer(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return `${res.status} ${(await res.text()).trim()}`;
  } catch {
    return 'down';
  }
}

async function serviceTags(name: string): Promise<Record<string, string>> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [name], include: ['TAGS'] }));
  return Object.fromEntries((out.services![0]!.tags ?? []).map((t) => [t.key!, t.value!]));
}

function expectOk(run: BundleRun): void {
  if (run.exitCode !== 0) throw new Error(`the bundle failed:\n${run.log}`);
}

describe('an ECS service', () => {
  let url = '';
  let arn = '';
  const name = 'web-sched';
  const target = { target: 'ecs', cluster: 'prod', 'ecs-service': name };

  beforeAll(async () => {
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name,
      image: uri('c1'),
      containerName: 'web',
      desiredCount: 2,
    });
    url = created.url;
    arn = created.serviceArn;
  });

  it('pause: no task runs, the URL no longer answers, and the count is saved on the service', async () => {
    expect(await answer(`${url}/version`)).toBe(`200 ${commits.c1}`);
    const run = await schedule('pause', target);
    expectOk(run);
    expect(run.outputs.result).toBe('paused');
    expect(run.log).toContain('desired count 2 → 0');
    expect(sandbox.ecs.runningImages('prod', name)).toEqual([]);
    expect(await answer(`${url}/version`)).not.toMatch(/^200/);
    expect(await serviceTags(name)).toMatchObject({ 'aws-deploy-kit:paused-desired': '2' });
  });

  it('a second pause changes nothing and says so', async () => {
    const run = await schedule('pause', target);
    expectOk(run);
    expect(run.outputs.result).toBe('already-paused');
    expect(run.log).toMatch(/is already paused \(since \d{4}-\d\d-\d\dT[\d:]+Z\): nothing to do/);
  });

  it('a deploy to the paused service fails clearly, changing nothing', async () => {
    const run = await deployEcs('c2', {});
    expect(run.exitCode).not.toBe(0);
    expect(run.errors.join('\n')).toContain(`ECS service ${name} (cluster prod) is paused by the schedule action`);
    expect(run.errors.join('\n')).toContain('set on-paused: resume');
    expect(sandbox.ecs.runningImages('prod', name)).toEqual([]);
    expect(await serviceTags(name)).toMatchObject({ 'aws-deploy-kit:paused-desired': '2' });
  });

  it('resume: the saved count runs again, the tags are gone, and the URL serves the same commit (verified)', async () => {
    const run = await schedule('resume', target, { 'health-url': `${url}/health` });
    expectOk(run);
    expect(run.outputs.result).toBe('resumed');
    expect(run.log).toContain('desired count 0 → 2');
    expect(run.log).toMatch(/healthy target\(s\)/);
    expect(run.log).toContain('/health is healthy again');
    expect(sandbox.ecs.runningImages('prod', name)).toEqual([digests.c1, digests.c1]);
    expect(await answer(`${url}/version`)).toBe(`200 ${commits.c1}`);
    expect(Object.keys(await serviceTags(name)).filter((k) => k.startsWith('aws-deploy-kit:'))).toEqual([]);
  });

  it('a second resume changes nothing: the service was not paused by us', async () => {
    const run = await schedule('resume', target);
    expectOk(run);
    expect(run.outputs.result).toBe('not-paused');
    expect(run.log).toContain('it was not paused by aws-deploy-kit');
  });

  it('a service tagged keep-running=true is skipped with a log line and keeps serving', async () => {
    await ecs.send(
      new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'aws-deploy-kit:keep-running', value: 'true' }] }),
    );
    try {
      const run = await schedule('pause', target);
      expectOk(run);
      expect(run.outputs.result).toBe('kept-running');
      expect(run.log).toContain('it is tagged aws-deploy-kit:keep-running=true');
      expect(await answer(`${url}/version`)).toBe(`200 ${commits.c1}`);
    } finally {
      await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['aws-deploy-kit:keep-running'] }));
    }
  });

  it('with on-paused: resume, a deploy to the paused service resumes it first, then deploys', async () => {
    expectOk(await schedule('pause', target));
    expect(await answer(`${url}/version`)).not.toMatch(/^200/);
    const run = await deployEcs('c2', { 'on-paused': 'resume' });
    expectOk(run);
    expect(run.log).toContain('on-paused is resume: resuming it before the deploy');
    expect(run.log.indexOf('desired count 0 → 2')).toBeLessThan(run.log.indexOf('Deployed '));
    expect(await answer(`${url}/version`)).toBe(`200 ${commits.c2}`);
    expect(sandbox.ecs.runningImages('prod', name)).toEqual([digests.c2, digests.c2]);
  });

  function deployEcs(c: Commit, inputs: Record<string, string>): Promise<BundleRun> {
    return runBundle('deploy-ecs', {
      inputs: {
        cluster: 'prod',
        'ecs-service': name,
        image: uri(c),
        region: 'us-east-1',
        'health-url': `${url}/health`,
        'expected-version': 'sha',
        'health-interval-seconds': '0.2',
        'health-consecutive-successes': '2',
        'health-timeout-minutes': '0.5',
        'timeout-minutes': '3',
        ...inputs,
      },
      env: { ...sandbox.env(), GITHUB_SHA: commits[c] },
      secrets: secrets(),
    });
  }
});

describe('an App Runner service', () => {
  it('pause stops its revision (the URL no longer answers); resume brings the same commit back', async () => {
    const created = await sandbox.apprunner.createService({
      ServiceName: 'web-sched-ar',
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: uri('c1'),
          ImageRepositoryType: 'ECR',
          ImageConfiguration: { Port: '8080' },
        },
        AutoDeploymentsEnabled: false,
      },
      HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 1 },
    });
    expect(await sandbox.apprunner.settled(created.ServiceArn, created.OperationId)).toBe('SUCCEEDED');
    const target = { target: 'apprunner', 'service-arn': created.ServiceArn };
    const url = sandbox.apprunner.url(created.ServiceArn);

    const paused = await schedule('pause', target);
    expectOk(paused);
    expect(paused.outputs.result).toBe('paused');
    expect(sandbox.apprunner.liveDigest(created.ServiceArn)).toBeUndefined();
    expect(await answer(`${url}/version`)).not.toMatch(/^200/);

    const resumed = await schedule('resume', target);
    expectOk(resumed);
    expect(resumed.outputs.result).toBe('resumed');
    expect(resumed.log).toContain('PAUSED → RUNNING');
    // health-url defaults to /health on the service URL.
    expect(resumed.log).toContain('/health is healthy again');
    expect(await answer(`${url}/version`)).toBe(`200 ${commits.c1}`);
  });
});

describe('an Auto Scaling group', () => {
  it('pause terminates its instances; resume boots min and desired again behind the load balancer', async () => {
    const v1 = await sandbox.registry.client.manifest('app', `sha-${commits.c1}`);
    await sandbox.registry.client.putManifest('app', 'staging', v1!.mediaType, v1!.bytes);
    await sandbox.autoscaling.createGroup({
      name: 'web-sched-asg',
      repository: 'app',
      bootTag: 'staging',
      instances: 2,
      healthCheckType: 'ELB',
    });
    const url = sandbox.autoscaling.loadBalancerUrl('web-sched-asg');
    const target = { target: 'asg', 'asg-name': 'web-sched-asg' };
    try {
      const paused = await schedule('pause', target);
      expectOk(paused);
      expect(paused.log).toContain('min 2 → 0, desired 2 → 0');
      expect(sandbox.autoscaling.liveInstances('web-sched-asg')).toEqual([]);
      expect(await answer(`${url}/version`)).toMatch(/^503/);

      const resumed = await schedule('resume', target, { 'health-url': `${url}/health` });
      expectOk(resumed);
      expect(resumed.log).toContain('min 0 → 2, desired 0 → 2');
      expect(sandbox.autoscaling.liveInstances('web-sched-asg')).toHaveLength(2);
      expect(await answer(`${url}/version`)).toBe(`200 ${commits.c1}`);
    } finally {
      await sandbox.autoscaling.deleteGroup('web-sched-asg');
    }
  });
});
