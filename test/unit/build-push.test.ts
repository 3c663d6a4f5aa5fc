import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { parseBuildPushInputs } from '../../src/actions/build-push/inputs';
import { run } from '../../src/actions/build-push/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { parseRecord } from '../../src/core/record';
import { type BuildSpec, buildxArgs, classicBuildArgs, type Docker, type DockerResult } from '../../src/docker/docker';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const PASSWORD = 'ecr-password-value';

const ecr = mockClient(ECRClient);

// A workspace with a build context, and a PATH that holds a `docker` executable (never run: the tests fake it).
const workspace = mkdtempSync(join(tmpdir(), 'adk-bp-'));
writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
mkdirSync(join(workspace, 'app'));
const bin = join(workspace, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'docker'), '#!/bin/sh\nexit 1\n');
chmodSync(join(bin, 'docker'), 0o755);

interface Harness {
  deps: ActionDeps;
  outputs: Record<string, string>;
  secrets: string[];
  logger: ReturnType<typeof captureLogger>;
  /** Every docker invocation, with whether the password was already masked then. */
  dockerCalls: { args: string[]; input?: string; env?: Record<string, string>; maskedBefore: boolean }[];
  docker: Docker;
}

function harness(
  inputs: Record<string, string>,
  dockerReply: (args: string[]) => Partial<DockerResult> = () => ({}),
  env: Record<string, string> = {},
): Harness {
  const outputs: Record<string, string> = {};
  const secrets: string[] = [];
  const logger = captureLogger();
  const dockerCalls: Harness['dockerCalls'] = [];
  const docker: Docker = async (args, options) => {
    dockerCalls.push({
      args,
      ...(options?.input !== undefined ? { input: options.input } : {}),
      ...(options?.env !== undefined ? { env: options.env } : {}),
      maskedBefore: secrets.includes(PASSWORD),
    });
    return { exitCode: 0, stdout: '', stderr: '', ...dockerReply(args) };
  };
  const deps: ActionDeps = {
    getInput: (name) => ({ repository: 'web', region: 'us-east-1', ...inputs })[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: (value) => secrets.push(value),
    logger,
    env: {
      PATH: bin,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_SHA: SHA,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'octo-org/web',
      ...env,
    },
    clock: new FakeClock(Date.parse('2030-01-02T03:04:05Z')),
    signal: new AbortController().signal,
    writeSummary: async () => undefined,
    saveState: () => undefined,
    getState: () => '',
  };
  return { deps, outputs, secrets, logger, dockerCalls, docker };
}

function awsError(name: string): ECRServiceException {
  return new ECRServiceException({ name, $fault: 'client', message: name, $metadata: { httpStatusCode: 400 } });
}

function mockRepository(mutability: 'MUTABLE' | 'IMMUTABLE' = 'MUTABLE') {
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ repositoryName: 'web', repositoryUri: `${REGISTRY}/web`, imageTagMutability: mutability }],
  });
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      { authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64'), proxyEndpoint: `https://${REGISTRY}` },
    ],
  });
}

const noBuildx = (args: string[]) => (args[0] === 'buildx' ? { exitCode: 1, stderr: 'unknown command: buildx' } : {});

beforeEach(() => ecr.reset());

const spec: BuildSpec = {
  context: 'app',
  dockerfile: 'app/Dockerfile.prod',
  buildArgs: { VERSION: 'v1 with spaces', EMPTY: '' },
  target: 'runtime',
  platforms: ['linux/amd64'],
  tags: [`${REGISTRY}/web:sha-${SHA}`],
  labels: { 'org.opencontainers.image.revision': SHA },
};

describe('docker argv', () => {
  it('builds with buildx: push, ECR registry cache as an image manifest, no attestations', () => {
    expect(
      buildxArgs(spec, { push: true, cache: 'registry', cacheRef: `${REGISTRY}/web:buildcache`, cacheWritable: true }),
    ).toEqual([
      'buildx',
      'build',
      '--file',
      'app/Dockerfile.prod',
      '--build-arg',
      'VERSION=v1 with spaces',
      '--build-arg',
      'EMPTY=',
      '--target',
      'runtime',
      '--label',
      `org.opencontainers.image.revision=${SHA}`,
      '--tag',
      `${REGISTRY}/web:sha-${SHA}`,
      '--provenance=false',
      '--sbom=false',
      '--platform',
      'linux/amd64',
      '--cache-from',
      `type=registry,ref=${REGISTRY}/web:buildcache`,
      '--cache-to',
      `type=registry,ref=${REGISTRY}/web:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`,
      '--push',
      'app',
    ]);
  });

  it('only reads the registry cache when it cannot be written, and loads instead of pushing with push: false', () => {
    const args = buildxArgs(
      { ...spec, platforms: [] },
      { push: false, cache: 'registry', cacheRef: 'r/web:buildcache', cacheWritable: false },
    );
    expect(args).toContain('--cache-from');
    expect(args).not.toContain('--cache-to');
    expect(args.slice(-2)).toEqual(['--load', 'app']);
    expect(args).not.toContain('--platform');
  });

  it('uses the GitHub Actions cache with cache: gha and no cache with cache: none', () => {
    const gha = buildxArgs(spec, { push: true, cache: 'gha', cacheRef: 'x', cacheWritable: true });
    expect(gha).toEqual(expect.arrayContaining(['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max']));
    const none = buildxArgs(spec, { push: true, cache: 'none', cacheRef: 'x', cacheWritable: true });
    expect(none.some((a) => a.startsWith('--cache'))).toBe(false);
  });

  it('builds with classic docker build when there is no buildx', () => {
    expect(classicBuildArgs(spec)).toEqual([
      'build',
      '--file',
      'app/Dockerfile.prod',
      '--build-arg',
      'VERSION=v1 with spaces',
      '--build-arg',
      'EMPTY=',
      '--target',
      'runtime',
      '--label',
      `org.opencontainers.image.revision=${SHA}`,
      '--tag',
      `${REGISTRY}/web:sha-${SHA}`,
      '--platform',
      'linux/amd64',
      'app',
    ]);
  });
});

describe('input validation (before any AWS call)', () => {
  const read = (inputs: Record<string, string>) => (name: string) =>
    ({ repository: 'web', region: 'us-east-1', ...inputs })[name] ?? '';
  const env = { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: SHA };

  it.each([
    [{ repository: 'Web_App' }, 'repository', 'an ECR repository name'],
    [{ repository: '' }, 'repository', 'is required'],
    [{ region: 'moon-1' }, 'region', 'an AWS region'],
    [{ tags: 'ok\nbad tag' }, 'tags', '1-128 characters'],
    [{ cache: 's3' }, 'cache', '"registry", "gha", "none"'],
    [{ 'skip-if-exists': 'maybe' }, 'skip-if-exists', '"true" or "false"'],
    [{ 'tag-mutability': 'immutable-ish' }, 'tag-mutability', '"MUTABLE", "IMMUTABLE"'],
    [{ 'build-args': 'VERSION' }, 'build-args', 'KEY=VALUE'],
    [{ 'build-args': 'NOT-A-NAME=1' }, 'build-args', 'KEY=VALUE'],
    [{ platforms: 'amd64' }, 'platforms', 'linux/amd64'],
    [{ context: 'missing-dir' }, 'context', 'a directory that exists'],
    [{ dockerfile: 'nope/Dockerfile' }, 'dockerfile', 'a Dockerfile path that exists'],
    [{ commit: 'zzz' }, 'commit', 'git commit SHA'],
    [{ target: '-x' }, 'target', 'build stage'],
  ])('%j fails naming %s', (inputs, input, accepted) => {
    let error: unknown;
    try {
      parseBuildPushInputs(read(inputs), env, workspace);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
    expect((error as Error).message).toContain(accepted);
  });

  it('takes the region from AWS_REGION when the input is empty', () => {
    const inputs = parseBuildPushInputs(read({ region: '' }), { ...env, AWS_REGION: 'eu-west-3' }, workspace);
    expect(inputs.region).toBe('eu-west-3');
    expect(inputs).toMatchObject({ context: '.', skipIfExists: true, cache: 'registry', push: true, docker: 'docker' });
  });

  it('fails naming the docker input when docker is not on PATH, with zero AWS calls', async () => {
    const h = harness({});
    h.deps.env.PATH = join(workspace, 'app');
    const error = await run(h.deps, { docker: h.docker, cwd: workspace }).then(
      () => new Error('it did not fail'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/Input 'docker' has an invalid value "docker": expected a docker CLI on PATH/);
    expect(ecr.calls()).toHaveLength(0);
    expect(h.dockerCalls).toHaveLength(0);
  });

  it('refuses several platforms without buildx before any AWS call', async () => {
    const h = harness({ platforms: 'linux/amd64\nlinux/arm64' }, noBuildx);
    await expect(run(h.deps, { docker: h.docker, cwd: workspace })).rejects.toThrow(/Input 'platforms'.*buildx/);
    expect(ecr.calls()).toHaveLength(0);
  });
});

describe('build-push', () => {
  it('reuses an image already pushed for the commit: nothing built, no login, missing extra tags promoted', async () => {
    mockRepository();
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [`sha-${SHA}`] }] });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST }, imageManifest: '{}', imageManifestMediaType: 'x' }],
    });
    ecr.on(PutImageCommand).resolves({});
    const h = harness({ tags: 'latest' });
    await run(h.deps, { docker: h.docker, cwd: workspace });

    expect(h.dockerCalls.map((c) => c.args[0])).toEqual(['buildx']);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0);
    expect(ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['latest']);
    expect(h.outputs).toMatchObject({
      image: `${REGISTRY}/web@${DIGEST}`,
      digest: DIGEST,
      reused: 'true',
      registry: REGISTRY,
      tags: `sha-${SHA}\nlatest`,
    });
    const record = parseRecord('record', h.outputs.record!);
    expect(record.commit).toBe(SHA);
    expect(record.image).toMatchObject({ digest: DIGEST, reused: true, repository: 'web' });
    expect(record.phases).toEqual([expect.objectContaining({ name: 'build', status: 'succeeded' })]);
    expect(record.run).toMatchObject({ repository: 'octo-org/web', event: 'push' });
  });

  it('builds with docker build + push when there is no buildx, then tags the rest by the registry digest', async () => {
    mockRepository();
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(awsError('ImageNotFoundException'))
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [`sha-${SHA}`] }] });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST }, imageManifest: '{"a":1}\n', imageManifestMediaType: 'm' }],
    });
    ecr.on(PutImageCommand).resolves({});
    const h = harness({ tags: 'staging', 'build-args': 'VERSION=1.0', context: 'app' }, noBuildx);
    await run(h.deps, { docker: h.docker, cwd: workspace });

    const ref = `${REGISTRY}/web:sha-${SHA}`;
    expect(h.dockerCalls.map((c) => c.args)).toEqual([
      ['buildx', 'version'],
      ['login', '--username', 'AWS', '--password-stdin', REGISTRY],
      [
        'build',
        '--build-arg',
        'VERSION=1.0',
        '--label',
        `org.opencontainers.image.revision=${SHA}`,
        '--label',
        'org.opencontainers.image.created=2030-01-02T03:04:05.000Z',
        '--label',
        'org.opencontainers.image.source=https://github.com/octo-org/web',
        '--tag',
        ref,
        'app',
      ],
      ['push', ref],
    ]);
    // The password reaches docker only on stdin, and only after it was masked.
    expect(h.dockerCalls[1]).toMatchObject({ input: PASSWORD, maskedBefore: true });
    expect(h.dockerCalls.some((c) => c.args.some((a) => a.includes(PASSWORD)))).toBe(false);
    expect(ecr.commandCalls(PutImageCommand)[0]?.args[0].input).toMatchObject({
      imageTag: 'staging',
      imageDigest: DIGEST,
      imageManifest: '{"a":1}\n',
    });
    expect(h.outputs).toMatchObject({ digest: DIGEST, reused: 'false', image: `${REGISTRY}/web@${DIGEST}` });
  });

  it('builds and pushes with buildx in one command where buildx exists', async () => {
    mockRepository();
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(awsError('ImageNotFoundException'))
      .resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    const h = harness({});
    await run(h.deps, { docker: h.docker, cwd: workspace });
    // `buildx inspect` answers no driver here: the current builder is used as it is.
    expect(h.dockerCalls.map((c) => c.args.slice(0, 2))).toEqual([
      ['buildx', 'version'],
      ['buildx', 'inspect'],
      ['login', '--username'],
      ['buildx', 'build'],
    ]);
    const build = h.dockerCalls[3]!.args;
    expect(build).toEqual(expect.arrayContaining(['--push', '--provenance=false', '--sbom=false']));
    expect(h.outputs.digest).toBe(DIGEST);
  });

  it("fails a push that breaks midway with docker's last error line and tags nothing else", async () => {
    mockRepository();
    ecr.on(DescribeImagesCommand).rejects(awsError('ImageNotFoundException'));
    const h = harness({ tags: 'latest' }, (args) =>
      args[0] === 'buildx'
        ? { exitCode: 1 }
        : args[0] === 'push'
          ? { exitCode: 1, stdout: 'abc123: Pushing 40%\n', stderr: 'error: blob upload unknown\nretrying gave up\n' }
          : {},
    );
    const error = await run(h.deps, { docker: h.docker, cwd: workspace }).then(
      () => new Error('it did not fail'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toBe(
      `Could not push ${REGISTRY}/web:sha-${SHA}: docker push failed: error: blob upload unknown`,
    );
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
    const record = parseRecord('record', h.outputs.record!);
    expect(record.outcome).toBe('failed');
    expect(record.phases[0]).toMatchObject({ name: 'build', status: 'failed' });
  });

  it('says how to fix a missing repository', async () => {
    ecr.on(DescribeRepositoriesCommand).rejects(awsError('RepositoryNotFoundException'));
    const h = harness({});
    await expect(run(h.deps, { docker: h.docker, cwd: workspace })).rejects.toThrow(
      /repository web does not exist in us-east-1.*aws ecr create-repository.*create-repository: true/,
    );
  });

  it('refuses to rebuild over an existing sha tag of an IMMUTABLE repository', async () => {
    mockRepository('IMMUTABLE');
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: [`sha-${SHA}`] }] });
    const h = harness({ 'skip-if-exists': 'false' });
    await expect(run(h.deps, { docker: h.docker, cwd: workspace })).rejects.toThrow(
      /tags are IMMUTABLE and sha-.* is already there .*Set skip-if-exists: true/,
    );
    expect(h.dockerCalls.filter((c) => c.args[0] !== 'buildx')).toHaveLength(0);
  });

  it('with push: false builds every tag locally and asks ECR nothing about the image', async () => {
    mockRepository();
    const h = harness({ push: 'false', tags: 'dev' }, noBuildx);
    await run(h.deps, { docker: h.docker, cwd: workspace });
    expect(h.dockerCalls.map((c) => c.args[0])).toEqual(['buildx', 'login', 'build']);
    expect(h.dockerCalls[2]!.args).toEqual(expect.arrayContaining([`${REGISTRY}/web:dev`]));
    expect(ecr.commandCalls(DescribeImagesCommand)).toHaveLength(0);
    expect(h.outputs).toMatchObject({ digest: '', reused: 'false', image: `${REGISTRY}/web:sha-${SHA}` });
  });
});

describe('build-push: secrets, labels, attestations, builders and another registry', () => {
  const SECRET = 'npm-token-value-1234';
  writeFileSync(join(workspace, 'app', 'netrc'), 'machine example.com password file-secret\n');
  const features = {
    secrets: `NPM_TOKEN=${SECRET}`,
    'secret-files': 'netrc=app/netrc',
    labels: 'org.opencontainers.image.title=web\norg.opencontainers.image.source=https://example.com/mono',
    annotations: 'manifest:org.opencontainers.image.description=the web app',
    'no-cache': 'true',
    pull: 'true',
  };

  function pushed() {
    mockRepository();
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(awsError('ImageNotFoundException'))
      .resolves({ imageDetails: [{ imageDigest: DIGEST }] });
  }

  it('passes secret values to buildx by environment variable only, masked before anything runs', async () => {
    pushed();
    const h = harness({ ...features, 'build-args': 'VERSION=1', ssh: 'default' }, () => ({}), {
      GITHUB_WORKSPACE: workspace,
      SSH_AUTH_SOCK: '/tmp/agent.sock',
    });
    await run(h.deps, { docker: h.docker, cwd: workspace });
    expect(h.secrets[0]).toBe(SECRET);
    const build = h.dockerCalls.find((c) => c.args[1] === 'build')!;
    expect(build.args).toEqual(
      expect.arrayContaining([
        '--secret',
        'id=NPM_TOKEN,env=AWS_DEPLOY_KIT_SECRET_0',
        '--secret',
        `id=netrc,src=${join(workspace, 'app', 'netrc')}`,
        '--annotation',
        'manifest:org.opencontainers.image.description=the web app',
        '--ssh',
        'default',
        '--no-cache',
        '--pull',
        '--label',
        'org.opencontainers.image.title=web',
      ]),
    );
    expect(build.env).toEqual({ AWS_DEPLOY_KIT_SECRET_0: SECRET });
    // No docker command line carries a secret value, and only the build gets the variable.
    expect(h.dockerCalls.some((c) => c.args.some((a) => a.includes(SECRET)))).toBe(false);
    expect(h.dockerCalls.filter((c) => c.env && Object.keys(c.env).length > 0)).toHaveLength(1);
    // The user's label wins over the action's on the same key.
    const labels = build.args.filter((_, i) => build.args[i - 1] === '--label');
    expect(labels).toContain('org.opencontainers.image.source=https://example.com/mono');
    expect(labels).not.toContain('org.opencontainers.image.source=https://github.com/octo-org/web');
    expect(h.logger.lines.join('\n')).not.toContain(SECRET);
    expect(h.outputs.record).not.toContain(SECRET);
  });

  it('keeps the revision label on the commit it tags, with a warning, when the labels name another', async () => {
    pushed();
    const h = harness({ labels: `org.opencontainers.image.revision=${'f'.repeat(40)}` });
    await run(h.deps, { docker: h.docker, cwd: workspace });
    const build = h.dockerCalls.find((c) => c.args[1] === 'build')!.args;
    expect(build).toContain(`org.opencontainers.image.revision=${SHA}`);
    expect(build).not.toContain(`org.opencontainers.image.revision=${'f'.repeat(40)}`);
    expect(h.logger.lines.join('\n')).toContain('the label stays');
  });

  it('turns on provenance and sbom only when asked', async () => {
    pushed();
    const h = harness({ provenance: 'true', sbom: 'true' });
    await run(h.deps, { docker: h.docker, cwd: workspace });
    const build = h.dockerCalls.find((c) => c.args[1] === 'build')!.args;
    expect(build).toEqual(expect.arrayContaining(['--provenance=true', '--sbom=true']));
  });

  it('with the docker driver, makes and starts a docker-container builder before logging in, and builds on it', async () => {
    pushed();
    const h = harness({}, (args) =>
      args[1] === 'inspect' ? (args[2] ? { exitCode: 1 } : { stdout: 'Name: default\nDriver: docker\n' }) : {},
    );
    await run(h.deps, { docker: h.docker, cwd: workspace });
    const calls = h.dockerCalls.map((c) => c.args.join(' '));
    expect(calls.slice(0, 5)).toEqual([
      'buildx version',
      'buildx inspect',
      'buildx inspect aws-deploy-kit',
      'buildx create --name aws-deploy-kit --driver docker-container --bootstrap',
      `login --username AWS --password-stdin ${REGISTRY}`,
    ]);
    expect(calls[5]).toMatch(/^buildx build --builder aws-deploy-kit .*--cache-to type=registry/);
  });

  it('fails before the login and the build when the docker-container builder cannot be made, saying how to fix it', async () => {
    pushed();
    const h = harness({}, (args) =>
      args[1] === 'inspect'
        ? args[2]
          ? { exitCode: 1 }
          : { stdout: 'Driver: docker\n' }
        : args[1] === 'create'
          ? { exitCode: 1, stderr: 'ERROR: failed to pull moby/buildkit: connection refused' }
          : {},
    );
    await expect(run(h.deps, { docker: h.docker, cwd: workspace })).rejects.toThrow(
      /Could not create a docker-container buildx builder to export the build cache \(cache: registry\).*connection refused.*docker\/setup-buildx-action.*cache: none/,
    );
    expect(h.dockerCalls.map((c) => c.args[0])).not.toContain('login');
  });

  it('keeps the current builder when it is not the docker driver, or when nothing is exported', async () => {
    pushed();
    const container = harness({}, (args) => (args[1] === 'inspect' ? { stdout: 'Driver: docker-container\n' } : {}));
    await run(container.deps, { docker: container.docker, cwd: workspace });
    expect(container.dockerCalls.map((c) => c.args[1])).not.toContain('create');
    ecr.reset();
    pushed();
    const none = harness({ cache: 'none' }, (args) => (args[1] === 'inspect' ? { stdout: 'Driver: docker\n' } : {}));
    await run(none.deps, { docker: none.docker, cwd: workspace });
    expect(none.dockerCalls.map((c) => c.args.slice(0, 2).join(' '))).toEqual([
      'buildx version',
      'login --username',
      'buildx build',
    ]);
  });

  it('without buildx, passes secrets to a plain build that takes --secret (podman), by environment variable', async () => {
    pushed();
    const h = harness(features, (args) =>
      args[0] === 'buildx'
        ? { exitCode: 1 }
        : args[1] === '--help'
          ? { stdout: '      --annotation stringArray\n      --secret stringArray\n      --ssh stringArray\n' }
          : {},
    );
    await run(h.deps, { docker: h.docker, cwd: workspace });
    const build = h.dockerCalls.find((c) => c.args[0] === 'build' && c.args[1] !== '--help')!;
    expect(build.args).toEqual(expect.arrayContaining(['--secret', 'id=NPM_TOKEN,env=AWS_DEPLOY_KIT_SECRET_0']));
    expect(build.env).toEqual({ AWS_DEPLOY_KIT_SECRET_0: SECRET });
  });

  it.each([
    [{ secrets: `NPM_TOKEN=${SECRET}` }, 'secrets', '--secret'],
    [{ annotations: 'a=b' }, 'annotations', '--annotation'],
    [{ provenance: 'true' }, 'provenance', 'buildx'],
    [{ sbom: 'true' }, 'sbom', 'buildx'],
  ])('without buildx and the flag, %j fails naming %s before any AWS call', async (inputs, input, why) => {
    const h = harness(inputs, (args) =>
      args[0] === 'buildx' ? { exitCode: 1 } : { stdout: '      --label list\n      --pull\n' },
    );
    const error = await run(h.deps, { docker: h.docker, cwd: workspace }).then(
      () => new Error('it did not fail'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
    expect(error.message).toContain(why);
    expect(error.message).not.toContain(SECRET);
    expect(ecr.calls()).toHaveLength(0);
  });

  it('with registry-id, names the other account in every ECR call and logs in to its registry', async () => {
    const other = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: 'web', repositoryUri: `${other}/web`, imageTagMutability: 'MUTABLE' }],
    });
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        { authorizationToken: Buffer.from(`AWS:${PASSWORD}`).toString('base64'), proxyEndpoint: `https://${other}` },
      ],
    });
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(awsError('ImageNotFoundException'))
      .resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST }, imageManifest: '{}', imageManifestMediaType: 'm' }],
    });
    ecr.on(PutImageCommand).resolves({});
    const h = harness({ 'registry-id': '210987654321', tags: 'latest' });
    await run(h.deps, { docker: h.docker, cwd: workspace });
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({ registryIds: ['210987654321'] });
    for (const command of [DescribeRepositoriesCommand, DescribeImagesCommand, BatchGetImageCommand, PutImageCommand]) {
      const calls = ecr.commandCalls(command as never);
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls)
        expect((call.args[0] as { input: object }).input).toMatchObject({ registryId: '210987654321' });
    }
    expect(h.dockerCalls.map((c) => c.args.join(' '))).toContain(`login --username AWS --password-stdin ${other}`);
    expect(h.outputs).toMatchObject({ registry: other, image: `${other}/web@${DIGEST}` });
  });
});
