import { AppRunnerClient, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';
import type { DeployRecord } from '../../src/core/record';

// Each case deploys for real (a few seconds to a minute); the project's testTimeout is not applied to one file run.
jest.setTimeout(180_000);

let sandbox: Sandbox;
let apprunner: AppRunnerClient;
/** Digest URIs of the sample app variants: v1, v2 and broken (/health answers 404). */
const images: Record<string, string> = {};
let services = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 500, healthCheckMs: 1_500, pendingMs: 200 };
  // A 60-second alarm period lasts 1.2 s.
  sandbox.cloudwatch.timing.secondMs = 20;
  Object.assign(process.env, sandbox.aws.clientEnv());
  apprunner = new AppRunnerClient({});

  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const [name, args] of [
    ['v1', ['--build-arg', 'VERSION=v1']],
    ['v2', ['--build-arg', 'VERSION=v2']],
    ['broken', ['--build-arg', 'VERSION=broken', '--build-arg', 'HEALTH=fail']],
  ] as const) {
    const tag = `${host}/app:${name}`;
    // --no-cache: podman's cache ignores a changed --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', tag, ...args, context], sandbox.env());
    await docker(['push', tag], sandbox.env());
    const digest = (await sandbox.registry.client.manifest('app', name))?.digest;
    images[name] = `${host}/app@${digest}`;
  }
}, 240_000);

afterAll(async () => {
  apprunner?.destroy();
  await sandbox?.stop();
});

/** A service running v1 (by digest), App Runner health-checking /health over HTTP. */
async function serviceOnV1(): Promise<string> {
  const created = await sandbox.apprunner.createService({
    ServiceName: `web-service-${++services}`,
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: images.v1,
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: false,
    },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 2 },
  });
  expect(await sandbox.apprunner.settled(created.ServiceArn, created.OperationId)).toBe('SUCCEEDED');
  return created.ServiceArn;
}

async function version(serviceArn: string): Promise<string> {
  const res = await fetch(`${sandbox.apprunner.url(serviceArn)}/version`);
  return (await res.text()).trim();
}

function deploy(inputs: Record<string, string>) {
  return runBundle('deploy-apprunner', {
    inputs,
    env: sandbox.env(),
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
  });
}

describe('deploy-apprunner against the sandbox', () => {
  it('deploys a new image by digest: the service URL serves the new /version', async () => {
    const arn = await serviceOnV1();
    const run = await deploy({
      'service-arn': arn,
      image: images.v2!,
      'health-url': '/version',
      'expected-version': 'v2',
    });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ status: 'SUCCEEDED', 'previous-image': images.v1 });
    expect(run.outputs['operation-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.outputs['service-url']).toBe(sandbox.apprunner.url(arn));
    expect(await version(arn)).toBe('v2');
    const record = JSON.parse(run.outputs.record ?? '') as DeployRecord;
    expect(record).toMatchObject({
      outcome: 'succeeded',
      commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      target: { kind: 'apprunner', id: arn },
      previous: { image: images.v1 },
      operations: [{ kind: 'apprunner-operation', id: run.outputs['operation-id'], status: 'SUCCEEDED' }],
      health: { healthy: true },
    });
    // A progress line from the poller, then the end.
    expect(run.log).toMatch(/App Runner operation \S+ on web-service-\d+: (PENDING|IN_PROGRESS) \(\d+s elapsed\)/);
    expect(run.summary).toContain('App Runner deploy: succeeded');
  });

  it('fails when App Runner rolls a broken image back by itself, although the service is RUNNING again', async () => {
    const arn = await serviceOnV1();
    const run = await deploy({ 'service-arn': arn, image: images.broken! });

    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(
      /App Runner rolled the deployment back: operation .* ended ROLLBACK_SUCCEEDED/,
    );
    expect(run.errors.join('\n')).toContain(images.v1);
    expect(run.outputs.status).toBe('ROLLBACK_SUCCEEDED');
    expect((JSON.parse(run.outputs.record ?? '') as DeployRecord).outcome).toBe('rolled-back');
    expect(await version(arn)).toBe('v1');
  });

  it('rolls back itself when App Runner reports success but the expected version is not served', async () => {
    const arn = await serviceOnV1();
    const run = await deploy({
      'service-arn': arn,
      image: images.v2!,
      'health-url': '/version',
      'expected-version': 'v3',
      'health-timeout-minutes': '0.2',
    });

    expect(run.exitCode).toBe(1);
    const error = run.errors.join('\n');
    expect(error).toMatch(/the health check failed/);
    expect(error).toMatch(/HTTP 200 "v2"/);
    expect(error).toContain(`Rolled back to ${images.v1}`);
    expect(await version(arn)).toBe('v1');
    const record = JSON.parse(run.outputs.record ?? '') as DeployRecord;
    expect(record.outcome).toBe('rolled-back');
    expect(record.operations.map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(record.phases.map((p) => `${p.name}:${p.status}`)).toEqual([
      'deploy:succeeded',
      'verify:failed',
      'rollback:succeeded',
    ]);
  });

  it('bakes after the verification and rolls back when an alarm goes into ALARM during it', async () => {
    const arn = await serviceOnV1();
    const cloudwatch = new CloudWatchClient({});
    // The app's own error count (PutMetricData), more than 5 in a minute is an alarm.
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: `app-errors-${services}`,
        Namespace: 'Custom/App',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    const running = deploy({
      'service-arn': arn,
      image: images.v2!,
      'health-url': '/version',
      'expected-version': 'v2',
      'health-timeout-minutes': '0.5',
      alarms: `app-errors-${services}`,
      'bake-time': '20',
    });
    // Once v2 serves, it starts erring.
    await poll({
      what: 'v2 served',
      timeoutMs: 60_000,
      minDelayMs: 100,
      maxDelayMs: 100,
      check: async () => ((await version(arn)) === 'v2' ? { done: true, value: true } : { done: false }),
    });
    const erring = setInterval(() => {
      void cloudwatch.send(
        new PutMetricDataCommand({ Namespace: 'Custom/App', MetricData: [{ MetricName: 'Errors', Value: 10 }] }),
      );
    }, 200);
    const run = await running.finally(() => clearInterval(erring));
    cloudwatch.destroy();
    expect(run.exitCode).toBe(1);
    const record = JSON.parse(run.outputs.record ?? '') as DeployRecord;
    expect(record.outcome).toBe('rolled-back');
    expect(record.phases.map((p) => `${p.name}:${p.status}`)).toEqual([
      'deploy:succeeded',
      'verify:succeeded',
      'bake:failed',
      'rollback:succeeded',
    ]);
    expect(record.bake?.fired?.name).toBe(`app-errors-${services}`);
    expect(run.errors.join('\n')).toContain(`went into ALARM during the bake`);
    expect(run.errors.join('\n')).toContain(`Rolled back to ${images.v1}`);
    expect(await version(arn)).toBe('v1');
  });

  it('with on-busy: fail, fails at once when another deployment is running; with wait, waits for it', async () => {
    const arn = await serviceOnV1();
    sandbox.apprunner.setTiming(arn, { deployMs: 6_000 });
    const other = await apprunner.send(
      new UpdateServiceCommand({
        ServiceArn: arn,
        SourceConfiguration: {
          ImageRepository: {
            ImageIdentifier: images.v2,
            ImageRepositoryType: 'ECR',
            ImageConfiguration: { Port: '8080' },
          },
          AutoDeploymentsEnabled: false,
        },
      }),
    );

    const refused = await deploy({ 'service-arn': arn, image: images.v1!, 'on-busy': 'fail' });
    expect(refused.exitCode).toBe(1);
    expect(refused.errors.join('\n')).toMatch(
      new RegExp(`busy: UPDATE_SERVICE operation ${other.OperationId} \\((PENDING|IN_PROGRESS)\\).*on-busy is "fail"`),
    );

    sandbox.apprunner.setTiming(arn, {});
    const waited = await deploy({ 'service-arn': arn, image: images.v1!, 'on-busy': 'wait' });
    expect(waited.exitCode).toBe(0);
    expect(waited.log).toContain(`busy with UPDATE_SERVICE operation ${other.OperationId}`);
    expect(await sandbox.apprunner.settled(arn, other.OperationId)).toBe('SUCCEEDED');
    // What the other deployment left is what this one replaced.
    expect(waited.outputs['previous-image']).toBe(images.v2);
    expect(await version(arn)).toBe('v1');
  });

  it('keeps following its operation through a throttling storm on ListOperations', async () => {
    const arn = await serviceOnV1();
    sandbox.aws.faults.add({ kind: 'throttle', service: 'apprunner', operation: 'ListOperations', times: 10 });
    const before = sandbox.aws.callsOf('ListOperations', 'apprunner').length;

    const run = await deploy({ 'service-arn': arn, image: images.v2! });

    sandbox.aws.faults.clear();
    expect(run.exitCode).toBe(0);
    expect(run.outputs.status).toBe('SUCCEEDED');
    expect(sandbox.aws.callsOf('ListOperations', 'apprunner').length - before).toBeGreaterThan(10);
    expect(await version(arn)).toBe('v2');
  });

  it('on timeout says the operation, its last status and what the service runs now', async () => {
    const arn = await serviceOnV1();
    sandbox.apprunner.setTiming(arn, { deployMs: 20_000 });

    const run = await deploy({ 'service-arn': arn, image: images.v2!, 'timeout-minutes': '0.1' });

    expect(run.exitCode).toBe(1);
    const error = run.errors.join('\n');
    expect(error).toMatch(
      new RegExp(
        `Gave up waiting for App Runner operation ${run.outputs['operation-id']} on web-service-\\d+ after 6s: its last status was IN_PROGRESS`,
      ),
    );
    expect(error).toContain(`The service now runs ${images.v2} (status OPERATION_IN_PROGRESS)`);
    expect(run.outputs.status).toBe('IN_PROGRESS');
    await sandbox.apprunner.settled(arn);
  });

  it('refuses a bad input before calling AWS', async () => {
    const before = sandbox.aws.calls.length;
    const run = await deploy({ 'service-arn': 'web', image: images.v2! });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/^Input 'service-arn' has an invalid value "web"/);
    expect(sandbox.aws.calls.length).toBe(before);
  });
});
