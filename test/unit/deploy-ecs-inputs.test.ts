import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDeployEcsInputs } from '../../src/actions/deploy-ecs/inputs';
import { ConfigurationError } from '../../src/core/errors';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web@${DIGEST}`;
const SERVICE_ARN = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';
const EXPRESS_ARN = 'arn:aws:ecs:eu-central-1:123456789012:service/default/web-express';

const workspace = mkdtempSync(join(tmpdir(), 'adk-ecs-inputs-'));
const outside = mkdtempSync(join(tmpdir(), 'adk-ecs-outside-'));
mkdirSync(join(workspace, '.aws'));
const taskDefinition = { family: 'web', containerDefinitions: [{ name: 'app', image: 'web:1', essential: true }] };
writeFileSync(join(workspace, '.aws/task-definition.json'), JSON.stringify(taskDefinition));
writeFileSync(join(workspace, '.aws/broken.json'), '{ "family": ');
writeFileSync(join(workspace, '.aws/no-family.json'), JSON.stringify({ containerDefinitions: [] }));
writeFileSync(join(workspace, '.aws/no-containers.json'), JSON.stringify({ family: 'web' }));
writeFileSync(join(workspace, '.aws/list.json'), '[]');
writeFileSync(join(outside, 'task-definition.json'), JSON.stringify(taskDefinition));
symlinkSync(join(outside, 'task-definition.json'), join(workspace, '.aws/link.json'));

const env = {
  AWS_REGION: 'us-east-1',
  GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  GITHUB_WORKSPACE: workspace,
};
const BASE = { 'ecs-service': 'web', image: IMAGE, 'health-url': 'https://web.example.com/health' };

function parse(inputs: Record<string, string>, base: Record<string, string> = BASE) {
  const all: Record<string, string> = { ...base, ...inputs };
  return parseDeployEcsInputs((name) => all[name] ?? '', env);
}

function rejection(inputs: Record<string, string>, base?: Record<string, string>): ConfigurationError {
  try {
    parse(inputs, base);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(inputs)}`);
}

/** The error names the input and the value given, and says what is accepted. */
function expectRefused(inputs: Record<string, string>, input: string, accepted: RegExp, base?: Record<string, string>) {
  const error = rejection(inputs, base);
  expect(error.input).toBe(input);
  const given = inputs[input];
  if (given) expect(error.message).toContain(JSON.stringify(error.given));
  expect(error.accepted).toMatch(accepted);
  return error;
}

describe('deploy-ecs inputs', () => {
  it('parses an ECS service with the defaults', () => {
    const inputs = parse({});
    expect(inputs.target).toEqual({
      kind: 'ecs',
      cluster: 'default',
      service: 'web',
      onBusy: 'wait',
      cancelOnAbort: true,
    });
    expect(inputs).toMatchObject({
      image: { uri: IMAGE, repository: 'team/web', digest: DIGEST },
      region: 'us-east-1',
      timeoutMs: 30 * 60_000,
      healthUrl: 'https://web.example.com/health',
      expectedStatus: 200,
      healthTimeoutMs: 5 * 60_000,
      healthIntervalMs: 5000,
      consecutiveSuccesses: 3,
      rollbackOnFailure: true,
    });
    expect(inputs.expectedVersion).toBeUndefined();
    expect(inputs.record.commit).toBe(env.GITHUB_SHA);
  });

  it('takes the cluster and the region from a service ARN, and accepts the old service/<name> form', () => {
    const inputs = parse({ 'ecs-service': SERVICE_ARN });
    expect(inputs.target).toMatchObject({ kind: 'ecs', cluster: 'prod', service: SERVICE_ARN });
    expect(inputs.region).toBe('eu-west-1');
    const old = parse({ 'ecs-service': 'arn:aws:ecs:eu-west-1:123456789012:service/web', cluster: 'prod' });
    expect(old.target).toMatchObject({ cluster: 'prod' });
    expect(parse({ 'ecs-service': SERVICE_ARN, cluster: 'prod' }).target).toMatchObject({ cluster: 'prod' });
    const clusterArn = 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod';
    expect(parse({ cluster: clusterArn }).target).toMatchObject({ cluster: clusterArn });
    expect(parse({ cluster: clusterArn }).region).toBe('cn-north-1');
    expect(parse({ 'ecs-service': SERVICE_ARN, region: 'us-west-2' }).region).toBe('us-west-2');
  });

  it('parses every ECS setting', () => {
    const inputs = parse({
      container: 'app',
      'task-definition': '.aws/task-definition.json',
      'container-environment': 'LOG_LEVEL=debug\n\nURL=https://x.example.com/?a=b\nEMPTY=',
      'on-busy': 'stop',
      'cancel-on-abort': 'false',
      'expected-version': 'sha',
      'rollback-on-failure': 'false',
      environment: 'staging',
    });
    expect(inputs.target).toEqual({
      kind: 'ecs',
      cluster: 'default',
      service: 'web',
      container: 'app',
      taskDefinitionFile: { path: '.aws/task-definition.json', json: taskDefinition },
      containerEnvironment: { LOG_LEVEL: 'debug', URL: 'https://x.example.com/?a=b', EMPTY: '' },
      onBusy: 'stop',
      cancelOnAbort: false,
    });
    expect(inputs.expectedVersion).toEqual({ kind: 'sha' });
    expect(inputs.rollbackOnFailure).toBe(false);
    expect(inputs.environment).toBe('staging');
    // An absolute path inside the workspace is the same file.
    expect(parse({ 'task-definition': join(workspace, '.aws/task-definition.json') }).target).toMatchObject({
      taskDefinitionFile: { path: '.aws/task-definition.json' },
    });
  });

  it('parses an Express service: health-url optional and a path allowed, region from the ARN', () => {
    const base = { 'express-service-arn': EXPRESS_ARN, image: IMAGE };
    const inputs = parse({}, base);
    expect(inputs.target).toEqual({
      kind: 'ecs-express',
      serviceArn: EXPRESS_ARN,
      onBusy: 'wait',
      cancelOnAbort: true,
    });
    expect(inputs.region).toBe('eu-central-1');
    expect(inputs.healthUrl).toBeUndefined();
    expect(parse({ 'health-url': '/ready', 'container-environment': 'A=1' }, base)).toMatchObject({
      healthUrl: '/ready',
      target: { containerEnvironment: { A: '1' } },
    });
  });

  it('wants exactly one of ecs-service and express-service-arn', () => {
    expectRefused({ 'ecs-service': '' }, 'ecs-service', /express-service-arn/);
    expectRefused({ 'express-service-arn': EXPRESS_ARN }, 'express-service-arn', /not both/);
  });

  it.each([
    ['cluster', 'my cluster', /cluster name.*cluster ARN/],
    ['cluster', 'a'.repeat(256), /1-255/],
    ['cluster', 'arn:aws:ecs:us-east-1:1234:cluster/prod', /cluster ARN/],
    ['cluster', 'arn:aws:ecs:us-east-1:123456789012:service/prod/web', /cluster ARN/],
    ['ecs-service', 'web/api', /service name.*service ARN/],
    ['ecs-service', 'arn:aws:ecs:us-east-1:123456789012:task/prod/web', /service ARN/],
    ['ecs-service', 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123', /service ARN/],
    ['container', 'my app', /container name/],
    ['container', 'c'.repeat(256), /1-255/],
    ['image', `${IMAGE.split('@')[0]}:v1`, /digest.*a tag is not accepted/],
    ['image', 'web', /digest/],
    ['region', 'moon-1', /AWS region/],
    ['on-busy', 'cancel', /"wait", "fail", "stop"/],
    ['cancel-on-abort', 'maybe', /"true" or "false"/],
    ['rollback-on-failure', 'sometimes', /"true" or "false"/],
    ['timeout-minutes', '0', /number from 0.1 to 360/],
    ['health-url', 'ftp://web.example.com/health', /http/],
    ['health-url', '/health', /load balancer/],
    ['version-url', 'not a url', /http/],
    ['expected-status', '700', /whole number from 100 to 599/],
    ['health-timeout-minutes', '500', /number/],
    ['health-interval-seconds', '0', /number/],
    ['health-consecutive-successes', '0', /whole number/],
    ['record', '{"schema":"other"}', /deploy record/],
    ['environment', 'prod;uction', /GitHub environment name/],
  ])('refuses %s %j', (input, value, accepted) => {
    expectRefused({ [input]: value }, input, accepted);
  });

  it('refuses a cluster input that differs from the cluster named in the ecs-service ARN', () => {
    const error = expectRefused({ 'ecs-service': SERVICE_ARN, cluster: 'staging' }, 'cluster', /\(prod\)/);
    expect(error.given).toBe('staging');
    expectRefused(
      { 'ecs-service': SERVICE_ARN, cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' },
      'cluster',
      /region \(eu-west-1\)/,
    );
  });

  it('requires health-url for an ECS service (it has no URL of its own)', () => {
    const error = expectRefused({ 'health-url': '' }, 'health-url', /load balancer/);
    expect(error.message).toMatch(/^Input 'health-url' is required/);
  });

  it('refuses what an Express service does not take', () => {
    const base = { 'express-service-arn': EXPRESS_ARN, image: IMAGE };
    expectRefused(
      { 'express-service-arn': 'arn:aws:ecs:eu-central-1:123456789012:web' },
      'express-service-arn',
      /Express/,
      base,
    );
    expectRefused({ cluster: 'prod' }, 'cluster', /names its cluster/, base);
    expectRefused({ container: 'app' }, 'container', /primary container/, base);
    expectRefused({ 'task-definition': '.aws/task-definition.json' }, 'task-definition', /primary container/, base);
  });

  it.each([
    ['NAME', /NAME=value/],
    ['1ST=x', /not starting with a digit/],
    ['MY-VAR=x', /letters, digits and _/],
    [' A=1', /NAME=value/],
    ['=x', /NAME=value/],
  ])('refuses the container-environment line %j', (line, accepted) => {
    const error = expectRefused({ 'container-environment': `OK=1\n${line}` }, 'container-environment', accepted);
    expect(error.given).toBe(line);
  });

  it('refuses a variable set twice in container-environment', () => {
    const error = expectRefused({ 'container-environment': 'A=1\nB=2\nA=3' }, 'container-environment', /once/);
    expect(error.given).toBe('A');
  });

  it.each([
    ['../outside.json', /inside the workspace/],
    ['.aws/../../x.json', /inside the workspace/],
    [join(outside, 'task-definition.json'), /inside the workspace/],
    ['.aws/missing.json', /no such file/],
    ['.aws', /no such file/],
    ['.aws/link.json', /links outside/],
    ['.aws/broken.json', /valid JSON/],
    ['.aws/no-family.json', /"family" and "containerDefinitions"/],
    ['.aws/no-containers.json', /"family" and "containerDefinitions"/],
    ['.aws/list.json', /"family" and "containerDefinitions"/],
  ])('refuses the task-definition %s', (path, accepted) => {
    const error = expectRefused({ 'task-definition': path }, 'task-definition', accepted);
    expect(error.given).toBe(path);
  });
});
