import {
  type ContainerDefinition,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeExpressGatewayServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type ServiceDeployment,
  StopServiceDeploymentCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateExpressGatewayServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';

// The ECS emulator through the real @aws-sdk/client-ecs (AWS_ENDPOINT_URL_ECS only): tasks really run the sample
// app's images behind each service's load-balancer URL, so a deployment's outcome is seen in what the URL serves.

jest.setTimeout(120_000);

let sandbox: Sandbox;
let ecs: ECSClient;
let elbv2: ElasticLoadBalancingV2Client;
const digests: Record<string, string> = {};
const savedEnv = { ...process.env };
let counter = 0;

const TERMINAL = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);

function image(tag: string): string {
  return `${sandbox.registry.host}/app:${tag}`;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.ecs.timing = {
    taskStartMs: 50,
    healthCheckMs: 50,
    unhealthyAfterMs: 800,
    pendingMs: 50,
    minuteMs: 100,
    tickMs: 20,
  };
  Object.assign(process.env, sandbox.aws.clientEnv(), { AWS_MAX_ATTEMPTS: '3' });
  ecs = new ECSClient({});
  elbv2 = new ElasticLoadBalancingV2Client({});
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const [tag, args] of [
    ['v1', ['--build-arg', 'VERSION=v1']],
    ['v2', ['--build-arg', 'VERSION=v2']],
    ['broken', ['--build-arg', 'VERSION=broken', '--build-arg', 'HEALTH=fail']],
  ] as const) {
    // --no-cache: podman's layer cache ignores a changed --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', image(tag), ...args, context], sandbox.env());
    await docker(['push', image(tag)], sandbox.env());
    digests[tag] = (await sandbox.registry.client.manifest('app', tag))!.digest;
  }
}, 180_000);

afterAll(async () => {
  ecs?.destroy();
  elbv2?.destroy();
  await sandbox?.stop();
  process.env = savedEnv;
});

afterEach(() => sandbox.aws.faults.clear());

async function version(url: string): Promise<string> {
  const res = await fetch(`${url}/version`);
  return (await res.text()).trim();
}

/** A new task definition revision of the service's family running `tag`, registered the way a deploy action does. */
async function revisionWith(family: string, tag: string): Promise<string> {
  const { taskDefinition } = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }),
  );
  const td = taskDefinition!;
  const containers: ContainerDefinition[] = td.containerDefinitions!.map((c, i) =>
    i === 0 ? { ...c, image: `${sandbox.registry.host}/app@${digests[tag]}` } : c,
  );
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: td.family!,
      containerDefinitions: containers,
      networkMode: td.networkMode,
      requiresCompatibilities: td.requiresCompatibilities,
      cpu: td.cpu,
      memory: td.memory,
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

async function describeDeployment(arn: string): Promise<ServiceDeployment> {
  const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  return out.serviceDeployments![0]!;
}

/** The newest service deployment of the service (through ListServiceDeployments, as a deploy action finds it). */
async function newestDeployment(cluster: string, service: string): Promise<string> {
  const out = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service, maxResults: 1 }));
  return out.serviceDeployments![0]!.serviceDeploymentArn!;
}

/** Polls DescribeServiceDeployments until the deployment ends; records every lifecycle stage and status seen. */
async function finished(arn: string, seen: Set<string> = new Set()): Promise<ServiceDeployment> {
  return poll({
    what: `service deployment ${arn}`,
    timeoutMs: 60_000,
    minDelayMs: 20,
    maxDelayMs: 50,
    check: async () => {
      const d = await describeDeployment(arn);
      if (d.lifecycleStage) seen.add(d.lifecycleStage);
      seen.add(d.status!);
      return TERMINAL.has(d.status!) ? { done: true, value: d } : { done: false };
    },
  });
}

function untilStage(arn: string, stage: string): Promise<ServiceDeployment> {
  return poll({
    what: `${stage} of ${arn}`,
    timeoutMs: 30_000,
    minDelayMs: 20,
    maxDelayMs: 40,
    check: async () => {
      const d = await describeDeployment(arn);
      return d.lifecycleStage === stage ? { done: true, value: d } : { done: false };
    },
  });
}

function name(prefix: string): string {
  return `${prefix}-${++counter}`;
}

describe('rolling update', () => {
  it('replaces every task with the new image, serves it at the same URL, and ends SUCCESSFUL / COMPLETED', async () => {
    const svc = name('web');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      containerName: 'web',
      desiredCount: 3,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      sidecar: { name: 'sidecar', image: image('v1') },
    });
    expect(await version(created.url)).toBe('v1');
    expect(sandbox.ecs.runningImages('prod', svc)).toEqual([digests.v1, digests.v1, digests.v1]);

    const td = await revisionWith(svc, 'v2');
    const since = Date.now();
    const updated = await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    expect(updated.service!.taskDefinition).toBe(td);
    expect(updated.service!.deployments!.map((d) => d.status)).toContain('PRIMARY');

    const seen = new Set<string>();
    const done = await finished(await newestDeployment('prod', svc), seen);
    expect(done.status).toBe('SUCCESSFUL');
    expect(seen).toContain('SCALE_UP');
    expect(done.targetServiceRevision).toMatchObject({ requestedTaskCount: 3, runningTaskCount: 3 });
    expect(await version(created.url)).toBe('v2');
    expect(sandbox.ecs.runningImages('prod', svc)).toEqual([digests.v2, digests.v2, digests.v2]);
    // minimumHealthyPercent 100 / maximumPercent 200 of 3 tasks: never fewer than 3 healthy, never more than 6.
    const capacity = sandbox.ecs.capacity('prod', svc, since);
    expect(capacity.minHealthy).toBeGreaterThanOrEqual(3);
    expect(capacity.maxLive).toBeLessThanOrEqual(6);

    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [svc] }));
    const service = services![0]!;
    expect(service.serviceArn).toBe(`arn:aws:ecs:us-east-1:123456789012:service/prod/${svc}`);
    expect(service.deployments).toHaveLength(1);
    expect(service.deployments![0]).toMatchObject({ status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 3 });
    expect(service.events![0]!.message).toBe(`(service ${svc}) has reached a steady state.`);

    const revisions = await ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [done.targetServiceRevision!.arn!] }),
    );
    expect(revisions.serviceRevisions![0]!.taskDefinition).toBe(td);
    expect(revisions.serviceRevisions![0]!.containerImages![0]).toMatchObject({
      containerName: 'web',
      imageDigest: digests.v2,
    });

    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: created.targetGroupArn }));
    expect(health.TargetHealthDescriptions!.map((t) => t.TargetHealth!.State)).toEqual([
      'healthy',
      'healthy',
      'healthy',
    ]);
  });

  it('minimumHealthyPercent 50 / maximumPercent 100 stops old tasks first, keeping half of them healthy', async () => {
    const svc = name('half');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 4,
      minimumHealthyPercent: 50,
      maximumPercent: 100,
    });
    const td = await revisionWith(svc, 'v2');
    const since = Date.now();
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    expect((await finished(await newestDeployment('prod', svc))).status).toBe('SUCCESSFUL');
    const capacity = sandbox.ecs.capacity('prod', svc, since);
    expect(capacity.minHealthy).toBeGreaterThanOrEqual(2);
    expect(capacity.maxLive).toBeLessThanOrEqual(4);
    expect(await version(created.url)).toBe('v2');
  });

  it('the circuit breaker rolls a broken image back: ROLLBACK_SUCCESSFUL and the old image serving again', async () => {
    const svc = name('cb');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 2,
      circuitBreaker: { enable: true, rollback: true },
    });
    const td = await revisionWith(svc, 'broken');
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    const done = await finished(await newestDeployment('prod', svc));
    expect(done.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(done.deploymentCircuitBreaker).toMatchObject({ status: 'TRIGGERED', threshold: 3 });
    expect(done.deploymentCircuitBreaker!.failureCount).toBeGreaterThanOrEqual(3);
    expect(done.rollback!.reason).toContain('circuit breaker');
    expect(done.rollback!.serviceRevisionArn).toBe(done.sourceServiceRevisions![0]!.arn);
    expect(await version(created.url)).toBe('v1');
    expect(sandbox.ecs.runningImages('prod', svc)).toEqual([digests.v1, digests.v1]);

    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [svc] }));
    expect(services![0]!.taskDefinition).not.toBe(td);
    const failed = services![0]!.deployments!.find((d) => d.taskDefinition === td);
    expect(failed === undefined || failed.rolloutState === 'FAILED').toBe(true);
  });

  it('without rollback the circuit breaker stops the deployment (rolloutState FAILED), old tasks still serving', async () => {
    const svc = name('cbstop');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 2,
      circuitBreaker: { enable: true, rollback: false },
    });
    const td = await revisionWith(svc, 'broken');
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    const done = await finished(await newestDeployment('prod', svc));
    expect(done.status).toBe('STOPPED');
    const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [svc] }));
    const primary = services![0]!.deployments!.find((d) => d.status === 'PRIMARY')!;
    expect(primary).toMatchObject({ taskDefinition: td, rolloutState: 'FAILED' });
    expect(primary.failedTasks).toBeGreaterThanOrEqual(3);
    expect(await version(created.url)).toBe('v1');
  });

  it('StopServiceDeployment ROLLBACK rolls back to the source revision; a finished one answers ConflictException', async () => {
    const svc = name('stop');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 2,
    });
    // Slow enough to be caught in progress.
    sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 400 };
    try {
      const td = await revisionWith(svc, 'v2');
      await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
      const arn = await newestDeployment('prod', svc);
      const stopped = await ecs.send(
        new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }),
      );
      expect(stopped.serviceDeploymentArn).toBe(arn);
      expect((await describeDeployment(arn)).status).toMatch(/^ROLLBACK_/);
      const done = await finished(arn);
      expect(done.status).toBe('ROLLBACK_SUCCESSFUL');
      expect(await version(created.url)).toBe('v1');
      const again = await ecs
        .send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ROLLBACK' }))
        .catch((e: Error) => e);
      expect((again as Error).name).toBe('ConflictException');
    } finally {
      sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 50 };
    }
  });
});

describe('StopServiceDeployment ABORT', () => {
  it('ends the deployment STOPPED with rolloutState FAILED', async () => {
    const svc = name('abort');
    await sandbox.ecs.createService({ cluster: 'prod', name: svc, image: image('v1'), desiredCount: 1 });
    sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 400 };
    try {
      const td = await revisionWith(svc, 'v2');
      await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
      const arn = await newestDeployment('prod', svc);
      await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: 'ABORT' }));
      expect((await describeDeployment(arn)).status).toBe('STOP_REQUESTED');
      const done = await finished(arn);
      expect(done.status).toBe('STOPPED');
      expect(done.stoppedAt).toBeInstanceOf(Date);
      const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [svc] }));
      expect(services![0]!.deployments!.find((d) => d.taskDefinition === td)!.rolloutState).toBe('FAILED');
    } finally {
      sandbox.ecs.timing = { ...sandbox.ecs.timing, pendingMs: 50 };
    }
  });
});

describe('blue/green', () => {
  it('shifts traffic to green, bakes, then stops blue', async () => {
    const svc = name('bg');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 2,
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 5,
    });
    const td = await revisionWith(svc, 'v2');
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    const arn = await newestDeployment('prod', svc);
    const seen = new Set<string>();
    // During the bake both revisions run and production traffic is on green.
    await untilStage(arn, 'BAKE_TIME');
    expect(await version(created.url)).toBe('v2');
    expect(sandbox.ecs.runningImages('prod', svc).sort()).toEqual(
      [digests.v1, digests.v1, digests.v2, digests.v2].sort(),
    );
    const done = await finished(arn, seen);
    expect(done.status).toBe('SUCCESSFUL');
    expect(done.deploymentConfiguration).toMatchObject({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5 });
    expect(sandbox.ecs.runningImages('prod', svc)).toEqual([digests.v2, digests.v2]);
  });

  it('an alarm going off during the bake rolls back to blue with triggeredAlarmNames', async () => {
    const svc = name('alarm');
    const created = await sandbox.ecs.createService({
      cluster: 'prod',
      name: svc,
      image: image('v1'),
      desiredCount: 2,
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 30,
      alarms: { alarmNames: [`${svc}-5xx`], enable: true, rollback: true },
    });
    const td = await revisionWith(svc, 'v2');
    await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: svc, taskDefinition: td }));
    const arn = await newestDeployment('prod', svc);
    await untilStage(arn, 'BAKE_TIME');
    sandbox.ecs.setAlarmState(`${svc}-5xx`, 'ALARM');
    try {
      const done = await finished(arn);
      expect(done.status).toBe('ROLLBACK_SUCCESSFUL');
      expect(done.alarms).toMatchObject({ status: 'TRIGGERED', triggeredAlarmNames: [`${svc}-5xx`] });
      expect(done.rollback!.reason).toContain(`${svc}-5xx`);
      expect(await version(created.url)).toBe('v1');
      expect(sandbox.ecs.runningImages('prod', svc)).toEqual([digests.v1, digests.v1]);
    } finally {
      sandbox.ecs.setAlarmState(`${svc}-5xx`, 'OK');
    }
  });
});

describe('Express Mode', () => {
  it('UpdateExpressGatewayService deploys a canary and ends serving the new image at the ingress endpoint', async () => {
    const svc = name('express');
    const created = await sandbox.ecs.createExpressService({
      name: svc,
      image: image('v1'),
      healthCheckPath: '/health',
    });
    expect(await version(created.url)).toBe('v1');
    const before = await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: created.serviceArn }));
    expect(before.service!.status!.statusCode).toBe('ACTIVE');
    expect(before.service!.activeConfigurations![0]!.ingressPaths![0]!.endpoint).toBe(new URL(created.url).host);

    const updated = await ecs.send(
      new UpdateExpressGatewayServiceCommand({
        serviceArn: created.serviceArn,
        primaryContainer: { image: image('v2'), containerPort: 8080 },
      }),
    );
    expect(updated.service!.targetConfiguration!.primaryContainer!.image).toBe(image('v2'));
    const current = (await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: created.serviceArn })))
      .service!.currentDeployment!;
    const seen = new Set<string>();
    const done = await finished(current, seen);
    expect(done.status).toBe('SUCCESSFUL');
    expect(done.deploymentConfiguration).toMatchObject({
      strategy: 'CANARY',
      canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 3 },
    });
    expect(seen).toContain('PRODUCTION_TRAFFIC_SHIFT');
    expect(await version(created.url)).toBe('v2');
    // An ECS service underneath: listed with its cluster's services and deployments.
    const listed = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'default', service: svc }));
    expect(listed.serviceDeployments![0]!.serviceDeploymentArn).toBe(current);
    const after = await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: created.serviceArn }));
    expect(after.service!.activeConfigurations!.map((c) => c.primaryContainer!.image)).toEqual([image('v2')]);
  });
});

describe('scale to zero and back (the schedule action)', () => {
  it('desired count 0 stops every task process (the URL stops answering); back to 2 starts them again', async () => {
    const svc = name('sleepy');
    const created = await sandbox.ecs.createService({ cluster: 'default', name: svc, image: image('v1') });
    expect(await version(created.url)).toBe('v1');
    await ecs.send(new UpdateServiceCommand({ service: svc, desiredCount: 0 }));
    await poll({
      what: 'no task running',
      timeoutMs: 30_000,
      minDelayMs: 20,
      maxDelayMs: 50,
      check: async () => {
        const s = (await ecs.send(new DescribeServicesCommand({ services: [svc] }))).services![0]!;
        return s.runningCount === 0 && s.pendingCount === 0 ? { done: true, value: s } : { done: false };
      },
    });
    // Each task's process is gone: the load balancer has nowhere to send the request.
    expect(sandbox.ecs.runningImages('default', svc)).toEqual([]);
    const answer = await fetch(`${created.url}/version`).then(
      (r) => r.status,
      () => 0,
    );
    expect(answer).not.toBe(200);

    await ecs.send(new UpdateServiceCommand({ service: svc, desiredCount: 2 }));
    const back = await poll({
      what: 'two tasks healthy',
      timeoutMs: 30_000,
      minDelayMs: 20,
      maxDelayMs: 50,
      check: async () => {
        const running = sandbox.ecs.runningImages('default', svc);
        return running.length === 2 ? { done: true, value: running } : { done: false };
      },
    });
    expect(back).toEqual([digests.v1, digests.v1]);
    expect(await version(created.url)).toBe('v1');
  });

  it('tags a service as AWS does: aws: keys refused, at most 50, untag of a missing key is fine', async () => {
    const svc = name('tagged');
    const { serviceArn } = await sandbox.ecs.createService({
      cluster: 'default',
      name: svc,
      image: image('v1'),
      desiredCount: 1,
    });
    await ecs.send(
      new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: 'aws-deploy-kit:paused-desired', value: '1' }] }),
    );
    await expect(
      ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: 'aws:created-by', value: 'me' }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const many = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await expect(ecs.send(new TagResourceCommand({ resourceArn: serviceArn, tags: many }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await ecs.send(
      new UntagResourceCommand({ resourceArn: serviceArn, tagKeys: ['aws-deploy-kit:paused-desired', 'never-set'] }),
    );
    const described = await ecs.send(new DescribeServicesCommand({ services: [svc], include: ['TAGS'] }));
    expect(described.services![0]!.tags).toEqual([]);
  });
});

describe('errors as AWS answers them', () => {
  it('names the missing cluster, service and task definition; refuses inactive services and CODE_DEPLOY updates', async () => {
    const svc = name('err');
    await sandbox.ecs.createService({ cluster: 'errors', name: svc, image: image('v1'), desiredCount: 1 });
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'succeeded',
        (e: Error) => e.name,
      );
    expect(await code(ecs.send(new DescribeServicesCommand({ cluster: 'nowhere', services: [svc] })))).toBe(
      'ClusterNotFoundException',
    );
    const missing = await ecs.send(new DescribeServicesCommand({ cluster: 'errors', services: [svc, 'ghost'] }));
    expect(missing.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:123456789012:service/errors/ghost', reason: 'MISSING' },
    ]);
    expect(
      await code(ecs.send(new UpdateServiceCommand({ cluster: 'errors', service: 'ghost', desiredCount: 1 }))),
    ).toBe('ServiceNotFoundException');
    expect(
      await code(ecs.send(new UpdateServiceCommand({ cluster: 'errors', service: svc, taskDefinition: 'nope:9' }))),
    ).toBe('ClientException');
    expect(await code(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope' })))).toBe('ClientException');
    expect(await code(ecs.send(new RegisterTaskDefinitionCommand({ family: 'empty', containerDefinitions: [] })))).toBe(
      'ClientException',
    );
    expect(
      await code(
        ecs.send(new RegisterTaskDefinitionCommand({ family: 'noimage', containerDefinitions: [{ name: 'web' }] })),
      ),
    ).toBe('ClientException');

    const cd = name('codedeploy');
    await sandbox.ecs.createService({
      cluster: 'errors',
      name: cd,
      image: image('v1'),
      desiredCount: 1,
      controller: 'CODE_DEPLOY',
    });
    const refused = await ecs
      .send(new UpdateServiceCommand({ cluster: 'errors', service: cd, taskDefinition: `${cd}:1` }))
      .catch((e: Error) => e);
    expect((refused as Error).name).toBe('InvalidParameterException');
    expect((refused as Error).message).toBe(
      'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.',
    );

    sandbox.ecs.setServiceStatus('errors', svc, 'DRAINING');
    expect(
      await code(ecs.send(new UpdateServiceCommand({ cluster: 'errors', service: svc, forceNewDeployment: true }))),
    ).toBe('ServiceNotActiveException');
    expect(
      await code(
        ecs.send(
          new DescribeExpressGatewayServiceCommand({
            serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/errors/${svc}`,
          }),
        ),
      ),
    ).toBe('ResourceNotFoundException');
  });

  it('set-up through the wire: CreateService, DescribeClusters, DeleteService', async () => {
    const svc = name('wire');
    const td = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: svc,
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'web', image: image('v1'), portMappings: [{ containerPort: 8080 }] }],
      }),
    );
    expect(td.taskDefinition).toMatchObject({ revision: 1, status: 'ACTIVE', compatibilities: ['EC2', 'FARGATE'] });
    await sandbox.ecs.createService({ cluster: 'wire', name: `${svc}-seed`, image: image('v1'), desiredCount: 1 });
    const created = await ecs.send(
      new CreateServiceCommand({
        cluster: 'wire',
        serviceName: svc,
        taskDefinition: svc,
        desiredCount: 1,
        launchType: 'FARGATE',
      }),
    );
    expect(created.service!.status).toBe('ACTIVE');
    await sandbox.ecs.settle();
    const clusters = await ecs.send(new DescribeClustersCommand({ clusters: ['wire', 'nowhere'] }));
    expect(clusters.clusters![0]!.activeServicesCount).toBe(2);
    expect(clusters.failures![0]!.reason).toBe('MISSING');
    await ecs.send(new UpdateServiceCommand({ cluster: 'wire', service: svc, desiredCount: 0 }));
    const deleted = await ecs.send(new DeleteServiceCommand({ cluster: 'wire', service: svc }));
    expect(deleted.service!.status).toBe('DRAINING');
  });

  it('rateLimit throttles ECS calls above the rate with ThrottlingException', async () => {
    sandbox.aws.faults.rateLimit({ service: 'ecs', perSecond: 5 });
    const once = new ECSClient({ maxAttempts: 1 });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        once.send(new DescribeClustersCommand({ clusters: ['prod'] })).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      ),
    );
    once.destroy();
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'ThrottlingException')).toHaveLength(15);
  });
});
