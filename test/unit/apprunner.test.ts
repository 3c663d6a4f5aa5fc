import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AppRunnerClient,
  AppRunnerServiceException,
  DescribeServiceCommand,
  ListOperationsCommand,
  type OperationSummary,
  StartDeploymentCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { mockClient } from 'aws-sdk-client-mock';
import { parseDeployAppRunnerInputs } from '../../src/actions/deploy-apprunner/inputs';
import { findOperationById, operationState } from '../../src/aws/apprunner';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import { deployAppRunner } from '../../src/targets/apprunner/deploy';
import { parseImageReference, serviceUrlOf } from '../../src/targets/apprunner/image-reference';
import type { AppRunnerDeps, DeployAppRunnerOptions } from '../../src/targets/apprunner/types';

const apprunner = mockClient(AppRunnerClient);
const client = new AppRunnerClient({ region: 'us-east-1' });

const ARN = 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef';
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const OLD = `${REGISTRY}/web@sha256:${'a'.repeat(64)}`;
const NEW = `${REGISTRY}/web@sha256:${'b'.repeat(64)}`;
const OP = '11111111-2222-3333-4444-555555555555';

function awsError(name: string, status = 400): AppRunnerServiceException {
  return new AppRunnerServiceException({
    name,
    $fault: 'client',
    message: `${name} happened`,
    $metadata: { httpStatusCode: status },
  });
}

function serviceReply(identifier: string, status = 'RUNNING', autoDeploy = false) {
  return {
    Service: {
      ServiceArn: ARN,
      ServiceName: 'web',
      ServiceId: '0123456789abcdef0123456789abcdef',
      ServiceUrl: 'abc123.us-east-1.awsapprunner.com',
      Status: status,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: identifier,
          ImageRepositoryType: 'ECR',
          ImageConfiguration: { Port: '8080', RuntimeEnvironmentVariables: { MODE: 'prod' } },
        },
        AutoDeploymentsEnabled: autoDeploy,
        AuthenticationConfiguration: { AccessRoleArn: 'arn:aws:iam::123456789012:role/ecr-access' },
      },
    },
  } as never;
}

function others(count: number, prefix = 'other'): OperationSummary[] {
  return Array.from({ length: count }, (_, i) => ({
    Id: `${prefix}-${i}`,
    Type: 'UPDATE_SERVICE',
    Status: 'SUCCEEDED',
  }));
}

/** An operation that is IN_PROGRESS until `endsAt` on the clock, then `final`. */
function operationTimeline(clock: FakeClock, endsAt: number, final: string, id = OP) {
  return () => ({
    OperationSummaryList: [
      { Id: id, Type: 'UPDATE_SERVICE', Status: clock.now() >= endsAt ? final : 'IN_PROGRESS' },
      ...others(3),
    ],
  });
}

function setup() {
  const clock = new FakeClock(1_700_000_000_000);
  const logger = captureLogger();
  const deps: AppRunnerDeps = { client, clock, logger, random: () => 1 };
  const options = (overrides: Partial<DeployAppRunnerOptions> = {}): DeployAppRunnerOptions => ({
    serviceArn: ARN,
    image: NEW,
    timeoutMs: 30 * 60_000,
    onBusy: 'wait',
    wait: true,
    record: newRecord('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'),
    ...overrides,
  });
  return { clock, logger, deps, options };
}

beforeEach(() => apprunner.reset());

describe('findOperationById', () => {
  it('pages through ListOperations, 20 at a time, until it finds its own operation on page 2', async () => {
    apprunner
      .on(ListOperationsCommand, { NextToken: undefined })
      .resolves({ OperationSummaryList: others(20), NextToken: 'page-2' })
      .on(ListOperationsCommand, { NextToken: 'page-2' })
      .resolves({
        OperationSummaryList: [{ Id: OP, Type: 'UPDATE_SERVICE', Status: 'ROLLBACK_SUCCEEDED' }],
        NextToken: 'page-3',
      });
    const op = await findOperationById(client, ARN, OP);
    expect(op).toMatchObject({ id: OP, status: 'ROLLBACK_SUCCEEDED' });
    const calls = apprunner.commandCalls(ListOperationsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { ServiceArn: ARN, MaxResults: 20 },
      { ServiceArn: ARN, MaxResults: 20, NextToken: 'page-2' },
    ]);
  });

  it('returns undefined when the last page does not list it', async () => {
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: others(2) });
    await expect(findOperationById(client, ARN, OP)).resolves.toBeUndefined();
  });
});

describe('operationState', () => {
  it.each([
    ['SUCCEEDED', 'succeeded'],
    ['FAILED', 'failed'],
    ['ROLLBACK_SUCCEEDED', 'rolled-back'],
    ['ROLLBACK_FAILED', 'rollback-failed'],
    ['ROLLBACK_IN_PROGRESS', 'running'],
    ['IN_PROGRESS', 'running'],
    ['PENDING', 'running'],
  ])('%s means %s', (status, state) => {
    expect(operationState(status)).toBe(state);
  });
});

describe('parseImageReference and serviceUrlOf', () => {
  it('pins a tag-and-digest URI by its digest', () => {
    expect(parseImageReference('image', `${REGISTRY}/team/web:v1@sha256:${'c'.repeat(64)}`)).toMatchObject({
      repository: 'team/web',
      tag: 'v1',
      identifier: `${REGISTRY}/team/web@sha256:${'c'.repeat(64)}`,
    });
  });

  it.each(['web:v1', `${REGISTRY}/web`, `${REGISTRY}/Web:v1`, `${REGISTRY}/web@sha256:abc`])(
    'refuses %s naming the input',
    (value) => {
      expect(() => parseImageReference('image', value)).toThrow(ConfigurationError);
      expect(() => parseImageReference('image', value)).toThrow(/Input 'image'/);
    },
  );

  it('serves App Runner hosts over https and the loopback sandbox over http', () => {
    expect(serviceUrlOf('abc.us-east-1.awsapprunner.com')).toBe('https://abc.us-east-1.awsapprunner.com');
    expect(serviceUrlOf('127.0.0.1:4321')).toBe('http://127.0.0.1:4321');
  });
});

describe('deployAppRunner', () => {
  it('updates to the digest, keeps the image settings, and follows its own operation to SUCCEEDED', async () => {
    const { clock, deps, logger, options } = setup();
    const start = clock.now();
    const seenAt: number[] = [];
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    const timeline = operationTimeline(clock, start + 25_000, 'SUCCEEDED');
    apprunner.on(ListOperationsCommand).callsFake(() => {
      seenAt.push(clock.now() - start);
      return timeline();
    });

    const result = await deployAppRunner(deps, options());

    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({
      operationId: OP,
      status: 'SUCCEEDED',
      previousImage: OLD,
      serviceUrl: 'https://abc123.us-east-1.awsapprunner.com',
    });
    const update = apprunner.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(update?.SourceConfiguration).toEqual({
      ImageRepository: {
        ImageIdentifier: NEW,
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080', RuntimeEnvironmentVariables: { MODE: 'prod' } },
      },
      AutoDeploymentsEnabled: false,
      AuthenticationConfiguration: { AccessRoleArn: 'arn:aws:iam::123456789012:role/ecr-access' },
    });
    // An immediate look, then 2 s doubling to the 10 s cap: the end at 25 s is seen at 34 s.
    expect(seenAt).toEqual([0, 2_000, 6_000, 14_000, 24_000, 34_000]);
    expect(result.record).toMatchObject({
      outcome: 'succeeded',
      target: { kind: 'apprunner', id: ARN, url: 'https://abc123.us-east-1.awsapprunner.com' },
      previous: { image: OLD, digest: `sha256:${'a'.repeat(64)}` },
      operations: [{ kind: 'apprunner-operation', id: OP, status: 'SUCCEEDED' }],
      image: { digest: `sha256:${'b'.repeat(64)}`, repository: 'web' },
    });
    expect(result.record.phases.map((p) => [p.name, p.status])).toEqual([['deploy', 'succeeded']]);
    expect(logger.lines.some((l) => l.includes('IN_PROGRESS'))).toBe(true);
  });

  it('fails saying App Runner rolled the deployment back when its own operation ends ROLLBACK_SUCCEEDED', async () => {
    const { clock, deps, logger, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    // The service is RUNNING again: only our operation tells the deploy failed.
    let looks = 0;
    apprunner.on(ListOperationsCommand).callsFake(() => ({
      OperationSummaryList: [
        {
          Id: OP,
          Type: 'UPDATE_SERVICE',
          Status: ++looks < 3 ? 'IN_PROGRESS' : looks < 5 ? 'ROLLBACK_IN_PROGRESS' : 'ROLLBACK_SUCCEEDED',
        },
      ],
    }));

    const result = await deployAppRunner(deps, options());

    expect(result.status).toBe('ROLLBACK_SUCCEEDED');
    expect(result.failure?.message).toMatch(/App Runner rolled the deployment back/);
    expect(result.failure?.message).toContain(OLD);
    expect(result.record.outcome).toBe('rolled-back');
    expect(result.record.phases[0]?.status).toBe('failed');
    expect(logger.lines).toContainEqual(expect.stringMatching(/^warning: App Runner is rolling the deployment back/));
    expect(clock.now()).toBeGreaterThan(0);
  });

  it('fails with on-busy: fail when an operation is already running, without updating anything', async () => {
    const { deps, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD, 'OPERATION_IN_PROGRESS'));
    apprunner.on(ListOperationsCommand).resolves({
      OperationSummaryList: [{ Id: 'busy-op', Type: 'START_DEPLOYMENT', Status: 'IN_PROGRESS' }],
    });

    const result = await deployAppRunner(deps, options({ onBusy: 'fail' }));

    expect(result.failure?.message).toMatch(
      /busy: START_DEPLOYMENT operation busy-op \(IN_PROGRESS\).*on-busy is "fail"/,
    );
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(result.record.outcome).toBe('failed');
  });

  it('with on-busy: wait, waits for the running operation and records the image it left as the previous one', async () => {
    const { deps, options, logger } = setup();
    const BETWEEN = `${REGISTRY}/web@sha256:${'c'.repeat(64)}`;
    apprunner
      .on(DescribeServiceCommand)
      .resolvesOnce(serviceReply(OLD, 'OPERATION_IN_PROGRESS'))
      .resolvesOnce(serviceReply(BETWEEN, 'OPERATION_IN_PROGRESS'))
      .resolves(serviceReply(BETWEEN));
    apprunner
      .on(ListOperationsCommand)
      .resolvesOnce({ OperationSummaryList: [{ Id: 'busy-op', Type: 'UPDATE_SERVICE', Status: 'IN_PROGRESS' }] })
      .resolves({ OperationSummaryList: [{ Id: OP, Type: 'UPDATE_SERVICE', Status: 'SUCCEEDED' }] });
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });

    const result = await deployAppRunner(deps, options());

    expect(result.failure).toBeUndefined();
    expect(result.previousImage).toBe(BETWEEN);
    expect(logger.lines).toContainEqual(expect.stringContaining('busy with UPDATE_SERVICE operation busy-op'));
  });

  it('retries the update after InvalidStateException when an operation starts between the look and the update', async () => {
    const { deps, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD));
    apprunner.on(UpdateServiceCommand).rejectsOnce(awsError('InvalidStateException')).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: [{ Id: OP, Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options());

    expect(result.failure).toBeUndefined();
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(2);
  });

  it('waits and retries when StartDeployment is refused with InvalidRequestException because an operation started', async () => {
    const { deps, options } = setup();
    const TAG = `${REGISTRY}/web:stable`;
    apprunner
      .on(DescribeServiceCommand)
      .resolvesOnce(serviceReply(TAG))
      .resolvesOnce(serviceReply(TAG, 'OPERATION_IN_PROGRESS'))
      .resolvesOnce(serviceReply(TAG, 'OPERATION_IN_PROGRESS'))
      .resolves(serviceReply(TAG));
    // StartDeployment's model lists no InvalidStateException: App Runner answers the race with InvalidRequestException.
    apprunner.on(StartDeploymentCommand).rejectsOnce(awsError('InvalidRequestException')).resolves({ OperationId: OP });
    apprunner
      .on(ListOperationsCommand)
      .resolvesOnce({ OperationSummaryList: [{ Id: 'push-op', Type: 'START_DEPLOYMENT', Status: 'IN_PROGRESS' }] })
      .resolves({ OperationSummaryList: [{ Id: OP, Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result.failure).toBeUndefined();
    expect(result.operationId).toBe(OP);
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(2);
  });

  it('fails at once when StartDeployment is refused with InvalidRequestException and nothing is running', async () => {
    const { deps, options } = setup();
    const TAG = `${REGISTRY}/web:stable`;
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG));
    apprunner.on(StartDeploymentCommand).rejects(awsError('InvalidRequestException'));

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result.failure?.message).toMatch(/InvalidRequestException happened/);
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(1);
  });

  it('rebuilds a CREATE_FAILED service with UpdateService (as AWS documents), even with the same image', async () => {
    const { deps, options, logger } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(NEW, 'CREATE_FAILED'));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: [{ Id: OP, Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options());

    expect(result.failure).toBeUndefined();
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(0);
    // The image that failed to be created never ran: it is not a previous image to roll back to.
    expect(result.previousImage).toBeUndefined();
    expect(logger.lines).toContainEqual(expect.stringContaining('CREATE_FAILED): rebuilding it with UpdateService'));
  });

  it.each([
    ['a private service', false, /It is a private service .*Set health-url to a full URL/],
    ['a service without a URL', true, /App Runner gives it no URL.*Set health-url to a full URL/],
  ])('with %s and a health path, fails before deploying and asks for health-url', async (_what, isPublic, message) => {
    const { deps, options } = setup();
    const reply = serviceReply(OLD) as unknown as { Service: Record<string, unknown> };
    delete reply.Service.ServiceUrl;
    reply.Service.NetworkConfiguration = { IngressConfiguration: { IsPubliclyAccessible: isPublic } };
    apprunner.on(DescribeServiceCommand).resolves(reply as never);

    const result = await deployAppRunner(
      deps,
      options({ verify: { url: '/health', expectedVersion: 'v2', timeoutMs: 5_000 } }),
    );

    expect(result.failure?.message).toMatch(message);
    expect(result.failure?.message).toMatch(/Cannot check \/health/);
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('on timeout says the operation id, its last status and what the service runs now', async () => {
    const { deps, options } = setup();
    apprunner
      .on(DescribeServiceCommand)
      .resolvesOnce(serviceReply(OLD))
      .resolves(serviceReply(NEW, 'OPERATION_IN_PROGRESS'));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: [{ Id: OP, Status: 'IN_PROGRESS' }] });

    const result = await deployAppRunner(deps, options({ timeoutMs: 60_000 }));

    expect(result.failure?.message).toMatch(
      new RegExp(
        `operation ${OP} on web after 1m: its last status was IN_PROGRESS\\. The service now runs ${NEW.replace(/[.]/g, '\\.')} \\(status OPERATION_IN_PROGRESS\\)`,
      ),
    );
    expect(result.status).toBe('IN_PROGRESS');
    expect(result.record.outcome).toBe('failed');
  });

  it('turns auto-deploy off, and says so, when pinning a digest on a service that tracked a tag', async () => {
    const { deps, logger, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(`${REGISTRY}/web:latest`, 'RUNNING', true));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: [{ Id: OP, Status: 'SUCCEEDED' }] });

    await deployAppRunner(deps, options());

    const update = apprunner.commandCalls(UpdateServiceCommand)[0]?.args[0].input;
    expect(update?.SourceConfiguration?.AutoDeploymentsEnabled).toBe(false);
    expect(update?.SourceConfiguration?.ImageRepository?.ImageIdentifier).toBe(NEW);
    expect(logger.lines).toContainEqual(expect.stringContaining('automatic deployments on; they are turned off'));
  });

  it('only watches the deployment a push of the tracked tag started: no second deployment', async () => {
    const { deps, options } = setup();
    const TAG = `${REGISTRY}/web:latest`;
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG, 'OPERATION_IN_PROGRESS', true));
    apprunner
      .on(ListOperationsCommand)
      .resolvesOnce({ OperationSummaryList: [{ Id: 'push-op', Type: 'START_DEPLOYMENT', Status: 'IN_PROGRESS' }] })
      .resolves({ OperationSummaryList: [{ Id: 'push-op', Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result.failure).toBeUndefined();
    expect(result.operationId).toBe('push-op');
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(0);
  });

  it('waits for the push of a tracked tag to start its deployment, and watches that one', async () => {
    const { clock, deps, options } = setup();
    const TAG = `${REGISTRY}/web:latest`;
    const start = clock.now();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG, 'RUNNING', true));
    // App Runner notices the push 20 s into the step.
    apprunner.on(ListOperationsCommand).callsFake(() => ({
      OperationSummaryList:
        clock.now() - start < 20_000
          ? others(2)
          : [
              {
                Id: 'push-op',
                Type: 'START_DEPLOYMENT',
                Status: clock.now() - start < 40_000 ? 'IN_PROGRESS' : 'SUCCEEDED',
              },
            ],
    }));

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result).toMatchObject({ operationId: 'push-op', status: 'SUCCEEDED' });
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(0);
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('starts the deployment of a tracked tag itself when App Runner started none within the pickup window', async () => {
    const { deps, logger, options } = setup();
    const TAG = `${REGISTRY}/web:latest`;
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG, 'RUNNING', true));
    apprunner.on(StartDeploymentCommand).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).callsFake(() => ({
      OperationSummaryList: apprunner.commandCalls(StartDeploymentCommand).length
        ? [{ Id: OP, Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' }]
        : others(2),
    }));

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result).toMatchObject({ operationId: OP, status: 'SUCCEEDED' });
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(1);
    expect(logger.lines).toContainEqual(expect.stringContaining('App Runner started no deployment'));
  });

  it('redeploys with StartDeployment when the service is already configured with the image', async () => {
    const { deps, options } = setup();
    const TAG = `${REGISTRY}/web:stable`;
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG));
    apprunner.on(StartDeploymentCommand).resolves({ OperationId: OP });
    apprunner.on(ListOperationsCommand).resolves({ OperationSummaryList: [{ Id: OP, Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result.operationId).toBe(OP);
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('with wait: false returns once the operation has started', async () => {
    const { deps, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });

    const result = await deployAppRunner(deps, options({ wait: false }));

    expect(result).toMatchObject({ operationId: OP, status: 'PENDING' });
    expect(result.failure).toBeUndefined();
    expect(result.record.outcome).toBe('in-progress');
    expect(apprunner.commandCalls(ListOperationsCommand)).toHaveLength(0);
  });

  it('keeps following its operation through a throttling storm', async () => {
    const { deps, options } = setup();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(OLD));
    apprunner.on(UpdateServiceCommand).resolves({ OperationId: OP });
    const throttle = apprunner.on(ListOperationsCommand);
    for (let i = 0; i < 5; i++) throttle.rejectsOnce(awsError('ThrottlingException', 429));
    throttle.resolves({ OperationSummaryList: [{ Id: OP, Status: 'SUCCEEDED' }] });

    const result = await deployAppRunner(deps, options());

    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
  });

  it('reports a credential failure with what it was doing', async () => {
    const { deps, options } = setup();
    apprunner.on(DescribeServiceCommand).rejects(awsError('ExpiredTokenException'));
    const result = await deployAppRunner(deps, options());
    expect(result.failure?.message).toMatch(/Could not describe the App Runner service .*session token has expired/);
  });
});

describe('deployAppRunner with a health check', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  /** A service whose /version answers v1 or v2 depending on the image it was last updated to. */
  async function liveService(): Promise<string> {
    let deployed = OLD;
    server = createServer((_req, res) => {
      res.writeHead(200);
      res.end(deployed === OLD ? 'v1\n' : 'v2-but-wrong\n');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    apprunner.on(DescribeServiceCommand).callsFake(() => {
      const reply = serviceReply(deployed) as { Service: { ServiceUrl: string } };
      reply.Service.ServiceUrl = host;
      return reply;
    });
    let op = 0;
    apprunner
      .on(UpdateServiceCommand)
      .callsFake((input: { SourceConfiguration: { ImageRepository: { ImageIdentifier: string } } }) => {
        deployed = input.SourceConfiguration.ImageRepository.ImageIdentifier;
        return { OperationId: `op-${++op}` };
      });
    apprunner.on(ListOperationsCommand).callsFake(() => ({
      OperationSummaryList: Array.from({ length: op }, (_, i) => ({ Id: `op-${op - i}`, Status: 'SUCCEEDED' })),
    }));
    return host;
  }

  it('rolls back by digest when App Runner reports success but the version served is wrong', async () => {
    const { deps, options } = setup();
    await liveService();
    const record = newRecord('a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', { previous: { commit: 'v1' } });

    const result = await deployAppRunner(
      deps,
      options({
        record,
        rollbackOnFailure: true,
        verify: {
          url: '/version',
          expectedVersion: 'v2\n',
          consecutiveSuccesses: 2,
          intervalMs: 1_000,
          timeoutMs: 20_000,
        },
      }),
    );

    const images = apprunner
      .commandCalls(UpdateServiceCommand)
      .map((c) => c.args[0].input.SourceConfiguration?.ImageRepository?.ImageIdentifier);
    expect(images).toEqual([NEW, OLD]);
    expect(result.failure?.message).toMatch(
      /the health check failed.*Rolled back to .*@sha256:a+ \(operation op-2\), and it answers again/s,
    );
    expect(result.record.outcome).toBe('rolled-back');
    expect(result.record.health).toMatchObject({ healthy: false, lastStatus: 200 });
    expect(result.record.operations.map((o) => [o.id, o.status])).toEqual([
      ['op-1', 'SUCCEEDED'],
      ['op-2', 'SUCCEEDED'],
    ]);
    expect(result.record.phases.map((p) => [p.name, p.status])).toEqual([
      ['deploy', 'succeeded'],
      ['verify', 'failed'],
      ['rollback', 'succeeded'],
    ]);
  });

  it('keeps credentials of a health URL out of the record, its error and the log', async () => {
    const { deps, options } = setup();
    const host = await liveService();
    const result = await deployAppRunner(
      deps,
      options({
        rollbackOnFailure: false,
        verify: { url: `http://deploy:s3cret-pw@${host}/version`, expectedVersion: 'v2\n', timeoutMs: 5_000 },
      }),
    );
    expect(result.record.health?.url).toBe(`http://***@${host}/version`);
    expect(JSON.stringify(result.record)).not.toContain('s3cret-pw');
    expect((deps.logger as ReturnType<typeof captureLogger>).lines.join('\n')).not.toContain('s3cret-pw');
  });

  it('leaves the new image in place when rollback-on-failure is false', async () => {
    const { deps, options } = setup();
    await liveService();
    const result = await deployAppRunner(
      deps,
      options({ rollbackOnFailure: false, verify: { url: '/version', expectedVersion: 'v2\n', timeoutMs: 5_000 } }),
    );
    expect(apprunner.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(result.failure?.message).toMatch(/rollback-on-failure is false/);
    expect(result.record.outcome).toBe('failed');
  });
});

describe('deploy-apprunner inputs', () => {
  const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
  const env = { GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', GITHUB_EVENT_NAME: 'push' };

  it('takes the region from the ARN and starts a new record for the commit', () => {
    const inputs = parseDeployAppRunnerInputs(reader({ 'service-arn': ARN, image: NEW }), env);
    expect(inputs).toMatchObject({ region: 'us-east-1', wait: true, timeoutMs: 1_800_000, onBusy: 'wait' });
    expect(inputs.rollbackOnFailure).toBe(false);
    expect(inputs.record.commit).toBe(env.GITHUB_SHA);
  });

  it('turns rollback on by default when health-url is given', () => {
    const inputs = parseDeployAppRunnerInputs(
      reader({ 'service-arn': ARN, image: NEW, 'health-url': '/version', 'expected-version': 'abc' }),
      env,
    );
    expect(inputs.rollbackOnFailure).toBe(true);
    expect(inputs.verify).toMatchObject({ url: '/version', expectedVersion: 'abc', timeoutMs: 300_000 });
  });

  it.each([
    [{ 'service-arn': 'web', image: NEW }, 'service-arn'],
    [{ 'service-arn': ARN, image: 'web:latest' }, 'image'],
    [{ 'service-arn': ARN, image: NEW, 'on-busy': 'queue' }, 'on-busy'],
    [{ 'service-arn': ARN, image: NEW, 'timeout-minutes': '0' }, 'timeout-minutes'],
    [{ 'service-arn': ARN, image: NEW, record: '{"schema":"x"}' }, 'record'],
    [{ 'service-arn': ARN, image: NEW, 'rollback-on-failure': 'true' }, 'rollback-on-failure'],
    [{ 'service-arn': ARN, image: NEW, 'health-url': 'version' }, 'health-url'],
  ])('refuses %j naming %s', (inputs, input) => {
    let error: unknown;
    try {
      parseDeployAppRunnerInputs(reader(inputs), env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
  });
});

describe('auto-deploy: a push deployment that ends between two looks', () => {
  it('is still adopted (no second deployment), while an older finished one is not', async () => {
    const { clock, deps, options } = setup();
    const TAG = `${REGISTRY}/web:latest`;
    const start = clock.now();
    apprunner.on(DescribeServiceCommand).resolves(serviceReply(TAG, 'RUNNING', true));
    const old = { Id: 'old-push', Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' };
    // The push's deployment starts and succeeds within the first 5 s: no look ever sees it running.
    apprunner.on(ListOperationsCommand).callsFake(() => ({
      OperationSummaryList:
        clock.now() - start < 1 ? [old] : [{ Id: 'fast-push', Type: 'START_DEPLOYMENT', Status: 'SUCCEEDED' }, old],
    }));

    const result = await deployAppRunner(deps, options({ image: TAG }));

    expect(result).toMatchObject({ operationId: 'fast-push', status: 'SUCCEEDED' });
    expect(apprunner.commandCalls(StartDeploymentCommand)).toHaveLength(0);
  });
});
