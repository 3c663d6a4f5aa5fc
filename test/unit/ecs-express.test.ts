import {
  DescribeExpressGatewayServiceCommand,
  DescribeServiceDeploymentsCommand,
  type ECSExpressGatewayService,
  type ExpressGatewayContainer,
  ListServiceDeploymentsCommand,
  StopServiceDeploymentCommand,
  UpdateExpressGatewayServiceCommand,
} from '@aws-sdk/client-ecs';
import { createTarget, expressUrl } from '../../src/targets/ecs/express-target';
import type { EcsExpressSettings } from '../../src/targets/ecs/settings';
import {
  ACCOUNT,
  context,
  deploymentArn,
  ENVIRONMENT,
  ecsMock,
  image,
  NEW,
  OLD,
  record,
  resetMocks,
  revisionArn,
  TIMEOUT,
  td,
} from './ecs-fixture';

const EXPRESS_ARN = `${ACCOUNT}:service/default/web-express`;
const HOST = 'we-0123456789abcdef.ecs.us-east-1.on.aws';
const settings: EcsExpressSettings = { serviceArn: EXPRESS_ARN };
const back = { uri: OLD, digest: `sha256:${'a'.repeat(64)}`, repository: 'web' };

beforeEach(resetMocks);

function expressService(container: ExpressGatewayContainer, revision: number, statusCode = 'ACTIVE') {
  return {
    serviceArn: EXPRESS_ARN,
    serviceName: 'web-express',
    cluster: `${ACCOUNT}:cluster/default`,
    status: { statusCode },
    activeConfigurations: [
      {
        serviceRevisionArn: revisionArn(revision),
        taskDefinitionArn: td(revision),
        createdAt: new Date(1_700_000_000_000 + revision),
        cpu: '512',
        healthCheckPath: '/health',
        primaryContainer: container,
        ingressPaths: [{ accessType: 'PUBLIC', endpoint: HOST }],
      },
    ],
  } as ECSExpressGatewayService;
}

/**
 * An Express service on web:3 with OLD: each update makes revision 4, 5…, listed as a deployment `dep-<n>` whose
 * looks are `looks` (the last repeats). Another deployment, of revision 99, is listed too: it must not be followed.
 */
function fakeExpress(options: { looks?: string[]; statusCode?: string } = {}) {
  const state = {
    container: {
      image: OLD,
      containerPort: 8080,
      environment: ENVIRONMENT,
    } as ExpressGatewayContainer,
    revision: 3,
    updates: [] as ExpressGatewayContainer[],
  };
  ecsMock.on(DescribeExpressGatewayServiceCommand).callsFake(() => ({
    service: expressService(state.container, state.revision, options.statusCode),
  }));
  ecsMock.on(UpdateExpressGatewayServiceCommand).callsFake((input: { primaryContainer: ExpressGatewayContainer }) => {
    state.updates.push(input.primaryContainer);
    state.container = input.primaryContainer;
    state.revision++;
    return {
      service: {
        serviceArn: EXPRESS_ARN,
        targetConfiguration: { serviceRevisionArn: revisionArn(state.revision), taskDefinitionArn: td(state.revision) },
      },
    };
  });
  ecsMock.on(ListServiceDeploymentsCommand).callsFake((input: { status?: string[] }) => {
    if (input.status) return { serviceDeployments: [] };
    return {
      serviceDeployments: [
        { serviceDeploymentArn: deploymentArn('dep-99'), targetServiceRevisionArn: revisionArn(99) },
        ...(state.updates.length
          ? [
              {
                serviceDeploymentArn: deploymentArn(`dep-${state.revision}`),
                targetServiceRevisionArn: revisionArn(state.revision),
              },
            ]
          : []),
      ],
    };
  });
  const looks = options.looks ?? ['IN_PROGRESS', 'SUCCESSFUL'];
  let look = 0;
  ecsMock.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => ({
    serviceDeployments: [
      { serviceDeploymentArn: input.serviceDeploymentArns[0], status: looks[Math.min(look++, looks.length - 1)] },
    ],
  }));
  return state;
}

describe('ECS Express Mode', () => {
  it('updates only the primary container image (and environment) and follows the deployment of its target revision', async () => {
    const state = fakeExpress();
    const t = createTarget({ ...settings, containerEnvironment: { MODE: 'canary' } }, context().ctx);
    const rec = record();
    const result = await t.deploy(image, rec, TIMEOUT);

    expect(result.failure).toBeUndefined();
    expect(ecsMock.commandCalls(UpdateExpressGatewayServiceCommand).map((c) => c.args[0].input)).toEqual([
      {
        serviceArn: EXPRESS_ARN,
        primaryContainer: {
          image: NEW,
          containerPort: 8080,
          environment: [
            { name: 'LOG', value: 'info' },
            { name: 'MODE', value: 'canary' },
          ],
        },
      },
    ]);
    // The deployment of revision 4 (the update's target), not the other one listed.
    expect(ecsMock.commandCalls(DescribeServiceDeploymentsCommand).map((c) => c.args[0].input)).not.toContainEqual({
      serviceDeploymentArns: [deploymentArn('dep-99')],
    });
    expect(result.outputs).toEqual({
      status: 'SUCCESSFUL',
      'previous-task-definition-arn': td(3),
      'task-definition-arn': td(4),
      'service-deployment-arn': deploymentArn('dep-4'),
    });
    expect(result.serviceUrl).toBe(`https://${HOST}`);
    expect(result.previous).toEqual({ image: OLD, digest: `sha256:${'a'.repeat(64)}` });
    expect(rec.target).toEqual({
      kind: 'ecs-express',
      id: EXPRESS_ARN,
      resource: 'ECS Express service',
      cluster: 'default',
      url: `https://${HOST}`,
      revision: td(4),
    });
    expect(rec.previous).toEqual({ image: OLD, digest: `sha256:${'a'.repeat(64)}`, revision: td(3) });
    expect(state.updates).toHaveLength(1);
  });

  it('refuses a service that is not ACTIVE, changing nothing', async () => {
    fakeExpress({ statusCode: 'DRAINING' });
    const rec = record();
    const result = await createTarget(settings, context().ctx).deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/is DRAINING: only an ACTIVE Express service can be updated/);
    expect(ecsMock.commandCalls(UpdateExpressGatewayServiceCommand)).toHaveLength(0);
    expect(rec.outcome).toBe('failed');
  });

  it("ECS's rollback of the update is a failed deploy, rolled-back", async () => {
    fakeExpress({ looks: ['ROLLBACK_SUCCESSFUL'] });
    const rec = record();
    const result = await createTarget(settings, context().ctx).deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/ECS rolled the deployment of ECS Express service web-express back/);
    expect(rec.outcome).toBe('rolled-back');
  });

  it('rolls back to the previous image with everything else as it is', async () => {
    const state = fakeExpress();
    const t = createTarget(settings, context().ctx);
    const rec = record();
    const result = await t.deploy(image, rec, TIMEOUT);
    const failure = await t.rollback({ image: back, record: rec, timeoutMs: TIMEOUT, reason: 'x', undoing: result });
    expect(failure).toBeUndefined();
    expect(state.updates.map((c) => c.image)).toEqual([NEW, OLD]);
    expect(state.updates[1]).toEqual({ ...state.updates[0], image: OLD });
    expect(rec.outcome).toBe('rolled-back');
  });

  it('rolls back a deployment still in progress with StopServiceDeployment ROLLBACK', async () => {
    const state = fakeExpress({ looks: ['IN_PROGRESS'] });
    const t = createTarget(settings, context().ctx);
    const rec = record();
    const result = await t.deploy(image, rec, 60_000);
    expect(result.needsRollback).toBe(true);
    // The update was accepted: the output does not say nothing was started.
    expect(result.outputs.status).toBe('PENDING');
    let stopped = false;
    ecsMock.on(StopServiceDeploymentCommand).callsFake(() => {
      stopped = true;
      return {};
    });
    ecsMock.on(DescribeServiceDeploymentsCommand).callsFake(() => ({
      serviceDeployments: [
        { serviceDeploymentArn: deploymentArn('dep-4'), status: stopped ? 'ROLLBACK_SUCCESSFUL' : 'IN_PROGRESS' },
      ],
    }));
    const failure = await t.rollback({ image: back, record: rec, timeoutMs: TIMEOUT, reason: 'x', undoing: result });
    expect(failure).toBeUndefined();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: deploymentArn('dep-4'), stopType: 'ROLLBACK' },
    ]);
    expect(state.updates).toHaveLength(1);
    expect(rec.outcome).toBe('rolled-back');
  });
});

describe('expressUrl', () => {
  const withPaths = (ingressPaths: { accessType: string; endpoint: string }[]) =>
    ({ activeConfigurations: [{ ingressPaths }] }) as ECSExpressGatewayService;

  it('adds https:// to a bare host and prefers the public path', () => {
    expect(
      expressUrl(
        withPaths([
          { accessType: 'PRIVATE', endpoint: 'internal.example' },
          { accessType: 'PUBLIC', endpoint: `${HOST}/` },
        ]),
      ),
    ).toBe(`https://${HOST}`);
  });

  it('keeps a URL that has a scheme, and serves a loopback sandbox over http', () => {
    expect(expressUrl(withPaths([{ accessType: 'PUBLIC', endpoint: 'https://a.example/' }]))).toBe('https://a.example');
    expect(expressUrl(withPaths([{ accessType: 'PUBLIC', endpoint: '127.0.0.1:4566' }]))).toBe('http://127.0.0.1:4566');
    expect(expressUrl(withPaths([]))).toBeUndefined();
  });
});
