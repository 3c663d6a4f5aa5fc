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
