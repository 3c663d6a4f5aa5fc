import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute } from '../../src/actions/deploy-ecs/execute';
import type { DeployEcsInputs } from '../../src/actions/deploy-ecs/inputs';
import { run } from '../../src/actions/deploy-ecs/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { systemClock } from '../../src/core/clock';
import { ConfigurationError, DeployError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { type DeployRecord, newRecord, recordOperation } from '../../src/core/record';
import type { RollbackRequest, Target, TargetDeployResult } from '../../src/targets/target';

// deploy-ecs's flow over the Target seam, with a fake target: deploy → verify → roll back → outputs and summary. The
// ECS calls themselves are the target's (and its own tests').

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const NEW = `${REGISTRY}/web@sha256:${'b'.repeat(64)}`;
const OLD = `${REGISTRY}/web@sha256:${'a'.repeat(64)}`;
const SERVICE = 'arn:aws:ecs:us-east-1:123456789012:service/prod/web';
const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web';
const DEPLOYMENT = 'arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc';

/** What the fake service serves: healthy unless `unhealthy`; /version the running commit. */
let unhealthy = false;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = unhealthy ? 503 : 200;
    res.end(req.url === '/version' ? SHA : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  unhealthy = false;
});

interface FakeTarget extends Target {
  rollbacks: RollbackRequest[];
  settled: number;
}

function fakeTarget(
  result: Partial<TargetDeployResult> = {},
  options: { defaultHealthPath?: string } = {},
): FakeTarget {
  const target: FakeTarget = {
    kind: 'ecs',
    operationKind: 'ecs-service-deployment',
    resource: 'ECS service',
    label: 'ECS service web (cluster prod)',
    ...(options.defaultHealthPath ? { defaultHealthPath: options.defaultHealthPath } : {}),
    identity: { cluster: 'prod', 'ecs-service': 'web' },
    rollbacks: [],
    settled: 0,
    current: async () => ({ running: { reference: OLD }, id: SERVICE, name: 'web', label: 'ECS service web' }),
    deploy: async (_image, record) => {
      record.target = { kind: 'ecs', id: SERVICE, resource: 'ECS service' };
      record.previous = { image: OLD, digest: OLD.split('@')[1]! };
      recordOperation(record, 'ecs-service-deployment', DEPLOYMENT, 'SUCCESSFUL');
      return {
        previous: { image: OLD, digest: OLD.split('@')[1]! },
        needsRollback: false,
        outputs: {
          'task-definition-arn': `${TD}:8`,
          'previous-task-definition-arn': `${TD}:7`,
          'service-deployment-arn': DEPLOYMENT,
          status: 'SUCCESSFUL',
        },
        ...result,
      };
    },
    rollback: async (request) => {
      target.rollbacks.push(request);
      unhealthy = false;
      request.record.outcome = 'rolled-back';
      return undefined;
    },
    settleCancelled: async () => {
      target.settled++;
      return { runsNow: ['ECS service web runs task definition web:7.'] };
    },
    planDeploy: async () => ({ line: 'update web' }),
  };
  return target;
}

function deps(outputs: Record<string, string>, signal = new AbortController().signal) {
  const summaries: string[] = [];
  const state: Record<string, string> = {};
  const d: ActionDeps = {
    getInput: () => '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger: captureLogger(),
    env: {},
    clock: systemClock,
    signal,
    writeSummary: async (markdown) => {
      summaries.push(markdown);
    },
    saveState: (name, value) => {
      state[name] = value;
    },
    getState: (name) => state[name] ?? '',
  };
  return { deps: d, summaries, state };
}

function inputs(overrides: Partial<DeployEcsInputs> = {}): DeployEcsInputs {
  return {
    target: { kind: 'ecs', cluster: 'prod', service: 'web', onBusy: 'wait', cancelOnAbort: true },
    image: { uri: NEW, digest: NEW.split('@')[1]!, repository: 'web' },
    region: 'us-east-1',
    timeoutMs: 60_000,
    bake: { alarms: { names: [], prefixes: [] }, bakeSeconds: 0 },
    healthUrl: `${base}/health`,
    expectedVersion: { kind: 'sha' },
    expectedStatus: 200,
    healthTimeoutMs: 400,
    healthIntervalMs: 50,
    consecutiveSuccesses: 2,
    rollbackOnFailure: true,
    maskAwsAccountId: false,
    onPaused: 'fail',
    record: newRecord(SHA),
    ...overrides,
  };
}

async function step(target: FakeTarget, given: DeployEcsInputs, signal?: AbortSignal) {
  const outputs: Record<string, string> = {};
  const { deps: d, summaries, state } = deps(outputs, signal);
  let error: unknown;
  try {
    await execute(d, given, { target, ecr: {} as never });
  } catch (e) {
    error = e;
  }
  const record = outputs.record ? (JSON.parse(outputs.record) as DeployRecord) : undefined;
  return { outputs, summaries, state, record, error };
}

describe('deploy-ecs step', () => {
  it('deploys, verifies the commit at /version, and writes the ECS outputs and summary', async () => {
    const target = fakeTarget();
    const { outputs, summaries, state, record, error } = await step(target, inputs());
    expect(error).toBeUndefined();
    expect(outputs).toMatchObject({
      'task-definition-arn': `${TD}:8`,
      'previous-task-definition-arn': `${TD}:7`,
      'service-deployment-arn': DEPLOYMENT,
      status: 'SUCCESSFUL',
      'service-url': '',
      'previous-image': OLD,
      outcome: 'succeeded',
    });
    expect(record?.outcome).toBe('succeeded');
    expect(record?.image).toMatchObject({ uri: NEW, repository: 'web' });
    expect(record?.health).toMatchObject({ healthy: true });
    expect(record?.phases.map((p) => [p.name, p.status])).toEqual([['verify', 'succeeded']]);
    expect(target.rollbacks).toHaveLength(0);
    expect(state['target-kind']).toBe('ecs');
    expect(summaries[0]).toContain('ECS deploy: succeeded');
    expect(summaries[0]).toContain(`${TD}:8`);
    expect(summaries[0]).toContain(`${DEPLOYMENT} SUCCESSFUL`);
  });

  it('rolls back to the previous image when the verification fails, and fails the step saying so', async () => {
    unhealthy = true;
    const target = fakeTarget();
    const { outputs, record, error } = await step(target, inputs());
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(/did not succeed \(rolled back to .*sha256:a{64}\)/);
    expect(target.rollbacks).toHaveLength(1);
    expect(target.rollbacks[0]).toMatchObject({
      image: { uri: OLD, digest: OLD.split('@')[1], repository: 'web' },
      verify: { url: `${base}/health`, expectedStatus: 200 },
    });
    expect(target.rollbacks[0]?.undoing?.outputs['task-definition-arn']).toBe(`${TD}:8`);
    expect(outputs.outcome).toBe('rolled-back');
    // The failed check stays in the record: that is what failed.
    expect(record?.health?.healthy).toBe(false);
  });

  it('leaves the service as it is with rollback-on-failure false', async () => {
    unhealthy = true;
    const target = fakeTarget();
    const { outputs, error } = await step(target, inputs({ rollbackOnFailure: false }));
    expect(error).toBeInstanceOf(DeployError);
    expect(target.rollbacks).toHaveLength(0);
    expect(outputs.outcome).toBe('failed');
  });

  it('does not roll back a deploy ECS rolled back itself, and rolls back one that left a mix (needsRollback)', async () => {
    const failure = new DeployError('The circuit breaker stopped the deployment: 3 tasks failed to start.');
    const own = fakeTarget({ failure });
    const { error } = await step(own, inputs());
    expect((error as Error).message).toContain('circuit breaker');
    expect(own.rollbacks).toHaveLength(0);

    const mixed = fakeTarget({ failure, needsRollback: true });
    const second = await step(mixed, inputs());
    expect(mixed.rollbacks).toHaveLength(1);
    expect(mixed.rollbacks[0]?.reason).toContain('the deploy failed');
    expect(second.outputs.outcome).toBe('rolled-back');
  });

  it('checks an Express service at its own URL with the default health path', async () => {
    const target = fakeTarget({ serviceUrl: base }, { defaultHealthPath: '/health' });
    const given = inputs({
      target: { kind: 'ecs-express', serviceArn: SERVICE, onBusy: 'wait', cancelOnAbort: true },
    });
    delete given.healthUrl;
    const { outputs, record, error } = await step(target, given);
    expect(error).toBeUndefined();
    expect(outputs['service-url']).toBe(base);
    expect(record?.health?.url).toBe(`${base}/health`);
  });

  it('settles a cancelled job through the target, and starts no rollback', async () => {
    const controller = new AbortController();
    const target = fakeTarget();
    const deploy = target.deploy;
    target.deploy = async (image, record, timeoutMs) => {
      const result = await deploy(image, record, timeoutMs);
      controller.abort();
      return { ...result, failure: new DeployError('The job was cancelled (SIGINT).'), cancelled: true };
    };
    const { outputs, summaries, record } = await step(target, inputs(), controller.signal);
    expect(target.settled).toBe(1);
    expect(target.rollbacks).toHaveLength(0);
    expect(outputs.outcome).toBe('cancelled');
    expect(record?.cancellation?.runsNow).toEqual(['ECS service web runs task definition web:7.']);
    expect(summaries[0]).toContain('cancelled');
  });

  it('run() refuses a bad input before loading any ECS code', async () => {
    const outputs: Record<string, string> = {};
    const { deps: d } = deps(outputs);
    const given: Record<string, string> = { 'ecs-service': 'web', image: `${REGISTRY}/web:latest` };
    await expect(
      run({ ...d, getInput: (name) => given[name] ?? '', env: { AWS_REGION: 'us-east-1', GITHUB_SHA: SHA } }),
    ).rejects.toBeInstanceOf(ConfigurationError);
    expect(outputs).toEqual({});
  });
});
