import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppRunnerClient,
  DescribeServiceCommand,
  ListOperationsCommand,
  type OperationSummary,
} from '@aws-sdk/client-apprunner';
import { BatchGetImageCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';

// The auto-deploy policy of deploy-apprunner (docs/deploy-apprunner.md, "Automatic deployments") against the
// emulator, which deploys by itself when a tracked tag moves in the registry, as App Runner does.
jest.setTimeout(120_000);

let sandbox: Sandbox;
let apprunner: AppRunnerClient;
let ecr: ECRClient;
/** Digest URIs of the sample app's v1 and v2. */
const images: Record<string, string> = {};
let services = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 500, healthCheckMs: 1_500, pendingMs: 200 };
  sandbox.ecr.createRepository('app');
  Object.assign(process.env, sandbox.aws.clientEnv());
  apprunner = new AppRunnerClient({});
  ecr = new ECRClient({});

  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const name of ['v1', 'v2']) {
    const tag = `${host}/app:${name}`;
    // --no-cache: podman's cache ignores a changed --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', tag, '--build-arg', `VERSION=${name}`, context], sandbox.env());
    await docker(['push', tag], sandbox.env());
    images[name] = `${host}/app@${(await sandbox.registry.client.manifest('app', name))?.digest}`;
  }
}, 240_000);

afterAll(async () => {
  apprunner?.destroy();
  ecr?.destroy();
  await sandbox?.stop();
});

/** `<registry>/app:<tag>`. */
function tagUri(tag: string): string {
  return `${sandbox.registry.host}/app:${tag}`;
}

/** What a developer does: `docker tag app:<version> app:<tag> && docker push app:<tag>`. */
async function dockerPush(version: string, tag: string): Promise<void> {
  await docker(['tag', tagUri(version), tagUri(tag)], sandbox.env());
  await docker(['push', tagUri(tag)], sandbox.env());
}

/** What a promote script does: retag through ECR (BatchGetImage, then PutImage of the same manifest). */
async function ecrRetag(version: string, tag: string): Promise<void> {
  const got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: version }] }));
  const manifest = got.images?.[0]?.imageManifest;
  if (!manifest) throw new Error(`app:${version} not found through ECR`);
  await ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: manifest, imageTag: tag }));
}

/**
 * A service tracking `app:<tag>` (pointed at v1 first) with AutoDeploymentsEnabled, its creation settled. Each test
 * has its own tag, so that moving it starts no deployment on another test's service.
 */
async function serviceTracking(tag: string, name = `autodeploy-${++services}`): Promise<string> {
  await dockerPush('v1', tag);
  const created = await sandbox.apprunner.createService({
    ServiceName: name,
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: tagUri(tag),
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: true,
    },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 2 },
  });
  expect(await sandbox.apprunner.settled(created.ServiceArn, created.OperationId)).toBe('SUCCEEDED');
  return created.ServiceArn;
}

/** Newest first, as ListOperations gives them (a test service has far fewer than 20). */
async function operations(serviceArn: string): Promise<OperationSummary[]> {
  const page = await apprunner.send(new ListOperationsCommand({ ServiceArn: serviceArn, MaxResults: 20 }));
  return page.OperationSummaryList ?? [];
}

/** Waits until the service has more than `count` operations; returns the newest. */
async function nextOperation(serviceArn: string, count: number): Promise<OperationSummary> {
  return poll({
    what: `a new operation on ${serviceArn}`,
    timeoutMs: 20_000,
    minDelayMs: 100,
    maxDelayMs: 100,
    check: async () => {
      const ops = await operations(serviceArn);
      return ops.length > count ? { done: true, value: ops[0]! } : { done: false };
    },
  });
}

async function version(serviceArn: string): Promise<string> {
  const res = await fetch(`${sandbox.apprunner.url(serviceArn)}/version`);
  return (await res.text()).trim();
}

/** How many deployments anyone asked for (UpdateService and StartDeployment calls), in the whole sandbox. */
function deploymentCalls(): number {
  return (
    sandbox.aws.callsOf('UpdateService', 'apprunner').length +
    sandbox.aws.callsOf('StartDeployment', 'apprunner').length
  );
}

function deploy(inputs: Record<string, string>) {
  return runBundle('deploy-apprunner', {
    inputs,
    env: sandbox.env(),
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
  });
}

describe('deploy-apprunner and App Runner automatic deployments', () => {
  it('given the tracked tag after a push, watches the deployment the push started instead of starting another', async () => {
    const arn = await serviceTracking('staging-1');
    // Long enough for the push's deployment to be still running when the step looks.
    sandbox.apprunner.setTiming(arn, { deployMs: 4_000 });
    const opsBefore = (await operations(arn)).length;

    await dockerPush('v2', 'staging-1');
    const pushed = await nextOperation(arn, opsBefore);
    expect(pushed.Type).toBe('START_DEPLOYMENT');
    const callsBefore = deploymentCalls();

    const run = await deploy({
      'service-arn': arn,
      image: tagUri('staging-1'),
      'health-url': '/version',
      'expected-version': 'v2',
    });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.log).toContain(
      `tracks ${tagUri('staging-1')} with automatic deployments on: pushing that tag starts a deployment by itself`,
    );
    expect(run.log).toContain(`Watching START_DEPLOYMENT operation ${pushed.Id}`);
    expect(run.outputs).toMatchObject({ 'operation-id': pushed.Id, status: 'SUCCEEDED' });
    // The push's deployment is the only new one: the step neither updated the service nor started a deployment.
    const ops = await operations(arn);
    expect(ops.length).toBe(opsBefore + 1);
    expect(ops[0]).toMatchObject({ Id: pushed.Id, Status: 'SUCCEEDED' });
    expect(deploymentCalls()).toBe(callsBefore);
    expect(await version(arn)).toBe('v2');
  });

  it('given the tracked tag before App Runner notices the push, waits for the push deployment to appear', async () => {
    const arn = await serviceTracking('staging-2');
    // Longer than the step's longest pause between looks (10 s): it adopts a push deployment it sees running.
    sandbox.apprunner.setTiming(arn, { deployMs: 10_000 });
    const opsBefore = (await operations(arn)).length;
    const callsBefore = deploymentCalls();
    const describedBefore = sandbox.aws.callsOf('DescribeService', 'apprunner').length;

    const running = deploy({ 'service-arn': arn, image: tagUri('staging-2') });
    // Push only once the step has looked at the service and found it idle: the deployment appears while it waits.
    await poll({
      what: 'the step to describe the service',
      timeoutMs: 20_000,
      minDelayMs: 50,
      maxDelayMs: 50,
      check: async () =>
        sandbox.aws.callsOf('DescribeService', 'apprunner').length > describedBefore
          ? { done: true, value: undefined }
          : { done: false },
    });
    await dockerPush('v2', 'staging-2');
    const run = await running;

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    const ops = await operations(arn);
    expect(ops.length).toBe(opsBefore + 1);
    expect(ops[0]).toMatchObject({ Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' });
    expect(run.outputs['operation-id']).toBe(ops[0]?.Id);
    expect(run.log).toContain(`Watching START_DEPLOYMENT operation ${ops[0]?.Id}`);
    expect(deploymentCalls()).toBe(callsBefore);
    expect(await version(arn)).toBe('v2');
  });

  it('given a digest, pins the service to it and turns automatic deployments off, so a later push deploys nothing', async () => {
    const arn = await serviceTracking('staging-3');

    const run = await deploy({ 'service-arn': arn, image: images.v1! });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs['previous-image']).toBe(tagUri('staging-3'));
    expect(run.log).toMatch(/had automatic deployments on; they are turned off in the same UpdateService/);
    const described = await apprunner.send(new DescribeServiceCommand({ ServiceArn: arn }));
    expect(described.Service?.SourceConfiguration).toMatchObject({
      ImageRepository: { ImageIdentifier: images.v1 },
      AutoDeploymentsEnabled: false,
    });
    const opsAfterDeploy = await operations(arn);
    expect(opsAfterDeploy[0]).toMatchObject({ Type: 'UPDATE_SERVICE', Status: 'SUCCEEDED' });

    // A control service still tracking the tag shows when App Runner has seen the move; by then it has looked at
    // the pinned service too (one pass over all services), and a few more poll periods pass for good measure.
    const control = await serviceTracking('staging-3', `autodeploy-control-${services}`);
    const controlOps = (await operations(control)).length;
    await ecrRetag('v2', 'staging-3');
    const controlDeployment = await nextOperation(control, controlOps);
    expect(await sandbox.apprunner.settled(control, controlDeployment.Id)).toBe('SUCCEEDED');
    expect(await version(control)).toBe('v2');
    await sleep(sandbox.apprunner.autoDeployPollMs * 4);

    expect((await operations(arn)).map((o) => o.Id)).toEqual(opsAfterDeploy.map((o) => o.Id));
    expect(await version(arn)).toBe('v1');
  });

  it('given the tracked tag and nothing pushed, starts the deployment itself once its wait for a push ends', async () => {
    const arn = await serviceTracking('staging-4');
    const opsBefore = (await operations(arn)).length;
    const startsBefore = sandbox.aws.callsOf('StartDeployment', 'apprunner').length;

    // The wait for a push is 90 s but bounded by timeout-minutes (15 s here); wait: false, since that bound leaves
    // no time to follow the deployment.
    const run = await deploy({
      'service-arn': arn,
      image: tagUri('staging-4'),
      'timeout-minutes': '0.25',
      wait: 'false',
    });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.log).toMatch(
      /App Runner started no deployment of \S+staging-4 within .*starting one \(StartDeployment\)/,
    );
    expect(sandbox.aws.callsOf('StartDeployment', 'apprunner').length).toBe(startsBefore + 1);
    const ops = await operations(arn);
    expect(ops.length).toBe(opsBefore + 1);
    expect(ops[0]).toMatchObject({ Id: run.outputs['operation-id'], Type: 'START_DEPLOYMENT' });
    expect(run.outputs.status).toBe('PENDING');
    expect(await sandbox.apprunner.settled(arn, ops[0]?.Id)).toBe('SUCCEEDED');
  });
});
