import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { targetFiveXxAlarm } from '../../sandbox/alarms';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { pushSampleVersions } from '../../sandbox/sample-app';
import { parseRecord } from '../../src/core/record';

// The bake against the sandbox: ECS tasks really run the images behind a load balancer, whose answers to real
// traffic are CloudWatch metrics; an alarm on the 5xx count goes to ALARM only when a revision really answers 5xx.
// `good` passes its /health and /version; `flaky` passes them too but answers 500 to most requests at /cgi-bin/api.
jest.setTimeout(240_000);

const commits = { v1: 'b1'.repeat(20), good: 'b2'.repeat(20), flaky: 'b3'.repeat(20) };
type Commit = keyof typeof commits;
const digests = {} as Record<Commit, string>;
let sandbox: Sandbox;
let cloudwatch: CloudWatchClient;
let counter = 0;
const uri = (c: Commit) => `${sandbox.registry.host}/app@${digests[c]}`;

beforeAll(async () => {
  sandbox = await startSandbox();
  // One emulated 60-second period lasts 1.2 s.
  sandbox.cloudwatch.timing.secondMs = 20;
  Object.assign(process.env, sandbox.aws.clientEnv());
  cloudwatch = new CloudWatchClient({});
  sandbox.ecr.createRepository('app');
  const built = await pushSampleVersions(sandbox, 'app', {
    v1: { sha: commits.v1 },
    good: { sha: commits.good },
    flaky: { sha: commits.flaky, buildArgs: ['ERRORS=80'] },
  });
  Object.assign(digests, built);
}, 300_000);

afterAll(async () => {
  cloudwatch?.destroy();
  await sandbox?.stop();
});

interface Service {
  name: string;
  url: string;
}

/** A 2-task service on v1, and an alarm on its load balancer's target 5xx count (any 5xx in a period). */
async function serviceWithAlarm(): Promise<Service> {
  const name = `web-${++counter}`;
  const created = await sandbox.ecs.createService({
    cluster: 'prod',
    name,
    image: uri('v1'),
    containerName: 'web',
    desiredCount: 2,
    healthCheckPath: '/health',
  });
  await sandbox.ecs.settle();
  await cloudwatch.send(
    new PutMetricAlarmCommand(
      targetFiveXxAlarm(`${name}-5xx`, sandbox.ecs.metricDimensions('prod', name).loadBalancer),
    ),
  );
  return { name, url: created.url };
}

function deploy(service: Service, c: Commit, inputs: Record<string, string> = {}): Promise<BundleRun> {
  return runBundle('deploy-ecs', {
    inputs: {
      cluster: 'prod',
      'ecs-service': service.name,
      image: uri(c),
      region: 'us-east-1',
      'health-url': `${service.url}/health`,
      'expected-version': 'sha',
      'health-interval-seconds': '0.2',
      'health-consecutive-successes': '2',
      'health-timeout-minutes': '0.5',
      'timeout-minutes': '3',
      alarms: `${service.name}-5xx`,
      'bake-time': '6',
      ...inputs,
    },
    env: { ...sandbox.env(), GITHUB_SHA: commits[c] },
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
  });
}

/** Real traffic through the load balancer until `done` settles: what users of the service would send. */
async function withTraffic<T>(service: Service, work: Promise<T>): Promise<T> {
  let over = false;
  const driver = (async () => {
    while (!over) {
      await fetch(`${service.url}/cgi-bin/api`).then(
        (r) => r.text(),
        () => '',
      );
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    return await work;
  } finally {
    over = true;
    await driver;
  }
}

async function version(service: Service): Promise<string> {
  return (await (await fetch(`${service.url}/version`)).text()).trim();
}

describe('the bake: alarms watched after the verification', () => {
  it('passes when the alarms stay OK under real traffic: a bake phase in the record', async () => {
    const service = await serviceWithAlarm();
    const run = await withTraffic(service, deploy(service, 'good'));
    expect(run.errors).toEqual([]);
    expect(run.outputs.outcome).toBe('succeeded');
    expect(run.log).toMatch(/Alarms to watch: web-\d+-5xx \(OK\)/);
    expect(run.log).toContain('The bake passed: no alarm went into ALARM in 6s.');
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record.phases.map((p) => [p.name, p.status])).toEqual([
      ['deploy', 'succeeded'],
      ['verify', 'succeeded'],
      ['bake', 'succeeded'],
    ]);
    expect(record.bake).toMatchObject({ seconds: 6, alarms: [{ name: `${service.name}-5xx`, state: 'OK' }] });
    expect(run.summary).toContain('✅ passed');
    expect(await version(service)).toBe(commits.good);
    // The alarm name went to the service's own deployment alarms too: ECS watches it during its rollouts.
    const { services } = await new ECSClient({}).send(
      new DescribeServicesCommand({ cluster: 'prod', services: [service.name] }),
    );
    expect(services?.[0]?.deploymentConfiguration?.alarms).toEqual({
      alarmNames: [`${service.name}-5xx`],
      enable: true,
      rollback: true,
    });
    expect(run.log).toContain(`The service's deployment alarms now include ${service.name}-5xx`);
  });

  it('rolls back when a version that passed its health check answers 5xx to real traffic', async () => {
    const service = await serviceWithAlarm();
    // A prefix is the bake's alone (ECS's deployment alarms take names): only the bake can catch this version.
    const run = await withTraffic(
      service,
      deploy(service, 'flaky', { alarms: `${service.name}-5x*`, 'bake-time': '20' }),
    );
    expect(run.exitCode).not.toBe(0);
    expect(run.outputs.outcome).toBe('rolled-back');
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record.phases.map((p) => [p.name, p.status])).toEqual([
      ['deploy', 'succeeded'],
      ['verify', 'succeeded'],
      ['bake', 'failed'],
      ['rollback', 'succeeded'],
    ]);
    expect(record.bake?.fired).toMatchObject({ name: `${service.name}-5xx` });
    expect(record.bake?.fired?.reason).toMatch(/^Threshold Crossed/);
    expect(Date.parse(record.bake?.fired?.at ?? '')).not.toBeNaN();
    expect(record.error).toContain(`The CloudWatch alarm ${service.name}-5xx went into ALARM during the bake`);
    expect(run.errors.join('\n')).toContain(`${service.name}-5xx`);
    // Back on what ran before, by the same rollback path as a failed verification.
    expect(await version(service)).toBe(commits.v1);
  });

  it('does not hold an alarm already in ALARM before the deploy against it, and says which', async () => {
    const service = await serviceWithAlarm();
    // Red for another reason (no data, treated as breaching): it says nothing about the new version.
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: `${service.name}-queue`,
        Namespace: 'Custom/Queue',
        MetricName: 'Depth',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 100,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      }),
    );
    expect(sandbox.cloudwatch.stateOf(`${service.name}-queue`)).toBe('ALARM');
    const run = await withTraffic(service, deploy(service, 'good', { alarms: `${service.name}-*` }));
    expect(run.errors).toEqual([]);
    expect(run.outputs.outcome).toBe('succeeded');
    expect(run.warnings.join('\n')).toContain(
      `Already in ALARM before this deploy, so not held against it: ${service.name}-queue`,
    );
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record.bake?.alreadyInAlarm).toEqual([`${service.name}-queue`]);
    expect(record.bake?.fired).toBeUndefined();
  });

  it('refuses a named alarm that does not exist before deploying anything', async () => {
    const service = await serviceWithAlarm();
    const run = await deploy(service, 'good', { alarms: 'no-such-alarm' });
    expect(run.exitCode).not.toBe(0);
    expect(run.errors.join('\n')).toContain('The CloudWatch alarm no-such-alarm named in alarms does not exist');
    expect(sandbox.aws.callsOf('UpdateService', 'ecs').filter((c) => c.params.service === service.name)).toEqual([]);
    expect(await version(service)).toBe(commits.v1);
  });
});
