import { parsePipelineInputs } from '../../src/actions/pipeline/inputs';
import { ConfigurationError } from '../../src/core/errors';

// A runner always sets GITHUB_SHA: build-push's parser (run by the all-in-one action's) reads the commit from it.
const env = { AWS_REGION: 'us-east-1', GITHUB_SHA: 'a'.repeat(40) };
const asg = {
  target: 'asg',
  repository: 'web',
  environment: 'Production EU',
  'asg-name': 'web-asg',
  'health-url': 'https://web.example.com/health',
};

function parse(inputs: Record<string, string>) {
  return parsePipelineInputs((name) => inputs[name] ?? '', env);
}

function rejection(inputs: Record<string, string>): ConfigurationError {
  try {
    parse(inputs);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(inputs)}`);
}

describe('the boot tag and latest of the all-in-one action', () => {
  it("boots the environment's own tag by default, never latest", () => {
    expect(parse(asg)).toMatchObject({ bootTag: 'production-eu', movesLatest: false });
    expect(parse(asg).latestEnvironment).toBeUndefined();
  });

  it('moves latest only when latest-environment names this environment', () => {
    expect(parse({ ...asg, 'latest-environment': 'staging' })).toMatchObject({
      latestEnvironment: 'staging',
      movesLatest: false,
    });
    expect(parse({ ...asg, 'latest-environment': 'Production EU' }).movesLatest).toBe(true);
  });

  it('refuses boot-tag latest unless this environment owns latest: the tag moves before the verification', () => {
    const unset = rejection({ ...asg, 'boot-tag': 'latest' });
    expect(unset.input).toBe('boot-tag');
    expect(unset.message).toContain('it is not set');
    expect(rejection({ ...asg, 'boot-tag': 'latest', 'latest-environment': 'staging' }).message).toContain(
      'it is "staging"',
    );
    expect(parse({ ...asg, 'boot-tag': 'latest', 'latest-environment': 'Production EU' }).bootTag).toBe('latest');
  });

  it('checks latest-environment like environment', () => {
    expect(rejection({ ...asg, 'latest-environment': 'prod;x' }).input).toBe('latest-environment');
  });

  it.each(['staging;x', 'staging\nx', '-staging', 'x'.repeat(120)])('refuses the environment %j', (environment) => {
    expect(rejection({ ...asg, environment }).input).toBe('environment');
  });
});

describe('the ECS targets of the all-in-one action', () => {
  const ecs = {
    target: 'ecs',
    repository: 'web',
    environment: 'staging',
    'ecs-service': 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
    'health-url': 'https://web.example.com/health',
  };
  const express = {
    target: 'ecs-express',
    repository: 'web',
    environment: 'staging',
    'express-service-arn': 'arn:aws:ecs:eu-central-1:123456789012:service/default/web',
  };

  it("hands the ECS inputs to deploy-ecs's parser, and takes the region from the service ARN", () => {
    const inputs = parse({ ...ecs, container: 'app', 'on-busy': 'stop', 'container-environment': 'A=1' });
    expect(inputs.target).toEqual({
      kind: 'ecs',
      cluster: 'prod',
      service: ecs['ecs-service'],
      container: 'app',
      containerEnvironment: { A: '1' },
      onBusy: 'stop',
      cancelOnAbort: true,
    });
    expect(inputs.region).toBe('eu-west-1');
  });

  it('parses an Express service: health-url defaults to the service URL + the target path', () => {
    const inputs = parse(express);
    expect(inputs.target).toMatchObject({ kind: 'ecs-express', serviceArn: express['express-service-arn'] });
    expect(inputs.region).toBe('eu-central-1');
    expect(inputs.healthUrl).toBeUndefined();
  });

  it.each([
    [{ ...ecs, 'ecs-service': '' }, 'ecs-service', /target is ecs/],
    [{ ...express, 'express-service-arn': '' }, 'express-service-arn', /target is ecs-express/],
    [{ ...ecs, 'health-url': '' }, 'health-url', /load balancer.*target is ecs/],
    [{ ...ecs, cluster: 'staging' }, 'cluster', /\(prod\)/],
    [{ ...ecs, 'ecs-service': 'web/api' }, 'ecs-service', /service ARN/],
    [{ ...ecs, container: 'my app' }, 'container', /container name/],
    [{ ...ecs, 'task-definition': '../td.json' }, 'task-definition', /inside the workspace/],
    [{ ...ecs, 'container-environment': 'A=1\nA=2' }, 'container-environment', /once/],
    [{ ...ecs, 'on-busy': 'cancel' }, 'on-busy', /"wait", "fail", "stop"/],
    [{ ...express, container: 'app' }, 'container', /primary container/],
    [{ ...ecs, target: 'lambda' }, 'target', /"apprunner", "asg", "ecs", "ecs-express"/],
    [{ ...ecs, target: '' }, 'target', /"apprunner", "asg", "ecs" or "ecs-express"/],
  ])('refuses %j before anything is built (%s)', (inputs, input, accepted) => {
    const error = rejection(inputs);
    expect(error.input).toBe(input);
    expect(error.accepted).toMatch(accepted);
  });

  it("passes on-busy to whichever target, checked by that target's parser", () => {
    expect(parse({ ...asg, 'on-busy': 'cancel' }).target).toMatchObject({ kind: 'asg', onBusy: 'cancel' });
    expect(rejection({ ...asg, 'on-busy': 'stop' }).accepted).toMatch(/"wait", "cancel", "fail"/);
  });
});
