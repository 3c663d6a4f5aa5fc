import { AppRunnerClient, ListOperationsCommand } from '@aws-sdk/client-apprunner';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  type ECRClientConfig,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { isThrottlingError } from '@smithy/core/retry';
import type { FaultSpec } from '../../sandbox/emulator/faults';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { clientSettings } from '../../src/aws/clients';
import { isTransientError } from '../../src/core/poller';

// The emulator's fault injection, seen through the real SDK: what the SDK's own retry machinery does with a bad day
// at AWS. No image is pushed here, so no engine is started.

let sandbox: Sandbox;
const clients: ECRClient[] = [];

/** A fresh client per test, so one test's retry quota or rate limiter state cannot leak into the next. */
function ecr(config: ECRClientConfig = {}): ECRClient {
  Object.assign(process.env, sandbox.aws.clientEnv());
  const client = new ECRClient({ retryMode: 'standard', maxAttempts: 3, ...config });
  clients.push(client);
  return client;
}

const token = () => new GetAuthorizationTokenCommand({});
const calls = (operation: string) => sandbox.aws.callsOf(operation, 'ecr').length;

beforeAll(async () => {
  sandbox = await startSandbox({ engine: false });
  sandbox.ecr.createRepository('web');
}, 60_000);

beforeEach(() => {
  sandbox.aws.faults.clear();
  sandbox.aws.calls.length = 0;
});

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('the SDK retries transient faults and succeeds', () => {
  it.each<[string, FaultSpec]>([
    ['a throttle (400 ThrottlingException, as ECR answers)', { kind: 'throttle' }],
    ['a 429 throttle', { kind: 'throttle', status: 429 }],
    ['a 500', { kind: 'server-error' }],
    ['a 503', { kind: 'server-error', status: 503 }],
    ['a connection reset', { kind: 'reset' }],
  ])('after %s', async (_what, fault) => {
    sandbox.aws.faults.add({ ...fault, operation: 'GetAuthorizationToken', times: 2 });
    const result = await ecr().send(token());
    expect(result.authorizationData?.[0]?.authorizationToken).toBeDefined();
    expect(result.$metadata.attempts).toBe(3);
    expect(calls('GetAuthorizationToken')).toBe(3);
  });

  it('with the toolkit’s own client settings (adaptive retry mode)', async () => {
    sandbox.aws.faults.add({ kind: 'throttle', operation: 'DescribeRepositories' });
    sandbox.aws.faults.add({ kind: 'server-error', status: 503, operation: 'DescribeRepositories' });
    const client = new ECRClient(clientSettings('us-east-1', {}));
    clients.push(client);
    const { repositories } = await client.send(new DescribeRepositoriesCommand({}));
    expect(repositories?.map((r) => r.repositoryName)).toEqual(['web']);
    expect(calls('DescribeRepositories')).toBe(3);
  });

  it('and the fault is used up: the next call is answered at once', async () => {
    sandbox.aws.faults.add({ kind: 'server-error', operation: 'GetAuthorizationToken', times: 1 });
    const client = ecr();
    await client.send(token());
    const second = await client.send(token());
    expect(second.$metadata.attempts).toBe(1);
    expect(calls('GetAuthorizationToken')).toBe(3);
  });
});

describe('the SDK gives up after maxAttempts', () => {
  it('surfaces ThrottlingException when every attempt is throttled', async () => {
    sandbox.aws.faults.add({ kind: 'throttle', operation: 'GetAuthorizationToken', times: 5 });
    await expect(ecr({ maxAttempts: 3 }).send(token())).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, attempts: 3 },
    });
    expect(calls('GetAuthorizationToken')).toBe(3);
  });

  it('surfaces the 5xx when every attempt fails on the server', async () => {
    sandbox.aws.faults.add({ kind: 'server-error', status: 503, times: Number.POSITIVE_INFINITY });
    await expect(ecr({ maxAttempts: 2 }).send(token())).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
    });
    expect(calls('GetAuthorizationToken')).toBe(2);
  });

  it('surfaces a network error when every connection is reset', async () => {
    sandbox.aws.faults.add({ kind: 'reset', times: Number.POSITIVE_INFINITY });
    await expect(ecr({ maxAttempts: 2 }).send(token())).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(calls('GetAuthorizationToken')).toBe(2);
  });
});

describe('throttling as each service answers it', () => {
  const post = (headers: Record<string, string>, body: string) =>
    fetch(sandbox.aws.endpoint, { method: 'POST', headers, body });

  it('JSON services (ECR, App Runner) answer 400 ThrottlingException in the JSON error format', async () => {
    sandbox.aws.faults.add({ kind: 'throttle', times: 2 });
    for (const [target, contentType] of [
      ['AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken', 'application/x-amz-json-1.1'],
      ['AppRunner.ListOperations', 'application/x-amz-json-1.0'],
    ] as const) {
      const res = await post({ 'x-amz-target': target, 'content-type': contentType }, '{}');
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
      expect(await res.json()).toMatchObject({ __type: 'ThrottlingException', message: 'Rate exceeded' });
    }
  });

  it('query services (Auto Scaling, ELBv2) answer 400 Throttling in the query XML error format', async () => {
    sandbox.aws.faults.add({ kind: 'throttle', times: 2 });
    for (const version of ['2011-01-01', '2015-12-01']) {
      const action = version === '2011-01-01' ? 'DescribeAutoScalingGroups' : 'DescribeTargetGroups';
      const res = await post(
        { 'content-type': 'application/x-www-form-urlencoded' },
        `Action=${action}&Version=${version}`,
      );
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(
        /^<ErrorResponse><Error><Type>Sender<\/Type><Code>Throttling<\/Code><Message>Rate exceeded<\/Message><\/Error>/,
      );
    }
  });

  it.each([
    ['ECR', 'ecr', 'GetAuthorizationToken', 'ThrottlingException'],
    ['App Runner', 'apprunner', 'ListOperations', 'ThrottlingException'],
    ['Auto Scaling', 'autoscaling', 'DescribeAutoScalingGroups', 'Throttling'],
    ['ELBv2', 'elbv2', 'DescribeTargetGroups', 'Throttling'],
  ])(
    'the %s SDK client classifies it as throttling and retries it, and the poller waits it out',
    async (_name, service, operation, code) => {
      Object.assign(process.env, sandbox.aws.clientEnv());
      const settings = { retryMode: 'standard', maxAttempts: 2 };
      const send = (): Promise<unknown> => {
        if (service === 'ecr') return ecr(settings).send(token());
        const arn = 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef';
        const client =
          service === 'apprunner'
            ? new AppRunnerClient(settings)
            : service === 'autoscaling'
              ? new AutoScalingClient(settings)
              : new ElasticLoadBalancingV2Client(settings);
        clients.push(client as never);
        const command =
          service === 'apprunner'
            ? new ListOperationsCommand({ ServiceArn: arn })
            : service === 'autoscaling'
              ? new DescribeAutoScalingGroupsCommand({})
              : new DescribeTargetGroupsCommand({});
        return (client.send as (c: unknown) => Promise<unknown>)(command);
      };
      sandbox.aws.faults.add({ kind: 'throttle', service, operation, times: 2 });
      const error = await send().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 400, attempts: 2 } });
      expect((error as { Code?: string; name: string }).Code ?? (error as Error).name).toBe(code);
      expect(isThrottlingError(error as never)).toBe(true);
      // And the toolkit's poller rides it out (widens its delay) instead of failing the wait.
      expect(isTransientError(error)).toBe(true);
      expect(sandbox.aws.callsOf(operation, service)).toHaveLength(2);
    },
  );
});

describe('an expired token', () => {
  it('surfaces ExpiredTokenException without a retry', async () => {
    sandbox.aws.faults.add({ kind: 'expired-token', operation: 'DescribeImages' });
    await expect(ecr().send(new DescribeImagesCommand({ repositoryName: 'web' }))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(calls('DescribeImages')).toBe(1);
  });
});

describe('latency', () => {
  it('delays the answer of the targeted call only', async () => {
    sandbox.aws.faults.add({ kind: 'latency', latencyMs: 1_500, operation: 'DescribeRepositories' });
    const client = ecr();
    let slowAnswered = false;
    const slow = client.send(new DescribeRepositoriesCommand({})).then((r) => {
      slowAnswered = true;
      return r;
    });
    // Wait until the emulator holds the slow call, then make a second call that overtakes it.
    while (calls('DescribeRepositories') === 0) await new Promise((r) => setTimeout(r, 5));
    await client.send(token());
    expect(slowAnswered).toBe(false);
    const { repositories } = await slow;
    expect(repositories?.map((r) => r.repositoryName)).toEqual(['web']);
    expect(sandbox.aws.calls.map((c) => c.operation)).toEqual(['DescribeRepositories', 'GetAuthorizationToken']);
  });

  it('longer than the request timeout makes the SDK time out and retry', async () => {
    sandbox.aws.faults.add({ kind: 'latency', latencyMs: 3_000, operation: 'GetAuthorizationToken' });
    // Without throwOnRequestTimeout, @smithy/node-http-handler only logs a warning when requestTimeout passes and
    // keeps waiting: a client that wants a deadline per attempt must ask for the throw.
    const result = await ecr({ requestHandler: { requestTimeout: 1_000, throwOnRequestTimeout: true } }).send(token());
    expect(result.$metadata.attempts).toBe(2);
    expect(calls('GetAuthorizationToken')).toBe(2);
  });

  it('stacks with a following fault', async () => {
    sandbox.aws.faults.add({ kind: 'latency', latencyMs: 50, operation: 'GetAuthorizationToken' });
    sandbox.aws.faults.add({ kind: 'expired-token', operation: 'GetAuthorizationToken' });
    await expect(ecr().send(token())).rejects.toMatchObject({ name: 'ExpiredTokenException' });
    expect(calls('GetAuthorizationToken')).toBe(1);
  });
});

describe('targeting', () => {
  it('a fault on DescribeImages does not touch GetAuthorizationToken', async () => {
    sandbox.aws.faults.add({
      kind: 'throttle',
      service: 'ecr',
      operation: 'DescribeImages',
      times: Number.POSITIVE_INFINITY,
    });
    const client = ecr({ maxAttempts: 2 });
    const auth = await client.send(token());
    expect(auth.$metadata.attempts).toBe(1);
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'web' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(calls('GetAuthorizationToken')).toBe(1);
    expect(calls('DescribeImages')).toBe(2);
  });

  it('a fault on another service does not touch ECR', async () => {
    sandbox.aws.faults.add({ kind: 'server-error', service: 'apprunner', times: Number.POSITIVE_INFINITY });
    const result = await ecr().send(new DescribeImagesCommand({ repositoryName: 'web' }));
    expect(result.$metadata.attempts).toBe(1);
    expect(result.imageDetails).toEqual([]);
  });

  it('a fault without an operation hits whichever ECR call comes next, once', async () => {
    sandbox.aws.faults.add({ kind: 'expired-token', service: 'ecr' });
    const client = ecr();
    await expect(client.send(new DescribeImagesCommand({ repositoryName: 'web' }))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
    });
    await expect(client.send(token())).resolves.toMatchObject({ $metadata: { attempts: 1 } });
  });
});
