import {
  AppRunnerClient,
  CreateServiceCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  type OperationSummary,
  PauseServiceCommand,
  ResumeServiceCommand,
  StartDeploymentCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';

// The sandbox project's testTimeout is not applied to a single file run; deployments take a few seconds each.
jest.setTimeout(60_000);

let sandbox: Sandbox;
let apprunner: AppRunnerClient;
const digests: Record<string, string> = {};

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ROLLBACK_SUCCEEDED', 'ROLLBACK_FAILED']);

function image(tag: string): string {
  return `${sandbox.registry.host}/app:${tag}`;
}

function source(tag: string, extra: Record<string, unknown> = {}) {
  return {
    ImageRepository: {
      ImageIdentifier: image(tag),
      ImageRepositoryType: 'ECR' as const,
      ImageConfiguration: { Port: '8080' },
    },
    AutoDeploymentsEnabled: false,
    ...extra,
  };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  // Small but realistic-shaped durations: every operation still passes through PENDING and IN_PROGRESS.
  sandbox.apprunner.timing = { deployMs: 300, healthCheckMs: 1_000, pendingMs: 100 };
  Object.assign(process.env, sandbox.aws.clientEnv());
  apprunner = new AppRunnerClient({});

  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const [tag, args] of [
    ['v1', ['--build-arg', 'VERSION=v1']],
    ['v2', ['--build-arg', 'VERSION=v2']],
    ['broken', ['--build-arg', 'VERSION=broken', '--build-arg', 'HEALTH=fail']],
  ] as const) {
    // --no-cache: podman's layer cache ignores a changed --build-arg that only feeds ENV, and would hand every
    // variant the first one's image.
    await docker(['build', '--no-cache', '-t', image(tag), ...args, context], sandbox.env());
    await docker(['push', image(tag)], sandbox.env());
    digests[tag] = (await sandbox.registry.client.manifest('app', tag))!.digest;
  }
}, 120_000);

afterAll(async () => {
  apprunner?.destroy();
  await sandbox?.stop();
});

async function allOperations(serviceArn: string, pageSize = 20): Promise<OperationSummary[]> {
  const all: OperationSummary[] = [];
  let token: string | undefined;
  do {
    const page = await apprunner.send(
      new ListOperationsCommand({ ServiceArn: serviceArn, MaxResults: pageSize, NextToken: token }),
    );
    all.push(...(page.OperationSummaryList ?? []));
    token = page.NextToken;
  } while (token);
  return all;
}

/** Waits, through ListOperations as a deploy action would, until the operation ends; returns its summary. */
function finished(serviceArn: string, operationId: string | undefined): Promise<OperationSummary> {
  return poll({
    what: `operation ${operationId}`,
    timeoutMs: 20_000,
    minDelayMs: 100,
    maxDelayMs: 250,
    check: async () => {
      const op = (await allOperations(serviceArn)).find((o) => o.Id === operationId);
      return op && TERMINAL.has(op.Status ?? '') ? { done: true, value: op } : { done: false };
    },
  });
}

async function get(serviceUrl: string | undefined, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${serviceUrl}${path}`);
  return { status: res.status, body: (await res.text()).trim() };
}

async function describe_(serviceArn: string) {
  return (await apprunner.send(new DescribeServiceCommand({ ServiceArn: serviceArn }))).Service!;
}

async function createRunning(name: string, tag: string, extra: Record<string, unknown> = {}) {
  const created = await apprunner.send(
    new CreateServiceCommand({
      ServiceName: name,
      SourceConfiguration: source(tag, extra),
      HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 2 },
    }),
  );
  const arn = created.Service!.ServiceArn!;
  expect(created.Service?.Status).toBe('OPERATION_IN_PROGRESS');
  expect((await finished(arn, created.OperationId)).Status).toBe('SUCCEEDED');
  return { arn, url: created.Service!.ServiceUrl };
}

describe('App Runner emulator through @aws-sdk/client-apprunner', () => {
  it('creates a service that serves the pushed image, updates it to v2, and rolls back a broken image', async () => {
    const { arn, url } = await createRunning('web-main', 'v1');
    expect(url).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await describe_(arn)).Status).toBe('RUNNING');
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v1' });

    // A longer provisioning time for this service leaves room to look at it mid-operation.
    sandbox.apprunner.setTiming(arn, { deployMs: 1_500 });
    const update = await apprunner.send(
      new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('v2') }),
    );
    expect(update.Service?.Status).toBe('OPERATION_IN_PROGRESS');
    await expect(
      apprunner.send(new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('v1') })),
    ).rejects.toMatchObject({ name: 'InvalidStateException', $metadata: { httpStatusCode: 400 } });
    // StartDeployment's model has no InvalidStateException: App Runner can only answer InvalidRequestException.
    await expect(apprunner.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(apprunner.send(new PauseServiceCommand({ ServiceArn: arn }))).rejects.toMatchObject({
      name: 'InvalidStateException',
    });
    // The old revision keeps serving while the new one deploys.
    expect((await get(url, '/version')).body).toBe('v1');
    expect((await finished(arn, update.OperationId)).Status).toBe('SUCCEEDED');
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v2' });
    expect(sandbox.apprunner.liveDigest(arn)).toBe(digests.v2);

    const bad = await apprunner.send(
      new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('broken') }),
    );
    const outcome = await finished(arn, bad.OperationId);
    expect(outcome.Status).toBe('ROLLBACK_SUCCEEDED');
    expect(sandbox.apprunner.lastFailure(arn)).toContain('HTTP 404');
    const after = await describe_(arn);
    // Service.Status alone reports success after a rollback: only the operation tells.
    expect(after.Status).toBe('RUNNING');
    expect(after.SourceConfiguration?.ImageRepository?.ImageIdentifier).toBe(image('v2'));
    expect(after.ServiceUrl).toBe(url);
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v2' });
    expect(sandbox.apprunner.liveDigest(arn)).toBe(digests.v2);

    // Newest first, one per page, every operation exactly once.
    const paged = await allOperations(arn, 1);
    expect(paged.map((o) => [o.Id, o.Type])).toEqual([
      [bad.OperationId, 'UPDATE_SERVICE'],
      [update.OperationId, 'UPDATE_SERVICE'],
      [expect.any(String), 'CREATE_SERVICE'],
    ]);
    expect(paged[0]?.EndedAt).toBeInstanceOf(Date);
    expect(paged[0]!.StartedAt!.getTime()).toBeGreaterThanOrEqual(paged[1]!.StartedAt!.getTime());
    await expect(apprunner.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 21 }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('StartDeployment redeploys the tracked tag, re-resolving where it points now', async () => {
    const v1 = await sandbox.registry.client.manifest('app', 'v1');
    await sandbox.registry.client.putManifest('app', 'moving', v1!.mediaType, v1!.bytes);
    const { arn, url } = await createRunning('web-redeploy', 'moving');
    expect((await get(url, '/version')).body).toBe('v1');

    const v2 = await sandbox.registry.client.manifest('app', 'v2');
    await sandbox.registry.client.putManifest('app', 'moving', v2!.mediaType, v2!.bytes);
    // Without AutoDeploymentsEnabled a moved tag changes nothing by itself.
    expect((await get(url, '/version')).body).toBe('v1');
    const started = await apprunner.send(new StartDeploymentCommand({ ServiceArn: arn }));
    expect((await finished(arn, started.OperationId)).Status).toBe('SUCCEEDED');
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v2' });
    expect(sandbox.apprunner.liveDigest(arn)).toBe(digests.v2);
  });

  it('deploys by itself when the tracked tag moves, with AutoDeploymentsEnabled', async () => {
    const v1 = await sandbox.registry.client.manifest('app', 'v1');
    await sandbox.registry.client.putManifest('app', 'live', v1!.mediaType, v1!.bytes);
    const { arn, url } = await createRunning('web-auto', 'live', { AutoDeploymentsEnabled: true });
    expect((await get(url, '/version')).body).toBe('v1');

    const v2 = await sandbox.registry.client.manifest('app', 'v2');
    await sandbox.registry.client.putManifest('app', 'live', v2!.mediaType, v2!.bytes);
    const deployment = await poll({
      what: 'an automatic deployment',
      timeoutMs: 20_000,
      minDelayMs: 100,
      maxDelayMs: 250,
      check: async () => {
        const op = (await allOperations(arn)).find((o) => o.Type === 'START_DEPLOYMENT');
        return op && TERMINAL.has(op.Status ?? '') ? { done: true, value: op } : { done: false };
      },
    });
    expect(deployment.Status).toBe('SUCCEEDED');
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v2' });
  });

  it('fails the first deployment of a broken image (CREATE_FAILED), then is rebuilt with UpdateService', async () => {
    const created = await apprunner.send(
      new CreateServiceCommand({
        ServiceName: 'web-broken',
        SourceConfiguration: source('broken'),
        HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health' },
      }),
    );
    const arn = created.Service!.ServiceArn!;
    expect((await finished(arn, created.OperationId)).Status).toBe('FAILED');
    expect((await describe_(arn)).Status).toBe('CREATE_FAILED');
    await expect(apprunner.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    // AWS documents UpdateService as the way to rebuild a service whose creation failed.
    const rebuilt = await apprunner.send(
      new UpdateServiceCommand({ ServiceArn: arn, SourceConfiguration: source('v1') }),
    );
    expect((await finished(arn, rebuilt.OperationId)).Status).toBe('SUCCEEDED');
    const service = await describe_(arn);
    expect(service.Status).toBe('RUNNING');
    expect(await get(service.ServiceUrl!, '/version')).toEqual({ status: 200, body: 'v1' });
  });

  it('pauses (no revision serves) and resumes the version that ran before', async () => {
    const { arn, url } = await createRunning('web-pause', 'v1');
    const paused = await apprunner.send(new PauseServiceCommand({ ServiceArn: arn }));
    expect((await finished(arn, paused.OperationId)).Status).toBe('SUCCEEDED');
    expect((await describe_(arn)).Status).toBe('PAUSED');
    expect((await get(url, '/version')).status).toBe(503);
    await expect(apprunner.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });

    const resumed = await apprunner.send(new ResumeServiceCommand({ ServiceArn: arn }));
    expect((await finished(arn, resumed.OperationId)).Status).toBe('SUCCEEDED');
    expect((await describe_(arn)).Status).toBe('RUNNING');
    expect(await get(url, '/version')).toEqual({ status: 200, body: 'v1' });
  });

  it('answers unknown services and incomplete requests with the App Runner errors', async () => {
    await expect(
      apprunner.send(
        new DescribeServiceCommand({
          ServiceArn: 'arn:aws:apprunner:us-east-1:123456789012:service/nope/0123456789abcdef0123456789abcdef',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: expect.stringContaining('nope') });
    await expect(apprunner.send(new CreateServiceCommand({ ServiceName: 'no-source' } as never))).rejects.toMatchObject(
      { name: 'InvalidRequestException' },
    );
  });

  it('is retried by the SDK through throttling', async () => {
    // Set up through the emulator's own helper, without the wire.
    const {
      ServiceArn: arn,
      ServiceUrl,
      OperationId,
    } = await sandbox.apprunner.createService({
      ServiceName: 'web-throttled',
      SourceConfiguration: source('v1'),
    });
    expect(await sandbox.apprunner.settled(arn, OperationId)).toBe('SUCCEEDED');
    expect((await fetch(`${ServiceUrl}/version`).then((r) => r.text())).trim()).toBe('v1');
    const before = sandbox.aws.callsOf('DescribeService', 'apprunner').length;
    sandbox.aws.faults.add({ kind: 'throttle', service: 'apprunner', operation: 'DescribeService', times: 2 });
    expect((await describe_(arn)).Status).toBe('RUNNING');
    expect(sandbox.aws.callsOf('DescribeService', 'apprunner').length - before).toBe(3);
  });
});
