import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuildPushInputs } from '../../src/actions/build-push/inputs';
import { parsePipelineInputs } from '../../src/actions/pipeline/inputs';
import { ConfigurationError } from '../../src/core/errors';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const workspace = mkdtempSync(join(tmpdir(), 'adk-features-'));
mkdirSync(join(workspace, 'secrets'));
writeFileSync(join(workspace, 'secrets', 'netrc'), 'machine x password y\n');
const outside = mkdtempSync(join(tmpdir(), 'adk-outside-'));
writeFileSync(join(outside, 'key'), 'k');
symlinkSync(join(outside, 'key'), join(workspace, 'secrets', 'link'));
const env = { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: SHA, GITHUB_WORKSPACE: workspace };

function parse(inputs: Record<string, string>, extraEnv: Record<string, string> = {}) {
  const read = (name: string) => ({ repository: 'web', region: 'us-east-1', ...inputs })[name] ?? '';
  return parseBuildPushInputs(read, { ...env, ...extraEnv }, workspace);
}

function rejection(inputs: Record<string, string>, extraEnv: Record<string, string> = {}): ConfigurationError {
  try {
    parse(inputs, extraEnv);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(inputs)}`);
}

describe('build-push parity inputs', () => {
  it('are off and empty by default', () => {
    expect(parse({})).toMatchObject({
      secrets: [],
      secretFiles: [],
      ssh: [],
      labels: {},
      annotations: {},
      provenance: false,
      sbom: false,
      noCache: false,
      pull: false,
    });
    expect(parse({}).registryId).toBeUndefined();
  });

  it('parses every one of them', () => {
    const inputs = parse(
      {
        secrets: '# the registry token\nNPM_TOKEN=abc=def\n\ngh.token = xyz ',
        'secret-files': 'netrc=secrets/netrc',
        ssh: 'default\ngithub=secrets/netrc',
        labels: 'org.opencontainers.image.title=web\nteam=payments',
        annotations: 'org.opencontainers.image.description=Web\nindex,manifest:org.example.a=1',
        provenance: 'true',
        sbom: 'yes',
        'no-cache': 'true',
        pull: 'true',
        'registry-id': '210987654321',
      },
      { SSH_AUTH_SOCK: '/tmp/agent.sock' },
    );
    expect(inputs).toMatchObject({
      secrets: [
        { id: 'NPM_TOKEN', value: 'abc=def' },
        { id: 'gh.token', value: 'xyz' },
      ],
      secretFiles: [{ id: 'netrc', path: join(workspace, 'secrets', 'netrc') }],
      ssh: ['default', `github=${join(workspace, 'secrets', 'netrc')}`],
      labels: { 'org.opencontainers.image.title': 'web', team: 'payments' },
      annotations: { 'org.opencontainers.image.description': 'Web', 'index,manifest:org.example.a': '1' },
      provenance: true,
      sbom: true,
      noCache: true,
      pull: true,
      registryId: '210987654321',
    });
  });

  it.each([
    [{ 'secret-files': 'netrc=../outside' }, 'secret-files', 'inside the workspace'],
    [{ 'secret-files': 'netrc=secrets/missing' }, 'secret-files', 'no such file'],
    [{ 'secret-files': 'netrc=secrets' }, 'secret-files', 'no such file'],
    [{ 'secret-files': 'netrc=secrets/link' }, 'secret-files', 'links outside it'],
    [{ 'secret-files': 'bad id=secrets/netrc' }, 'secret-files', 'an id of letters'],
    [{ 'secret-files': 'netrc=secrets/a,b' }, 'secret-files', 'with no comma'],
    [{ ssh: 'default' }, 'ssh', 'SSH_AUTH_SOCK is not set'],
    [{ ssh: 'github=/nowhere/key' }, 'ssh', 'paths exist'],
    [{ labels: 'no-equals' }, 'labels', 'KEY=VALUE'],
    [{ labels: ' =x' }, 'labels', 'KEY=VALUE'],
    [{ labels: 'has space=x' }, 'labels', 'a label'],
    [{ annotations: 'blob:org.example=1' }, 'annotations', 'buildx levels'],
    [{ provenance: 'mode=max' }, 'provenance', '"true" or "false"'],
    [{ sbom: 'maybe' }, 'sbom', '"true" or "false"'],
    [{ 'no-cache': '2' }, 'no-cache', '"true" or "false"'],
    [{ pull: 'always' }, 'pull', '"true" or "false"'],
    [{ 'registry-id': '1234' }, 'registry-id', '12-digit AWS account ID'],
    [{ 'registry-id': 'arn:aws:ecr:x' }, 'registry-id', '12-digit AWS account ID'],
  ])('%j fails naming %s', (inputs, input, accepted) => {
    const error = rejection(inputs);
    expect(error.input).toBe(input);
    expect(error.message).toContain(accepted);
  });

  it.each([
    ['a line without =', 'hunter2-secret-value'],
    ['an empty value', 'TOKEN='],
    ['a bad id', 'bad id=hunter2-secret-value'],
    ['an id given twice', 'A=hunter2-secret-value\nA=hunter2-secret-value'],
  ])('a secrets line with %s fails without showing the value', (_, secrets) => {
    const error = rejection({ secrets });
    expect(error.input).toBe('secrets');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('an image index for a target that cannot run one', () => {
  const pipelineEnv = { AWS_REGION: 'us-east-1', GITHUB_SHA: 'a'.repeat(40) };
  const apprunner = {
    target: 'apprunner',
    repository: 'web',
    environment: 'staging',
    'service-arn': `arn:aws:apprunner:us-east-1:123456789012:service/web/${'0'.repeat(32)}`,
  };
  const ecs = {
    target: 'ecs',
    repository: 'web',
    environment: 'staging',
    'ecs-service': 'web',
    'health-url': 'https://web.example.com/health',
  };
  const pipeline = (inputs: Record<string, string>) => parsePipelineInputs((name) => inputs[name] ?? '', pipelineEnv);

  it.each([
    [
      { provenance: 'true' },
      'provenance',
      'Input \'provenance\' has an invalid value "true": expected "false" for target apprunner',
    ],
    [{ sbom: 'true' }, 'sbom', 'Input \'sbom\' has an invalid value "true"'],
    [{ platforms: 'linux/amd64,linux/arm64' }, 'platforms', 'expected a single platform for target apprunner'],
  ])('App Runner refuses %j before anything is built', (build, input, message) => {
    let error: unknown;
    try {
      pipeline({ ...apprunner, ...build });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('App Runner runs a single image manifest only');
  });

  it('ECS takes them, and App Runner takes every other parity input', () => {
    expect(
      pipeline({ ...ecs, provenance: 'true', sbom: 'true', platforms: 'linux/amd64\nlinux/arm64' }).build,
    ).toMatchObject({
      provenance: true,
      sbom: true,
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(pipeline({ ...apprunner, labels: 'team=web', 'no-cache': 'true', pull: 'true' }).build).toMatchObject({
      labels: { team: 'web' },
      noCache: true,
      pull: true,
      provenance: false,
    });
  });
});
