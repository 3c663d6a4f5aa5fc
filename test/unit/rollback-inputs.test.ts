import { parseRollbackInputs } from '../../src/actions/rollback/inputs';
import { ConfigurationError } from '../../src/core/errors';

const arn = 'arn:aws:apprunner:eu-west-1:123456789012:service/web/0123456789abcdef0123456789abcdef';

function parse(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  return parseRollbackInputs((name) => inputs[name] ?? '', env);
}

const apprunner = { environment: 'staging', target: 'apprunner', 'service-arn': arn, repository: 'web' };

it('reads an App Runner rollback: region from the ARN, /health checked by default, no version check', () => {
  expect(parse(apprunner)).toEqual({
    environment: 'staging',
    service: { name: 'default', isDefault: true },
    target: { kind: 'apprunner', serviceArn: arn },
    repository: 'web',
    region: 'eu-west-1',
    token: '',
    bootTag: 'staging',
    health: expect.objectContaining({ url: '/health', expectedStatus: 200, intervalMs: 5000, timeoutMs: 300_000 }),
    timeoutMs: 30 * 60_000,
    dryRun: false,
    maskAwsAccountId: false,
  });
});

it('reads to-sha (lower-cased), expected-version "sha", dry-run and the health timings', () => {
  const inputs = parse({
    ...apprunner,
    'to-sha': 'ABCDEF1',
    'expected-version': 'sha',
    'dry-run': 'true',
    'health-url': '/version',
    'health-interval-seconds': '0.5',
    'health-timeout-minutes': '1',
  });
  expect(inputs).toMatchObject({
    toSha: 'abcdef1',
    expectedVersion: { kind: 'sha' },
    dryRun: true,
    health: { url: '/version', intervalMs: 500, timeoutMs: 60_000 },
  });
  expect(parse({ ...apprunner, 'expected-version': 'v1.2' }).expectedVersion).toEqual({
    kind: 'literal',
    value: 'v1.2',
  });
});

it('reads an ASG rollback: no health check unless health-url is given, which must be a full URL', () => {
  const asg = {
    environment: 'production',
    target: 'asg',
    'asg-name': 'web-asg',
    repository: 'web',
    'boot-tag': 'prod',
  };
  const inputs = parse(asg, { AWS_REGION: 'us-east-1' });
  expect(inputs).toMatchObject({ target: { kind: 'asg', asgName: 'web-asg' }, bootTag: 'prod', region: 'us-east-1' });
  expect(inputs.health).toBeUndefined();
  // The boot tag defaults to the environment's own tag, never `latest` (another environment may move that one).
  const { 'boot-tag': _given, ...noBootTag } = asg;
  expect(parse({ ...noBootTag, environment: 'Production EU' }, { AWS_REGION: 'us-east-1' }).bootTag).toBe(
    'production-eu',
  );
  expect(() => parse({ ...asg, 'health-url': '/version' }, { AWS_REGION: 'us-east-1' })).toThrow(
    /Input 'health-url' has an invalid value "\/version"/,
  );
  expect(() => parse({ ...asg, 'expected-version': 'sha' }, { AWS_REGION: 'us-east-1' })).toThrow(
    /Input 'health-url' is required/,
  );
});

it.each([
  [{ ...apprunner, environment: '' }, /Input 'environment' is required/],
  [
    { ...apprunner, target: 'lambda' },
    /Input 'target' has an invalid value "lambda": expected one of "apprunner", "asg", "ecs", "ecs-express"/,
  ],
  [{ ...apprunner, target: '' }, /Input 'target' is required .*"apprunner", "asg", "ecs" or "ecs-express"/],
  [{ ...apprunner, 'ecs-service': 'web' }, /Input 'ecs-service' .*empty when target is "apprunner"/],
  [{ ...apprunner, 'service-arn': '' }, /Input 'service-arn' is required/],
  [{ ...apprunner, 'service-arn': 'web' }, /Input 'service-arn' has an invalid value "web"/],
  [{ ...apprunner, 'asg-name': 'web-asg' }, /Input 'asg-name' .*empty when target is "apprunner"/],
  [{ environment: 'staging', target: 'asg', repository: 'web' }, /Input 'asg-name' is required/],
  [{ ...apprunner, repository: 'Web!' }, /Input 'repository' has an invalid value "Web!"/],
  [{ ...apprunner, 'to-sha': 'main' }, /Input 'to-sha' has an invalid value "main": expected a git commit SHA of 7-40/],
  [{ ...apprunner, 'to-sha': 'abc12' }, /Input 'to-sha' has an invalid value "abc12"/],
  [{ ...apprunner, 'dry-run': 'maybe' }, /Input 'dry-run'/],
  [{ ...apprunner, 'timeout-minutes': '0' }, /Input 'timeout-minutes'/],
  [{ ...apprunner, environment: 'a,b' }, /Input 'environment' has an invalid value "a,b"/],
])('refuses bad input %#', (inputs, message) => {
  let error: unknown;
  try {
    parse(inputs);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as Error).message).toMatch(message);
});

const ecs = { environment: 'production', target: 'ecs', 'ecs-service': 'web', cluster: 'prod', repository: 'web' };
const expressArn = 'arn:aws:ecs:ap-southeast-2:123456789012:service/default/web';
const express = { environment: 'staging', target: 'ecs-express', 'express-service-arn': expressArn, repository: 'web' };

it('reads an ECS rollback: cluster and service; no health check unless health-url is given (a full URL)', () => {
  const inputs = parse(ecs, { AWS_REGION: 'us-east-1' });
  expect(inputs).toMatchObject({ target: { kind: 'ecs', cluster: 'prod', service: 'web' }, region: 'us-east-1' });
  expect(inputs.health).toBeUndefined();
  const arn = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';
  const byArn = parse({ ...ecs, cluster: '', 'ecs-service': arn });
  expect(byArn).toMatchObject({ target: { kind: 'ecs', cluster: 'prod', service: arn }, region: 'eu-west-1' });
  expect(
    parse({ ...ecs, 'health-url': 'https://web.example.com/health' }, { AWS_REGION: 'us-east-1' }).health,
  ).toMatchObject({ url: 'https://web.example.com/health' });
  expect(() => parse({ ...ecs, 'health-url': '/health' }, { AWS_REGION: 'us-east-1' })).toThrow(
    /Input 'health-url' has an invalid value "\/health"/,
  );
});

it('reads an ECS Express rollback: region from the ARN, /health on the service URL by default', () => {
  const inputs = parse(express);
  expect(inputs).toMatchObject({
    target: { kind: 'ecs-express', serviceArn: expressArn },
    region: 'ap-southeast-2',
    health: { url: '/health' },
  });
});

it.each([
  [{ ...ecs, 'ecs-service': '' }, /Input 'ecs-service' is required .*target is ecs/],
  [
    { ...ecs, 'ecs-service': 'web api' },
    /Input 'ecs-service' has an invalid value "web api": expected an ECS service name/,
  ],
  [{ ...ecs, cluster: 'a/b' }, /Input 'cluster' has an invalid value "a\/b": expected an ECS cluster name/],
  [
    { ...ecs, 'ecs-service': 'arn:aws:ecs:eu-west-1:123456789012:service/staging/web' },
    /Input 'cluster' has an invalid value "prod": expected the cluster named in ecs-service \(staging\)/,
  ],
  [{ ...ecs, 'service-arn': 'x' }, /Input 'service-arn' .*empty when target is "ecs"/],
  [{ ...ecs, 'asg-name': 'web-asg' }, /Input 'asg-name' .*empty when target is "ecs"/],
  [{ ...express, 'express-service-arn': '' }, /Input 'express-service-arn' is required .*target is ecs-express/],
  [{ ...express, 'express-service-arn': 'web' }, /Input 'express-service-arn' has an invalid value "web"/],
  [{ ...express, cluster: 'prod' }, /Input 'cluster' .*names its cluster/],
  [{ ...express, 'ecs-service': 'web' }, /Input 'express-service-arn' .*not both/],
])('refuses bad ECS input %#', (inputs, message) => {
  expect(() => parse(inputs, { AWS_REGION: 'us-east-1' })).toThrow(ConfigurationError);
  expect(() => parse(inputs, { AWS_REGION: 'us-east-1' })).toThrow(message);
});
