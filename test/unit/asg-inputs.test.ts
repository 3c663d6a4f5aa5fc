import { parsePipelineInputs } from '../../src/actions/pipeline/inputs';
import { parseRefreshAsgInputs } from '../../src/actions/refresh-asg/inputs';
import { ConfigurationError } from '../../src/core/errors';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web@${DIGEST}`;
const env = {
  AWS_REGION: 'us-east-1',
  GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  GITHUB_EVENT_NAME: 'push',
};

function parse(inputs: Record<string, string>) {
  const withBootTag: Record<string, string> = { 'boot-tag': 'staging', ...inputs };
  return parseRefreshAsgInputs((name) => withBootTag[name] ?? '', env);
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

describe('refresh-asg inputs', () => {
  it('applies the defaults of the issue', () => {
    const inputs = parse({ 'asg-name': 'web-asg' });
    expect(inputs).toMatchObject({
      asgName: 'web-asg',
      bootTag: 'staging',
      region: 'us-east-1',
      onBusy: 'wait',
      wait: true,
      timeoutMs: 30 * 60_000,
      cancelOnAbort: true,
      preferences: { minHealthyPercentage: 90, skipMatching: false, autoRollback: false },
    });
    expect(inputs.image).toBeUndefined();
    expect(inputs.verifyTargetGroups).toBeUndefined();
    expect(inputs.record.commit).toBe(env.GITHUB_SHA);
  });

  it('requires boot-tag with an image: with no environment to name it, a default (latest) would be shared by groups', () => {
    const error = rejection({ 'asg-name': 'web-asg', image: IMAGE, 'boot-tag': '' });
    expect(error.input).toBe('boot-tag');
    expect(error.message).toMatch(/^Input 'boot-tag' is required/);
    expect(rejection({ 'asg-name': 'web-asg', repository: 'web', 'boot-tag': '' }).input).toBe('boot-tag');
    // A refresh of a launch template version alone moves no tag.
    expect(parse({ 'asg-name': 'web-asg', 'launch-template-version': '3', 'boot-tag': '' }).bootTag).toBe('');
  });

  it('takes the repository of the boot tag from the image digest URI', () => {
    const inputs = parse({ 'asg-name': 'web-asg', image: IMAGE, 'boot-tag': 'production' });
    expect(inputs.image).toEqual({ uri: IMAGE, repository: 'team/web', digest: DIGEST });
    expect(inputs.repository).toBe('team/web');
    expect(inputs.bootTag).toBe('production');
  });

  it('accepts an image whose repository name uses the __ and -- separators ECR allows', () => {
    const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/team__a/my--web@${DIGEST}`;
    expect(parse({ 'asg-name': 'web-asg', image, 'boot-tag': 'production' }).repository).toBe('team__a/my--web');
  });

  it('passes every refresh preference through', () => {
    const inputs = parse({
      'asg-name': 'web-asg',
      'min-healthy-percentage': '50',
      'max-healthy-percentage': '150',
      'instance-warmup': '120',
      'checkpoint-percentages': '25, 50, 100',
      'checkpoint-delay': '600',
      'refresh-bake-time': '300',
      alarms: 'web-5xx\nweb-latency',
      'launch-template-version': '7',
      'auto-rollback': 'true',
      'skip-matching': 'true',
      'on-busy': 'cancel',
      'verify-target-groups': 'false',
    });
    expect(inputs.preferences).toEqual({
      minHealthyPercentage: 50,
      maxHealthyPercentage: 150,
      instanceWarmup: 120,
      checkpointPercentages: [25, 50, 100],
      checkpointDelay: 600,
      bakeTime: 300,
      alarms: ['web-5xx', 'web-latency'],
      autoRollback: true,
      skipMatching: true,
    });
    expect(inputs).toMatchObject({ launchTemplateVersion: '7', onBusy: 'cancel', verifyTargetGroups: false });
  });

  it.each([
    [{ 'asg-name': '' }, 'asg-name', /required/],
    [{ image: `${IMAGE.split('@')[0]}:v1` }, 'image', /digest URI/],
    [{ image: 'web@sha256:abc' }, 'image', /digest URI/],
    [{ image: IMAGE, repository: 'other' }, 'repository', /the repository of image \(team\/web\)/],
    [{ 'boot-tag': '-bad' }, 'boot-tag', /image tag/],
    [{ 'min-healthy-percentage': '101' }, 'min-healthy-percentage', /0 to 100/],
    [{ 'max-healthy-percentage': '99' }, 'max-healthy-percentage', /100 to 200/],
    [{ 'min-healthy-percentage': '40', 'max-healthy-percentage': '150' }, 'max-healthy-percentage', /at most 140/],
    [{ 'checkpoint-percentages': '50,20,100' }, 'checkpoint-percentages', /ascending/],
    [{ 'checkpoint-percentages': '20,20,100' }, 'checkpoint-percentages', /unique ascending/],
    [{ 'scale-in-protected-instances': 'wait' }, 'scale-in-protected-instances', /"Refresh", "Ignore", "Wait"/],
    [{ 'standby-instances': 'Refresh' }, 'standby-instances', /"Terminate", "Ignore", "Wait"/],
    [{ 'checkpoint-percentages': '50,100' }, 'timeout-minutes', /at least 60 minutes.*checkpoint-delay is empty/],
    [
      {
        'checkpoint-percentages': '20,50',
        'checkpoint-delay': '900',
        'refresh-bake-time': '600',
        'timeout-minutes': '35',
      },
      'timeout-minutes',
      /at least 40 minutes.*2 checkpoint\(s\) of checkpoint-percentages × 900 s \(checkpoint-delay\) \+ refresh-bake-time 600 s/,
    ],
    [{ 'checkpoint-percentages': '0,100' }, 'checkpoint-percentages', /from 1 to 100/],
    [{ 'checkpoint-delay': '60' }, 'checkpoint-delay', /unless checkpoint-percentages/],
    [{ 'refresh-bake-time': '172801' }, 'refresh-bake-time', /0 to 172800/],
    [{ 'instance-warmup': '-1' }, 'instance-warmup', /whole number/],
    [{ alarms: 'a,b,c,d,e,f,g,h,i,j,k' }, 'alarms', /at most 10/],
    [{ 'launch-template-version': 'latest' }, 'launch-template-version', /\$Latest/],
    [{ 'auto-rollback': 'true' }, 'auto-rollback', /unless launch-template-version/],
    [{ 'auto-rollback': 'true', 'launch-template-version': '$Latest' }, 'launch-template-version', /version number/],
    [{ 'skip-matching': 'true', image: IMAGE }, 'skip-matching', /compares launch template versions only/],
    [{ 'on-busy': 'queue' }, 'on-busy', /"wait", "cancel", "fail"/],
    [{ 'timeout-minutes': '0' }, 'timeout-minutes', /1 to 360/],
    [{ 'cancel-on-abort': 'maybe' }, 'cancel-on-abort', /"true" or "false"/],
    [{ record: '{"schema":"nope"}' }, 'record', /deploy record/],
  ])('rejects %j naming %s', (bad, input, accepted) => {
    const error = rejection({ 'asg-name': 'web-asg', ...bad });
    expect(error.input).toBe(input);
    expect(error.message).toMatch(accepted);
  });

  it('accepts checkpoints that stop short of 100, and the protected / Standby policies, sending nothing by default', () => {
    const inputs = parse({
      'asg-name': 'web-asg',
      'checkpoint-percentages': '20,50',
      'checkpoint-delay': '60',
      'scale-in-protected-instances': 'Refresh',
      'standby-instances': 'Terminate',
    });
    expect(inputs.preferences).toMatchObject({
      checkpointPercentages: [20, 50],
      scaleInProtectedInstances: 'Refresh',
      standbyInstances: 'Terminate',
    });
    const defaults = parse({ 'asg-name': 'web-asg' }).preferences;
    expect(defaults.scaleInProtectedInstances).toBeUndefined();
    expect(defaults.standbyInstances).toBeUndefined();
    // The hour AWS waits at a checkpoint fits a long enough timeout, and does not matter when the step does not wait.
    expect(parse({ 'asg-name': 'web-asg', 'checkpoint-percentages': '50,100', 'timeout-minutes': '90' })).toBeDefined();
    expect(parse({ 'asg-name': 'web-asg', 'checkpoint-percentages': '50,100', wait: 'false' })).toBeDefined();
  });

  it('the all-in-one action hands scale-in-protected-instances and standby-instances on to the refresh', () => {
    const values: Record<string, string> = {
      target: 'asg',
      repository: 'web',
      environment: 'staging',
      'asg-name': 'web-asg',
      'health-url': 'https://web.example.com/health',
      'scale-in-protected-instances': 'Ignore',
      'standby-instances': 'Terminate',
    };
    const pipeline = parsePipelineInputs((name) => values[name] ?? '', env);
    // Parsed once, by refresh-asg's own parser, into the target's typed settings.
    expect(pipeline.target).toMatchObject({
      kind: 'asg',
      preferences: { scaleInProtectedInstances: 'Ignore', standbyInstances: 'Terminate' },
    });
  });

  it('needs a region from the input or the environment', () => {
    const inputs: Record<string, string> = { 'asg-name': 'web', 'boot-tag': 'staging' };
    expect(() => parseRefreshAsgInputs((name) => inputs[name] ?? '', {})).toThrow(/Input 'region' is required/);
  });
});
