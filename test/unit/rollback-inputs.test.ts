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
    target: { kind: 'apprunner', serviceArn: arn },
    repository: 'web',
    region: 'eu-west-1',
    token: '',
    bootTag: 'staging',
    health: expect.objectContaining({ url: '/health', expectedStatus: 200, intervalMs: 5000, timeoutMs: 300_000 }),
    timeoutMs: 30 * 60_000,
    dryRun: false,
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
  [{ ...apprunner, target: 'ecs' }, /Input 'target' has an invalid value "ecs": expected "apprunner" or "asg"/],
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
