import {
  type Deployment,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { STATE } from '../../src/targets/ecs/state';
import { createTarget, type EcsSettings, settleAbandoned } from '../../src/targets/ecs/target';
import {
  awsError,
  CLUSTER_ARN,
  context,
  deploymentArn,
  described,
  ecs,
  ecsMock,
  elbMock,
  fakeEcs,
  healthyTargets,
  image,
  NEW,
  OLD,
  OLD_COMMIT,
  record,
  resetMocks,
  SERVICE_ARN,
  SIDECAR,
  service,
  TG,
  TIMEOUT,
  td,
} from './ecs-fixture';

const settings: EcsSettings = { cluster: 'prod', service: 'web' };

beforeEach(resetMocks);

function target(extra: Partial<EcsSettings> = {}, ctxExtra: Parameters<typeof context>[0] = {}) {
  const made = context(ctxExtra);
  return { ...made, target: createTarget({ ...settings, ...extra }, made.ctx) };
}

describe('a good deploy', () => {
  it('registers a revision with only the image (and environment) changed and follows its deployment to SUCCESSFUL', async () => {
    const ecsState = fakeEcs({ service: { loadBalancers: [{ targetGroupArn: TG, containerName: 'app' }] } });
    healthyTargets();
    const { target: t, logger } = target({ containerEnvironment: { MODE: 'canary', RELEASE: 'v2' } });
    const rec = record();

    const result = await t.deploy(image, rec, TIMEOUT);

    expect(result.failure).toBeUndefined();
    expect(ecsState.registered).toHaveLength(1);
    const input = ecsState.registered[0] as unknown as Record<string, unknown>;
    // Everything but the read-only fields (taskDefinitionArn, revision, status, requiresAttributes, compatibilities,
    // registeredAt, registeredBy, deregisteredAt), which RegisterTaskDefinition refuses.
    expect(Object.keys(input).sort()).toEqual([
      'containerDefinitions',
      'cpu',
      'executionRoleArn',
      'family',
      'memory',
      'networkMode',
      'requiresCompatibilities',
      'tags',
    ]);
    expect(input).toMatchObject({
      family: 'web',
      cpu: '256',
      memory: '512',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      executionRoleArn: 'arn:aws:iam::123456789012:role/web-execution',
      tags: [{ key: 'team', value: 'payments' }],
    });
    expect(input.containerDefinitions).toEqual([
      {
        name: 'app',
        image: NEW,
        essential: true,
        portMappings: [{ containerPort: 8080 }],
        environment: [
          { name: 'LOG', value: 'info' },
          { name: 'MODE', value: 'canary' },
          { name: 'RELEASE', value: 'v2' },
        ],
      },
      { name: 'log-router', image: SIDECAR, essential: false },
    ]);
    expect(ecsMock.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', taskDefinition: td(8) },
    ]);
    expect(ecsMock.commandCalls(DescribeServiceDeploymentsCommand)[0]?.args[0].input).toEqual({
      serviceDeploymentArns: [deploymentArn('dep-8')],
    });
    expect(result.outputs).toEqual({
      status: 'SUCCESSFUL',
      'task-definition-arn': td(8),
      'previous-task-definition-arn': td(7),
      'service-deployment-arn': deploymentArn('dep-8'),
    });
    expect(result.previous).toEqual({ image: OLD, digest: `sha256:${'a'.repeat(64)}` });
    expect(result.needsRollback).toBe(false);
    expect(rec.target).toEqual({
      kind: 'ecs',
      id: SERVICE_ARN,
      resource: 'ECS service',
      cluster: 'prod',
      revision: td(8),
    });
    expect(rec.previous).toEqual({ image: OLD, digest: `sha256:${'a'.repeat(64)}`, revision: td(7) });
    expect(rec.operations).toEqual([{ kind: 'service-deployment', id: deploymentArn('dep-8'), status: 'SUCCESSFUL' }]);
    expect(rec.outcome).toBe('in-progress');
    expect(rec.phases.map((p) => [p.name, p.status])).toEqual([['deploy', 'succeeded']]);
    expect(logger.lines).toContainEqual(expect.stringContaining('IN_PROGRESS, SCALE_UP: 1/3 tasks of web:8 running'));
    expect(logger.lines).toContainEqual(expect.stringContaining('2 healthy target(s)'));
  });

  it('starts from the task-definition file, not from what the service runs', async () => {
    const ecsState = fakeEcs();
    const file = {
      family: 'web-from-file',
      cpu: '1024',
      containerDefinitions: [{ name: 'app', image: 'placeholder', essential: true }],
    };
    const { target: t } = target({ taskDefinitionFile: { path: 'deploy/task.json', json: file } });
    const result = await t.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    expect(ecsState.registered).toEqual([
      { family: 'web-from-file', cpu: '1024', containerDefinitions: [{ name: 'app', image: NEW, essential: true }] },
    ]);
    // What ran before is still the service's own revision.
    expect(result.outputs['previous-task-definition-arn']).toBe(td(7));
  });

  /** No service-deployments API: DescribeServices answers `deployments(look, ours)` once the service runs ours. */
  function withoutDeploymentsApi(
    deployments: (look: number, ours: string) => Deployment[],
    extra: Partial<Service> = {},
  ) {
    const ecsState = fakeEcs();
    ecsMock.on(ListServiceDeploymentsCommand).rejects(awsError('UnsupportedFeatureException'));
    let looks = 0;
    ecsMock.on(DescribeServicesCommand).callsFake(() => {
      const ours = ecsState.current;
      if (ours === td(7)) return { services: [service(td(7))] };
      return { services: [service(ours, { ...extra, deployments: deployments(++looks, ours) })] };
    });
  }

  it('follows through DescribeServices rolloutState when ECS has no service-deployments API, and says so once', async () => {
    withoutDeploymentsApi((look, ours) => [
      {
        status: 'PRIMARY',
        taskDefinition: ours,
        rolloutState: look < 3 ? 'IN_PROGRESS' : 'COMPLETED',
        runningCount: look,
        desiredCount: 3,
      },
      ...(look < 3 ? [{ status: 'ACTIVE', taskDefinition: td(7), runningCount: 3 - look }] : []),
    ]);
    const { target: t, logger } = target();
    const result = await t.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    expect(result.outputs.status).toBe('COMPLETED');
    expect(result.outputs['service-deployment-arn']).toBeUndefined();
    expect(logger.lines.filter((l) => l.includes('rolloutState instead'))).toHaveLength(1);
    expect(logger.lines).toContainEqual(expect.stringContaining('rollout IN_PROGRESS: 1/3 tasks of web:8 running'));
  });

  it('in the fallback, our revision replaced by the old PRIMARY is ECS rolling back: a failure, rolled-back', async () => {
    withoutDeploymentsApi(
      (look, ours) =>
        look < 2
          ? [
              { status: 'PRIMARY', taskDefinition: ours, rolloutState: 'IN_PROGRESS', desiredCount: 3 },
              { status: 'ACTIVE', taskDefinition: td(7), runningCount: 3 },
            ]
          : [
              { status: 'PRIMARY', taskDefinition: td(7), rolloutState: 'IN_PROGRESS', runningCount: 3 },
              { status: 'ACTIVE', taskDefinition: ours, rolloutState: 'FAILED', runningCount: 0 },
            ],
      { events: [{ message: '(service web) deployment failed: tasks failed to start. rolling back to web:7' }] },
    );
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/ECS rolled the deployment .* back .*rolling back to web:7/);
    expect(rec.outcome).toBe('rolled-back');
    expect(result.needsRollback).toBe(false);
  });
});

describe('choosing the container', () => {
  it('refuses two essential containers without `container`, naming them, and registers nothing', async () => {
    const two = described(7);
    two.containerDefinitions = [
      { name: 'app', image: OLD, essential: true },
      { name: 'worker', image: OLD },
    ];
    const ecsState = fakeEcs({ definition: two });
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/2 essential containers \(app, worker/);
    expect(result.failure?.message).toMatch(/set container/);
    expect(ecsState.registered).toEqual([]);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(rec.outcome).toBe('failed');
    expect(rec.target?.revision).toBeUndefined();
  });

  it('refuses a named container the task definition does not have, listing the ones it has', async () => {
    const ecsState = fakeEcs();
    const result = await target({ container: 'api' }).target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(/no container named "api"; its containers are app, log-router/);
    expect(ecsState.registered).toEqual([]);
  });

  it('replaces the named container even when it is not essential, leaving the others untouched', async () => {
    const ecsState = fakeEcs();
    const result = await target({ container: 'log-router' }).target.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    const containers = ecsState.registered[0]?.containerDefinitions ?? [];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['app', OLD],
      ['log-router', NEW],
    ]);
  });
});

describe('services it cannot deploy', () => {
  it.each([
    ['CODE_DEPLOY', /CODE_DEPLOY deployment controller: its deployments are made by CodeDeploy/],
    ['EXTERNAL', /EXTERNAL deployment controller: its task sets are managed by another tool/],
  ])('refuses a service on the %s controller with the reason, changing nothing', async (type, reason) => {
    const ecsState = fakeEcs({ service: { deploymentController: { type: type as 'EXTERNAL' } } });
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(reason);
    expect(result.failure?.message).toMatch(/Nothing was changed/);
    expect(ecsState.registered).toEqual([]);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
    expect(rec.outcome).toBe('failed');
    expect(rec.operations).toEqual([]);
  });

  it('refuses a DRAINING service', async () => {
    const ecsState = fakeEcs({ service: { status: 'DRAINING' } });
    const result = await target().target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(/is DRAINING .*cannot be deployed/);
    expect(ecsState.registered).toEqual([]);
  });
});

describe("ECS's own verdicts", () => {
  it('a circuit-breaker rollback fails the deploy in words, outcome rolled-back, nothing of ours to undo', async () => {
    fakeEcs({
      looks: [
        {
          status: 'ROLLBACK_SUCCESSFUL',
          deploymentCircuitBreaker: { status: 'TRIGGERED', failureCount: 3, threshold: 3 },
          rollback: { reason: 'Circuit breaker triggered', serviceRevisionArn: 'rev-7' },
        },
      ],
    });
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/ECS rolled the deployment of ECS service web \(cluster prod\) back/);
    expect(result.failure?.message).toMatch(/circuit breaker tripped: 3 tasks failed .* \(threshold 3\)/);
    expect(result.failure?.message).toMatch(/ECS rolled back: Circuit breaker triggered/);
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error).toBe(result.failure?.message);
    expect(result.needsRollback).toBe(false);
    expect(result.outputs.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(rec.phases.map((p) => [p.name, p.status])).toEqual([['deploy', 'failed']]);
  });

  it('names the alarms that went into ALARM', async () => {
    fakeEcs({
      looks: [{ status: 'ROLLBACK_SUCCESSFUL', alarms: { triggeredAlarmNames: ['web-5xx', 'web-latency'] } }],
    });
    const result = await target().target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(/CloudWatch alarms web-5xx, web-latency went into ALARM/);
  });

  it('a failed ECS rollback is rollback-failed', async () => {
    fakeEcs({ looks: [{ status: 'ROLLBACK_FAILED' }] });
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/ECS's rollback FAILED too/);
    expect(rec.outcome).toBe('rollback-failed');
    expect(result.needsRollback).toBe(false);
  });

  it('a STOPPED deployment is a failure that leaves ours to roll back', async () => {
    fakeEcs({ looks: [{ status: 'STOPPED', statusReason: 'Stopped by user' }] });
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(/ended STOPPED: Stopped by user/);
    expect(rec.outcome).toBe('failed');
    expect(result.needsRollback).toBe(true);
  });

  it('a timed-out deployment is a failure to roll back, recorded as still IN_PROGRESS', async () => {
    fakeEcs({ looks: [{ status: 'IN_PROGRESS' }] });
    const rec = record();
    const result = await target().target.deploy(image, rec, 60_000);
    expect(result.failure?.message).toMatch(/Gave up waiting for the deployment/);
    expect(result.needsRollback).toBe(true);
    expect(rec.operations).toEqual([{ kind: 'service-deployment', id: deploymentArn('dep-8'), status: 'IN_PROGRESS' }]);
  });

  it('target groups that stay unhealthy after SUCCESSFUL fail the deploy with what the load balancer said', async () => {
    fakeEcs({ service: { loadBalancers: [{ targetGroupArn: TG }] } });
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: '10.0.1.5', Port: 8080 },
          TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'codes: [500]' },
        },
      ],
    });
    const result = await target().target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(
      /load balancer targets are not all healthy: 10\.0\.1\.5 in web-tg is unhealthy/,
    );
    expect(result.needsRollback).toBe(true);
  });
});

describe('on-busy', () => {
  const busy = deploymentArn('someone-else');

  it('fail: refuses before registering anything', async () => {
    const ecsState = fakeEcs();
    ecsState.active = [{ serviceDeploymentArn: busy, status: 'IN_PROGRESS' }];
    const result = await target({ onBusy: 'fail' }).target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(/has a deployment in progress \(.*someone-else\)\. on-busy is fail/);
    expect(ecsState.registered).toEqual([]);
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(0);
  });

  it('stop: stops an IN_PROGRESS deployment with ROLLBACK, but never one that is already rolling back', async () => {
    const ecsState = fakeEcs();
    const rollingBack = deploymentArn('rolling-back');
    ecsState.active = [
      { serviceDeploymentArn: busy, status: 'IN_PROGRESS' },
      { serviceDeploymentArn: rollingBack, status: 'ROLLBACK_IN_PROGRESS' },
    ];
    ecsMock.on(StopServiceDeploymentCommand).callsFake(() => {
      ecsState.active = [];
      return {};
    });
    const result = await target({ onBusy: 'stop' }).target.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: busy, stopType: 'ROLLBACK' },
    ]);
    expect(ecsState.registered).toHaveLength(1);
  });

  it('wait: registers only once ListServiceDeployments (with the status filter) answers none in progress', async () => {
    const ecsState = fakeEcs();
    ecsState.active = [{ serviceDeploymentArn: busy, status: 'IN_PROGRESS' }];
    ecsState.idleFromLook = 3;
    const { target: t, logger } = target({ onBusy: 'wait' });
    const result = await t.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    // The first look, two more while waiting, then none: nothing registered before the last.
    expect(ecsState.busyLooks).toEqual([0, 0, 0]);
    const filtered = ecsMock
      .commandCalls(ListServiceDeploymentsCommand)
      .map((c) => c.args[0].input)
      .filter((input) => input.status);
    expect(filtered[0]?.status).toEqual(
      expect.arrayContaining(['PENDING', 'IN_PROGRESS', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS']),
    );
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(0);
    expect(logger.lines).toContainEqual(expect.stringMatching(/waiting for it to end \(on-busy wait\)/));
  });
});

describe('AWS faults', () => {
  it('AccessDeniedException on UpdateService names ecs:UpdateService, and the record claims no deployment', async () => {
    fakeEcs();
    ecsMock.on(UpdateServiceCommand).rejects(awsError('AccessDeniedException'));
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(
      /Could not update the ECS service web .*access denied.*needs ecs:UpdateService/,
    );
    expect(rec.outcome).toBe('failed');
    expect(rec.operations).toEqual([]);
    expect(rec.target?.revision).toBeUndefined();
    expect(result.outputs.status).toBe('NOT_STARTED');
    expect(result.needsRollback).toBe(false);
  });

  it.each([
    ['ClusterNotFoundException', /Could not describe the ECS service web in cluster prod: ClusterNotFoundException/],
    ['ServiceNotFoundException', /Could not describe the ECS service web in cluster prod: ServiceNotFoundException/],
  ])('%s is wrapped with what was being done', async (name, message) => {
    fakeEcs();
    ecsMock.on(DescribeServicesCommand).rejects(awsError(name));
    const rec = record();
    const result = await target().target.deploy(image, rec, TIMEOUT);
    expect(result.failure?.message).toMatch(message);
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(rec.target).toBeUndefined();
  });

  it('a service DescribeServices lists as a failure (MISSING) is said so', async () => {
    fakeEcs();
    ecsMock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: SERVICE_ARN, reason: 'MISSING' }] });
    const result = await target().target.deploy(image, record(), TIMEOUT);
    expect(result.failure?.message).toMatch(/The ECS service web was not found in cluster prod \(MISSING\)/);
  });

  it('throttling while following the deployment is looked at again, not a failed deploy', async () => {
    fakeEcs();
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .rejectsOnce(awsError('ServerException', 500))
      .resolves({ serviceDeployments: [{ serviceDeploymentArn: deploymentArn('dep-8'), status: 'SUCCESSFUL' }] });
    const result = await target().target.deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    expect(ecsMock.commandCalls(DescribeServiceDeploymentsCommand)).toHaveLength(3);
  });
});

describe('cancellation', () => {
  async function cancelledDeploy(cancelOnAbort?: boolean) {
    const controller = new AbortController();
    fakeEcs();
    let looks = 0;
    ecsMock.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => {
      if (++looks === 2) controller.abort(new Error('The job was cancelled'));
      return { serviceDeployments: [{ serviceDeploymentArn: input.serviceDeploymentArns[0], status: 'IN_PROGRESS' }] };
    });
    const made = target(cancelOnAbort === undefined ? {} : { cancelOnAbort }, { signal: controller.signal });
    const rec = record();
    const result = await made.target.deploy(image, rec, TIMEOUT);
    expect(result.cancelled).toBe(true);
    const settled = await made.target.settleCancelled(rec);
    return { ...made, settled, result };
  }

  it('stops a started, unfinished deployment with ROLLBACK (cancel-on-abort defaults to true)', async () => {
    const { settled, saved } = await cancelledDeploy();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: deploymentArn('dep-8'), stopType: 'ROLLBACK' },
    ]);
    expect(settled.runsNow).toEqual([expect.stringMatching(/stopped with ROLLBACK/)]);
    expect(saved.get(STATE.settled)).toBe('true');
  });

  it('leaves it running with cancel-on-abort false, and says so', async () => {
    const { settled } = await cancelledDeploy(false);
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(0);
    expect(settled.runsNow).toEqual([expect.stringMatching(/goes on in AWS \(cancel-on-abort is false\)/)]);
  });
});

describe('the post step', () => {
  function stateOf(values: Record<string, string>) {
    const state = new Map(Object.entries(values));
    return {
      state,
      deps: {
        getState: (name: string) => state.get(name) ?? '',
        saveState: (name: string, value: string) => state.set(name, value),
        env: {},
        clock: context().ctx.clock,
        logger: context().logger,
      },
    };
  }

  it('stops the deployment a killed main step left running, once, then has nothing to do', async () => {
    const arn = deploymentArn('dep-8');
    ecsMock
      .on(DescribeServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [{ serviceDeploymentArn: arn, status: 'IN_PROGRESS' }] });
    const { deps } = stateOf({
      [STATE.region]: 'us-east-1',
      [STATE.service]: 'web',
      [STATE.cluster]: 'prod',
      [STATE.label]: 'ECS service web (cluster prod)',
      [STATE.deploymentArn]: arn,
      [STATE.cancelOnAbort]: 'true',
    });
    const first = await settleAbandoned(deps, ecs);
    expect(first?.changed).toBe(true);
    expect(first?.summary).toMatch(/stopped with ROLLBACK/);
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand).map((c) => c.args[0].input)).toEqual([
      { serviceDeploymentArn: arn, stopType: 'ROLLBACK' },
    ]);
    await expect(settleAbandoned(deps, ecs)).resolves.toBeUndefined();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(1);
  });

  it('does nothing after a main step that saw its deployment end', async () => {
    fakeEcs();
    const { ctx, saved } = context();
    const result = await createTarget(settings, ctx).deploy(image, record(), TIMEOUT);
    expect(result.failure).toBeUndefined();
    const deps = {
      getState: (name: string) => saved.get(name) ?? '',
      saveState: (name: string, value: string) => saved.set(name, value),
      env: {},
      clock: ctx.clock,
      logger: ctx.logger,
    };
    expect(saved.get(STATE.deploymentArn)).toBe(deploymentArn('dep-8'));
    await expect(settleAbandoned(deps, ecs)).resolves.toBeUndefined();
    expect(ecsMock.commandCalls(StopServiceDeploymentCommand)).toHaveLength(0);
  });
});

describe('current and plan', () => {
  it('current() names the task definition and container, and refuses another repository', async () => {
    fakeEcs();
    const { target: t } = target();
    const now = await t.current('web');
    expect(now).toMatchObject({
      running: { reference: OLD, digest: `sha256:${'a'.repeat(64)}`, commit: OLD_COMMIT },
      id: SERVICE_ARN,
      name: 'web',
      detail: 'task definition web:7, container app',
    });
    await expect(t.current('api')).rejects.toThrow(/from the repository web, but repository is api/);
  });

  it('planDeploy changes nothing', async () => {
    fakeEcs();
    const plan = await target().target.planDeploy('web');
    expect(plan).toEqual({
      running: OLD,
      line: 'register a revision of web:7 with the image by digest, then UpdateService web in prod',
    });
    expect(ecsMock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
    expect(ecsMock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});

it('records the cluster by name from its ARN', async () => {
  fakeEcs({ service: { clusterArn: CLUSTER_ARN.replace('prod', 'blue') } });
  const rec = record();
  await target().target.deploy(image, rec, TIMEOUT);
  expect(rec.target?.cluster).toBe('blue');
});

describe('withDeploymentAlarms', () => {
  it("adds the alarm names to the service's deployment alarms, keeping the rest of its configuration", async () => {
    const { withDeploymentAlarms } = await import('../../src/targets/ecs/service-deploy');
    const current = {
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      alarms: { alarmNames: ['theirs'], enable: false, rollback: false },
    };
    expect(withDeploymentAlarms(current, ['web-5xx'])).toEqual({
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      alarms: { alarmNames: ['theirs', 'web-5xx'], enable: true, rollback: true },
    });
    // Nothing to change: UpdateService is sent without a deployment configuration.
    expect(
      withDeploymentAlarms({ alarms: { alarmNames: ['web-5xx'], enable: true, rollback: true } }, ['web-5xx']),
    ).toBeUndefined();
    expect(withDeploymentAlarms(current, [])).toBeUndefined();
    expect(withDeploymentAlarms(undefined, ['a'])).toEqual({
      alarms: { alarmNames: ['a'], enable: true, rollback: true },
    });
  });
});
