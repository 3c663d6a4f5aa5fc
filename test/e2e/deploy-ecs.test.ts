import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { CreateEcsServiceOptions } from '../../sandbox/emulator/ecs/index';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type BundleRun, RUNNER_CANCEL, runBundle } from '../../sandbox/run-bundle';
import { pushSampleVersions } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';
import { parseRecord } from '../../src/core/record';

// The shipped deploy-ecs bundle against the sandbox's ECS, whose tasks really run the pushed images behind a load
// balancer: every claim is checked at /version through it.
jest.setTimeout(240_000);

/** c1 and c2 serve their commit at /version; c3 is broken (its /health answers 500). */
const commits = { c1: 'e1'.repeat(20), c2: 'e2'.repeat(20), c3: 'e3'.repeat(20) };
type Commit = keyof typeof commits;
const digests = {} as Record<Commit, string>;

let sandbox: Sandbox;
let ecs: ECSClient;
let counter = 0;

const uri = (c: Commit) => `${sandbox.registry.host}/app@${digests[c]}`;

beforeAll(async () => {
  sandbox = await startSandbox();
  Object.assign(process.env, sandbox.aws.clientEnv());
  ecs = new ECSClient({});
  sandbox.ecr.createRepository('app');
  Object.assign(
    digests,
    await pushSampleVersions(sandbox, 'app', {
      c1: { sha: commits.c1 },
      c2: { sha: commits.c2 },
      c3: { sha: commits.c3, buildArgs: ['HEALTH=fail'] },
    }),
  );
}, 300_000);

afterAll(async () => {
  ecs?.destroy();
  await sandbox?.stop();
});

afterEach(async () => {
  sandbox.aws.faults.clear();
  await sandbox.ecs.settle();
});

interface Service {
  name: string;
  url: string;
  serviceArn: string;
  taskDefinitionArn: string;
}

/** A 3-task service on c1 behind its load balancer, in cluster `prod`. */
async function serviceOnC1(options: Partial<CreateEcsServiceOptions> = {}): Promise<Service> {
  const name = `web-${++counter}`;
  const created = await sandbox.ecs.createService({
    cluster: 'prod',
    name,
    image: uri('c1'),
    containerName: 'web',
    desiredCount: 3,
    healthCheckPath: '/health',
    circuitBreaker: { enable: true, rollback: true },
    ...options,
  });
  return { name, url: created.url, serviceArn: created.serviceArn, taskDefinitionArn: created.taskDefinitionArn };
}

function deployEcs(
  service: Service,
  c: Commit,
  inputs: Record<string, string> = {},
  options: Partial<Parameters<typeof runBundle>[1]> = {},
): Promise<BundleRun> {
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
      ...inputs,
    },
    env: { ...sandbox.env(), GITHUB_SHA: commits[c] },
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
    ...options,
  });
}

/** What `requests` requests through the service's load balancer answered at /version. */
async function served(service: Service, requests = 9): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < requests; i++) {
    const res = await fetch(`${service.url}/version`);
    seen.add(`${res.status} ${(await res.text()).trim()}`);
  }
  return seen;
}

async function describeService(service: Service) {
  const out = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: [service.name] }));
  return out.services![0]!;
}

async function deployments(service: Service) {
  const out = await ecs.send(new ListServiceDeploymentsCommand({ cluster: 'prod', service: service.name }));
  return out.serviceDeployments ?? [];
}

/** Starts a deployment of `c` directly, as another job would, and waits until ECS has it in progress. */
async function otherJobDeploys(service: Service, c: Commit): Promise<string> {
  const { taskDefinition } = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinitionArn }),
  );
  const {
    taskDefinitionArn: _arn,
    revision: _r,
    status: _s,
    requiresAttributes: _ra,
    compatibilities: _c,
    registeredAt: _at,
    registeredBy: _by,
    ...rest
  } = taskDefinition!;
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      ...(rest as RegisterTaskDefinitionCommandInput),
      containerDefinitions: taskDefinition!.containerDefinitions!.map((d) =>
        d.name === 'web' ? { ...d, image: uri(c) } : d,
      ),
    }),
  );
  await ecs.send(
    new UpdateServiceCommand({
      cluster: 'prod',
      service: service.name,
      taskDefinition: registered.taskDefinition!.taskDefinitionArn,
    }),
  );
  return poll({
    what: 'the other job’s deployment',
    timeoutMs: 20_000,
    minDelayMs: 50,
    maxDelayMs: 100,
    check: async () => {
      const running = (await deployments(service)).find((d) => d.status === 'IN_PROGRESS');
      return running ? { done: true, value: running.serviceDeploymentArn! } : { done: false };
    },
  });
}

async function statusOf(arn: string): Promise<string | undefined> {
  const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
  return out.serviceDeployments?.[0]?.status;
}

describe('deploy-ecs against the sandbox', () => {
  it('deploys a new revision by digest and follows its service deployment; every task serves the new commit', async () => {
    const service = await serviceOnC1();
    const run = await deployEcs(service, 'c2');
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.outcome).toBe('succeeded');
    expect(run.outputs['previous-task-definition-arn']).toBe(service.taskDefinitionArn);
    expect(run.outputs['task-definition-arn']).toMatch(new RegExp(`task-definition/${service.name}:2$`));
    expect(run.outputs.status).toBe('SUCCESSFUL');
    expect(run.outputs['service-deployment-arn']).toMatch(/:service-deployment\/prod\//);
    expect(run.outputs['previous-image']).toBe(uri('c1'));
    // Our own deployment, followed by its ARN.
    expect(run.log).toContain(
      `the deployment of ECS service ${service.name} (cluster prod): PENDING (${run.outputs['service-deployment-arn']})`,
    );
    expect(await served(service)).toEqual(new Set([`200 ${commits.c2}`]));
    expect((await describeService(service)).taskDefinition).toBe(run.outputs['task-definition-arn']);
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record.target).toMatchObject({ kind: 'ecs', id: service.serviceArn, cluster: 'prod' });
    expect(record.previous).toMatchObject({
      image: uri('c1'),
      digest: digests.c1,
      revision: service.taskDefinitionArn,
    });
    expect(record.operations).toContainEqual({
      kind: 'service-deployment',
      id: run.outputs['service-deployment-arn'],
      status: 'SUCCESSFUL',
    });
  });

  it("a broken revision trips ECS's circuit breaker: ECS rolls back, the step fails and says why", async () => {
    const service = await serviceOnC1();
    const run = await deployEcs(service, 'c3');
    expect(run.exitCode).toBe(1);
    expect(run.outputs.outcome).toBe('rolled-back');
    expect(run.outputs.status).toBe('ROLLBACK_SUCCESSFUL');
    expect(run.errors.join('\n')).toMatch(/circuit breaker tripped/);
    expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));
  });

  it('an alarm going into ALARM during the deployment makes ECS roll back, and the step names the alarm', async () => {
    const alarm = `web-5xx-${counter + 1}`;
    const service = await serviceOnC1({
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 30,
      alarms: { alarmNames: [alarm], enable: true, rollback: true },
    });
    const running = deployEcs(service, 'c2');
    try {
      await poll({
        what: 'the bake',
        timeoutMs: 60_000,
        minDelayMs: 50,
        maxDelayMs: 100,
        check: async () => {
          const deployment = (await deployments(service)).find((d) => d.status === 'IN_PROGRESS');
          if (!deployment) return { done: false };
          const out = await ecs.send(
            new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [deployment.serviceDeploymentArn!] }),
          );
          return out.serviceDeployments?.[0]?.lifecycleStage === 'BAKE_TIME'
            ? { done: true, value: 0 }
            : { done: false };
        },
      });
      sandbox.ecs.setAlarmState(alarm, 'ALARM');
      const run = await running;
      expect(run.exitCode).toBe(1);
      expect(run.outputs.outcome).toBe('rolled-back');
      expect(run.errors.join('\n')).toContain(`alarm ${alarm} went into ALARM`);
      expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));
    } finally {
      sandbox.ecs.setAlarmState(alarm, 'OK');
      await running.catch(() => undefined);
    }
  });

  it('our verification failing (wrong version) rolls back to the previous task definition revision', async () => {
    const service = await serviceOnC1();
    // A short verification window: the version never appears, so waiting longer only slows the suite.
    const run = await deployEcs(service, 'c2', {
      'expected-version': 'a-version-nobody-serves',
      'health-timeout-minutes': '0.1',
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.outcome).toBe('rolled-back');
    // Back on the very revision that ran before, not a rebuilt one.
    expect((await describeService(service)).taskDefinition).toBe(service.taskDefinitionArn);
    expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));
    expect(run.log).toContain(`goes back to ${service.name}:1`);
  });

  it('on-busy fail refuses before changing anything; wait deploys after the other deployment; stop rolls it back', async () => {
    const service = await serviceOnC1({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 });
    await otherJobDeploys(service, 'c1');
    const failed = await deployEcs(service, 'c2', { 'on-busy': 'fail' });
    expect(failed.exitCode).toBe(1);
    expect(failed.errors.join('\n')).toMatch(/has a deployment in progress .*on-busy is fail, so nothing was changed/);
    expect(failed.outputs['task-definition-arn'] ?? '').toBe('');

    const waited = await deployEcs(service, 'c2', { 'on-busy': 'wait' });
    expect(waited.exitCode).toBe(0);
    expect(waited.log).toContain('waiting for it to end (on-busy wait)');
    expect(await served(service)).toEqual(new Set([`200 ${commits.c2}`]));

    const other = await otherJobDeploys(service, 'c1');
    const stopped = await deployEcs(service, 'c2', { 'on-busy': 'stop' });
    expect(stopped.exitCode).toBe(0);
    expect(stopped.warnings.join('\n')).toContain(`rolling back the deployment in progress ${other}`);
    expect(await statusOf(other)).toBe('ROLLBACK_SUCCESSFUL');
    expect(await served(service)).toEqual(new Set([`200 ${commits.c2}`]));
  });

  it('a cancelled job stops its deployment with ROLLBACK; the post step then finds nothing left to do', async () => {
    const service = await serviceOnC1({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 30 });
    const run = await deployEcs(service, 'c2', {}, { signals: RUNNER_CANCEL, signalsWhen: /UpdateService:/ });
    expect(run.outputs.outcome).toBe('cancelled');
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record.cancellation?.runsNow.join(' ')).toMatch(/stopped with ROLLBACK/);
    const arn = record.operations.find((op) => op.kind === 'service-deployment')?.id;
    expect(arn).toBeDefined();
    await sandbox.ecs.settle();
    expect(await statusOf(arn!)).toBe('ROLLBACK_SUCCESSFUL');
    expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));
    const post = await runBundle('deploy-ecs-post', { env: sandbox.env(), state: run.state });
    expect(post.exitCode).toBe(0);
    expect(post.warnings).toEqual([]);
  });

  it('a main step killed outright leaves its deployment to the post step, which stops it with ROLLBACK', async () => {
    const service = await serviceOnC1({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 30 });
    const run = await deployEcs(
      service,
      'c2',
      {},
      { signals: [{ signal: 'SIGKILL', afterMs: 0 }], signalsWhen: /IN_PROGRESS/ },
    );
    expect(run.killedBy).toBe('SIGKILL');
    const arn = run.state['ecs-deployment-arn'];
    expect(arn).toMatch(/service-deployment/);
    expect(await statusOf(arn!)).toBe('IN_PROGRESS');
    const post = await runBundle('deploy-ecs-post', { env: sandbox.env(), state: run.state });
    expect(post.exitCode).toBe(0);
    expect(post.warnings.join('\n')).toMatch(/stopped with ROLLBACK/);
    await sandbox.ecs.settle();
    expect(await statusOf(arn!)).toBe('ROLLBACK_SUCCESSFUL');
    expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));
  });

  it('refuses a service on the CODE_DEPLOY controller with the reason, registering nothing', async () => {
    const service = await serviceOnC1({ controller: 'CODE_DEPLOY' });
    const run = await deployEcs(service, 'c2');
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(/CODE_DEPLOY deployment controller.*Nothing was changed/);
    expect(sandbox.aws.callsOf('RegisterTaskDefinition', 'ecs').some((c) => c.params.family === service.name)).toBe(
      false,
    );
  });

  it('deploys through a throttling storm: the account answers 5 requests a second and the deploy still succeeds', async () => {
    const service = await serviceOnC1();
    sandbox.aws.faults.rateLimit({ service: 'ecs', perSecond: 5 });
    const runs = await Promise.all([deployEcs(service, 'c2'), deployEcs(await serviceOnC1(), 'c2')]);
    for (const run of runs) {
      expect(run.errors).toEqual([]);
      expect(run.outputs.outcome).toBe('succeeded');
    }
    expect(sandbox.aws.calls.some((c) => c.service === 'ecs' && c.response?.body.includes('ThrottlingException'))).toBe(
      true,
    );
  });
});

describe('deploy-ecs to ECS Express Mode against the sandbox', () => {
  it('updates the primary container to the digest, follows the deployment and checks the Express URL', async () => {
    const express = await sandbox.ecs.createExpressService({
      cluster: 'prod',
      name: `api-${++counter}`,
      image: uri('c1'),
      healthCheckPath: '/health',
    });
    const run = await runBundle('deploy-ecs', {
      inputs: {
        'express-service-arn': express.serviceArn,
        image: uri('c2'),
        region: 'us-east-1',
        'expected-version': 'sha',
        'health-interval-seconds': '0.2',
        'health-timeout-minutes': '0.5',
      },
      env: { ...sandbox.env(), GITHUB_SHA: commits.c2 },
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.outcome).toBe('succeeded');
    expect(run.outputs['service-url']).toBe(express.url);
    const version = await (await fetch(`${express.url}/version`)).text();
    expect(version.trim()).toBe(commits.c2);
  });

  it('a broken image is rolled back and the previous image serves again', async () => {
    const express = await sandbox.ecs.createExpressService({
      cluster: 'prod',
      name: `api-${++counter}`,
      image: uri('c1'),
      healthCheckPath: '/health',
    });
    const run = await runBundle('deploy-ecs', {
      inputs: {
        'express-service-arn': express.serviceArn,
        image: uri('c3'),
        region: 'us-east-1',
        'health-interval-seconds': '0.2',
        'health-timeout-minutes': '0.3',
      },
      env: { ...sandbox.env(), GITHUB_SHA: commits.c3 },
    });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.outcome).toBe('rolled-back');
    const version = await (await fetch(`${express.url}/version`)).text();
    expect(version.trim()).toBe(commits.c1);
  });
});

describe('the rollback action on an ECS service against the sandbox', () => {
  /** The ECR pointers of `env` as a verified deploy history would leave them. */
  async function pointers(env: string, current: Commit, previous: Commit): Promise<void> {
    const put = async (c: Commit, tag: string) => {
      const manifest = await sandbox.registry.client.manifest('app', `sha-${commits[c]}`);
      await sandbox.registry.client.putManifest('app', tag, manifest!.mediaType, manifest!.bytes);
    };
    await put(previous, `previous-${env}`);
    await put(current, `deployed-${env}`);
  }

  function rollback(service: Service, env: string, inputs: Record<string, string> = {}): Promise<BundleRun> {
    return runBundle('rollback', {
      inputs: {
        target: 'ecs',
        cluster: 'prod',
        'ecs-service': service.name,
        environment: env,
        repository: 'app',
        region: 'us-east-1',
        // The rollback action checks expected-version at health-url itself.
        'health-url': `${service.url}/version`,
        'expected-version': 'sha',
        'health-interval-seconds': '0.2',
        'health-timeout-minutes': '0.5',
        ...inputs,
      },
      env: sandbox.env(),
      secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password],
    });
  }

  it('goes back to the previous verified image (ECR pointer), by digest, and then to a named SHA', async () => {
    const env = `ecs-rb-${++counter}`;
    const service = await serviceOnC1({ image: uri('c2') });
    await pointers(env, 'c2', 'c1');
    const back = await rollback(service, env);
    expect(back.errors).toEqual([]);
    expect(back.exitCode).toBe(0);
    expect(back.outputs.sha).toBe(commits.c1);
    expect(back.outputs.image).toContain(digests.c1);
    expect(await served(service)).toEqual(new Set([`200 ${commits.c1}`]));

    const named = await rollback(service, env, { 'to-sha': commits.c2 });
    expect(named.exitCode).toBe(0);
    expect(named.outputs.sha).toBe(commits.c2);
    expect(await served(service)).toEqual(new Set([`200 ${commits.c2}`]));
  });
});
