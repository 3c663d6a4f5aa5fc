import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeServiceCommand } from '@aws-sdk/client-apprunner';
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
import { maskingLogger } from '../../src/actions/account-mask';
import { parseBuildPushInputs } from '../../src/actions/build-push/inputs';
import { run as buildPush } from '../../src/actions/build-push/main';
import { post as buildPushPost } from '../../src/actions/build-push-post/main';
import { parseDeployAppRunnerInputs } from '../../src/actions/deploy-apprunner/inputs';
import { run as deployAppRunner } from '../../src/actions/deploy-apprunner/main';
import { parseDeployEcsInputs } from '../../src/actions/deploy-ecs/inputs';
import { parsePipelineInputs } from '../../src/actions/pipeline/inputs';
import { post as pipelinePost } from '../../src/actions/pipeline-post/main';
import { parsePromoteInputs } from '../../src/actions/promote/inputs';
import { run as promote } from '../../src/actions/promote/main';
import { parseRefreshAsgInputs } from '../../src/actions/refresh-asg/inputs';
import { post as refreshAsgPost } from '../../src/actions/refresh-asg-post/main';
import { parseRollbackInputs } from '../../src/actions/rollback/inputs';
import type { ActionDeps } from '../../src/actions/runtime';
import { accountIdsIn } from '../../src/core/account-id';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import type { Logger } from '../../src/core/logger';
import type { Docker, DockerResult } from '../../src/docker/docker';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const DIGEST = `sha256:${'d'.repeat(64)}`;
const ACCOUNT = '123456789012';
const REGISTRY = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const APPRUNNER_ARN = `arn:aws:apprunner:us-east-1:${ACCOUNT}:service/web/0123456789abcdef0123456789abcdef`;

const ecr = mockClient(ECRClient);
beforeEach(() => ecr.reset());

const workspace = mkdtempSync(join(tmpdir(), 'adk-hygiene-'));
writeFileSync(join(workspace, 'Dockerfile'), 'FROM scratch\n');
const bin = join(workspace, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'docker'), '#!/bin/sh\nexit 1\n');
chmodSync(join(bin, 'docker'), 0o755);

/** One step's view of the runner: its log and every ::add-mask:: in one ordered list, and the job's state. */
interface Step {
  deps: ActionDeps;
  /** Log lines and `mask <value>` entries, in the order they happened. */
  events: string[];
  dockerCalls: string[][];
  docker: Docker;
}

function step(
  inputs: Record<string, string>,
  state: Record<string, string>,
  dockerReply: (args: string[]) => Partial<DockerResult> = () => ({}),
): Step {
  const events: string[] = [];
  const dockerCalls: string[][] = [];
  const docker: Docker = async (args) => {
    dockerCalls.push(args);
    return { exitCode: 0, stdout: '', stderr: '', ...dockerReply(args) };
  };
  const logger: Logger = {
    info: (m) => events.push(m),
    warning: (m) => events.push(`warning: ${m}`),
    error: (m) => events.push(`error: ${m}`),
    debug: (m) => events.push(`debug: ${m}`),
    group: async (title, fn) => {
      events.push(`group: ${title}`);
      return fn();
    },
  };
  const deps: ActionDeps = {
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => events.push(`output ${name}=${value}`),
    setSecret: (value) => events.push(`mask ${value}`),
    logger,
    env: { PATH: bin, GITHUB_EVENT_NAME: 'push', GITHUB_SHA: SHA },
    clock: new FakeClock(Date.parse('2030-01-02T03:04:05Z')),
    signal: new AbortController().signal,
    writeSummary: async (markdown) => {
      events.push(`summary ${markdown}`);
    },
    saveState: (name, value) => {
      state[name] = value;
    },
    getState: (name) => state[name] ?? '',
  };
  return { deps, events, dockerCalls, docker };
}

function mockEcr(options: { imageExists: boolean }) {
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ repositoryName: 'web', repositoryUri: `${REGISTRY}/web`, imageTagMutability: 'MUTABLE' }],
  });
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      { authorizationToken: Buffer.from('AWS:pw').toString('base64'), proxyEndpoint: `https://${REGISTRY}` },
    ],
  });
  const found = { imageDetails: [{ imageDigest: DIGEST, imageTags: [`sha-${SHA}`] }] };
  const images = ecr.on(DescribeImagesCommand);
  if (options.imageExists) images.resolves(found);
  else
    images
      .rejectsOnce(
        new ECRServiceException({
          name: 'ImageNotFoundException',
          $fault: 'client',
          message: 'not found',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves(found);
}

const buildInputs = { repository: 'web', region: 'us-east-1' };

describe('docker logout in the post step', () => {
  it('build-push saves the registry it logged in to; its post step logs docker out of exactly that one', async () => {
    mockEcr({ imageExists: false });
    const state: Record<string, string> = {};
    const main = step(buildInputs, state);
    await buildPush(main.deps, { docker: main.docker, cwd: workspace });
    // buildx version and buildx inspect (the builder check before a cache export), login, the build.
    expect(main.dockerCalls.map((args) => args[0])).toEqual(['buildx', 'buildx', 'login', 'buildx']);
    expect(state).toMatchObject({ 'ecr-registry': REGISTRY, 'ecr-registry-docker': join(bin, 'docker') });

    const after = step(buildInputs, state);
    await buildPushPost(after.deps, { docker: after.docker });
    expect(after.dockerCalls).toEqual([['logout', REGISTRY]]);
    expect(after.events).toContain(
      `Logged out of ${REGISTRY}: the docker config no longer holds this job's ECR login.`,
    );
  });

  it('runs no docker at all after a step that reused the image and so never logged in', async () => {
    mockEcr({ imageExists: true });
    const state: Record<string, string> = {};
    const main = step(buildInputs, state);
    await buildPush(main.deps, { docker: main.docker, cwd: workspace });
    expect(state).toEqual({});
    const after = step(buildInputs, state);
    await buildPushPost(after.deps, { docker: after.docker });
    expect(after.dockerCalls).toEqual([]);
    expect(after.events.filter((e) => !e.startsWith('debug:'))).toEqual([]);
  });

  it.each([
    [
      'docker logout fails',
      async (): Promise<DockerResult> => ({ exitCode: 1, stdout: '', stderr: 'Error: permission denied' }),
    ],
    [
      'docker cannot be run',
      async (): Promise<DockerResult> => {
        throw new Error('spawn docker ENOENT');
      },
    ],
  ])('only warns when %s: the post step never fails the job', async (_what, docker: Docker) => {
    const after = step(buildInputs, { 'ecr-registry': REGISTRY, 'ecr-registry-docker': '/usr/bin/docker' });
    await expect(buildPushPost(after.deps, { docker })).resolves.toBeUndefined();
    const warning = after.events.find((e) => e.startsWith('warning:'));
    expect(warning).toMatch(new RegExp(`^warning: Could not log out of ${REGISTRY}: .*(permission denied|ENOENT)`));
    expect(warning).toContain(`run \`docker logout ${REGISTRY}\` on the runner`);
  });

  it('the all-in-one post step logs out too, after a run that had nothing to settle', async () => {
    const state = { 'ecr-registry': REGISTRY, 'ecr-registry-docker': '/usr/bin/docker' };
    const after = step({}, state);
    await pipelinePost(after.deps, { docker: after.docker });
    expect(after.dockerCalls).toEqual([['logout', REGISTRY]]);
  });

  it('the all-in-one post step logs out even when settling an abandoned deploy fails', async () => {
    // Whatever breaks the settling (here the state itself), the registry login is still removed.
    const state = { 'ecr-registry': REGISTRY, 'ecr-registry-docker': '/usr/bin/docker' };
    const after = step({}, state);
    const getState = after.deps.getState;
    after.deps.getState = (name) => {
      if (name === 'target-kind') throw new Error('state file unreadable');
      return getState(name);
    };
    await expect(pipelinePost(after.deps, { docker: after.docker })).rejects.toThrow('state file unreadable');
    expect(after.dockerCalls).toEqual([['logout', REGISTRY]]);
  });
});

describe('mask-aws-account-id', () => {
  it('build-push masks the account before the first line that names the registry', async () => {
    mockEcr({ imageExists: false });
    const main = step({ ...buildInputs, 'mask-aws-account-id': 'true' }, {});
    await buildPush(main.deps, { docker: main.docker, cwd: workspace });
    const masked = main.events.indexOf(`mask ${ACCOUNT}`);
    const named = main.events.findIndex((e) => !e.startsWith('mask ') && e.includes(ACCOUNT));
    expect(masked).toBeGreaterThanOrEqual(0);
    expect(named).toBeGreaterThan(masked);
    expect(main.events.filter((e) => e === `mask ${ACCOUNT}`)).toHaveLength(1);
  });

  it('masks nothing by default', async () => {
    mockEcr({ imageExists: false });
    const main = step(buildInputs, {});
    await buildPush(main.deps, { docker: main.docker, cwd: workspace });
    expect(main.events.filter((e) => e.startsWith('mask '))).toEqual(['mask pw']);
  });

  it("the post step masks the registry's account before it logs the logout", async () => {
    const after = step({ 'mask-aws-account-id': 'true' }, { 'ecr-registry': REGISTRY });
    await buildPushPost(after.deps, { docker: after.docker });
    expect(after.events[0]).toBe(`mask ${ACCOUNT}`);
    expect(after.events[1]).toContain(`Logged out of ${REGISTRY}`);
  });

  it("the post steps mask the accounts their main step's inputs and state name, before they log anything", async () => {
    for (const post of [pipelinePost, refreshAsgPost]) {
      const after = step({ 'mask-aws-account-id': 'true' }, {});
      after.deps.env = {
        ...after.deps.env,
        'INPUT_SERVICE-ARN': APPRUNNER_ARN,
        STATE_PREVIOUS: '210987654321.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:0',
      };
      await post(after.deps, {});
      expect(after.events.slice(0, 2)).toEqual([`mask ${ACCOUNT}`, 'mask 210987654321']);
    }
    const unmasked = step({}, {});
    unmasked.deps.env = { ...unmasked.deps.env, 'INPUT_SERVICE-ARN': APPRUNNER_ARN };
    await pipelinePost(unmasked.deps, {});
    expect(unmasked.events.filter((e) => e.startsWith('mask '))).toEqual([]);
  });

  it('promote masks the account of the registry ECR names before it writes the image output', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .resolves({ repositories: [{ repositoryName: 'web', repositoryUri: `${REGISTRY}/web` }] });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST }, imageManifest: '{}', imageManifestMediaType: 'm' }],
    });
    ecr.on(PutImageCommand).resolves({});
    const s = step({ ...buildInputs, source: `sha-${SHA}`, tags: 'staging', 'mask-aws-account-id': 'yes' }, {});
    await promote(s.deps);
    const masked = s.events.indexOf(`mask ${ACCOUNT}`);
    expect(masked).toBeGreaterThanOrEqual(0);
    expect(s.events.findIndex((e) => e.startsWith('output image='))).toBeGreaterThan(masked);
  });

  it('deploy-apprunner masks the account of the service ARN before any AWS call', async () => {
    const { AppRunnerClient } = await import('@aws-sdk/client-apprunner');
    const apprunner = mockClient(AppRunnerClient);
    apprunner.on(DescribeServiceCommand).rejects(new Error('AccessDenied for this account'));
    const s = step(
      { 'service-arn': APPRUNNER_ARN, image: `${REGISTRY}/web@${DIGEST}`, 'mask-aws-account-id': 'true' },
      {},
    );
    await expect(deployAppRunner(s.deps, { client: apprunner as never })).rejects.toThrow();
    expect(s.events[0]).toBe(`mask ${ACCOUNT}`);
    apprunner.restore();
  });

  const ECS_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/web`;
  const parsers: [string, (read: (name: string) => string) => unknown, Record<string, string>][] = [
    ['build-push', (read) => parseBuildPushInputs(read, {}, workspace), { ...buildInputs, commit: SHA }],
    ['promote', (read) => parsePromoteInputs(read, {}), { ...buildInputs, source: 'sha-abc1234', tags: 'staging' }],
    [
      'deploy-apprunner',
      (read) => parseDeployAppRunnerInputs(read, { GITHUB_SHA: SHA }),
      { 'service-arn': APPRUNNER_ARN, image: `${REGISTRY}/web@${DIGEST}` },
    ],
    [
      'deploy-ecs',
      (read) => parseDeployEcsInputs(read, { GITHUB_SHA: SHA }),
      { 'ecs-service': ECS_ARN, image: `${REGISTRY}/web@${DIGEST}`, 'health-url': 'https://web.example.com/health' },
    ],
    [
      'refresh-asg',
      (read) => parseRefreshAsgInputs(read, { GITHUB_SHA: SHA }),
      { 'asg-name': 'web-asg', region: 'us-east-1' },
    ],
    [
      'rollback',
      (read) => parseRollbackInputs(read, {}),
      { environment: 'staging', target: 'apprunner', 'service-arn': APPRUNNER_ARN, repository: 'web' },
    ],
    [
      'the all-in-one action',
      (read) => parsePipelineInputs(read, { GITHUB_SHA: SHA }),
      { target: 'apprunner', repository: 'web', environment: 'staging', 'service-arn': APPRUNNER_ARN },
    ],
  ];

  it.each(parsers)('%s reads it as a boolean and names it when the value is not one', (_action, parse, valid) => {
    const read = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
    expect(parse(read(valid))).toMatchObject(
      _action === 'the all-in-one action' ? { build: { maskAwsAccountId: false } } : { maskAwsAccountId: false },
    );
    expect(parse(read({ ...valid, 'mask-aws-account-id': 'TRUE' }))).toMatchObject(
      _action === 'the all-in-one action' ? { build: { maskAwsAccountId: true } } : { maskAwsAccountId: true },
    );
    expect(() => parse(read({ ...valid, 'mask-aws-account-id': 'sometimes' }))).toThrow(
      new ConfigurationError('mask-aws-account-id', 'sometimes', '"true" or "false"'),
    );
  });

  it('masks an account that only an AWS answer names before the line naming it is printed', () => {
    const printed: string[] = [];
    const secrets: string[] = [];
    const logger = maskingLogger(
      {
        info: (m) => printed.push(`${secrets.length} masked: ${m}`),
        warning: (m) => printed.push(`${secrets.length} masked: warning: ${m}`),
        error: () => undefined,
        debug: () => undefined,
        group: (_title, fn) => fn(),
      },
      { setSecret: (value) => secrets.push(value) },
    );
    logger.info('Registered arn:aws:ecs:us-east-1:444455556666:task-definition/web:8');
    logger.warning('User: arn:aws:sts::444455556666:assumed-role/deploy/gha is not authorized');
    expect(secrets).toEqual(['444455556666']);
    expect(printed).toEqual([
      '1 masked: Registered arn:aws:ecs:us-east-1:444455556666:task-definition/web:8',
      '1 masked: warning: User: arn:aws:sts::444455556666:assumed-role/deploy/gha is not authorized',
    ]);
  });

  it('finds the account in registry hosts and ARNs of every partition, and nowhere else', () => {
    expect(
      accountIdsIn(
        `${REGISTRY}/web@${DIGEST}`,
        '210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com/web',
        'arn:aws-cn:ecs:cn-north-1:111122223333:task-definition/web:7',
        APPRUNNER_ARN,
      ),
    ).toEqual([ACCOUNT, '210987654321', '111122223333']);
    expect(
      accountIdsIn('127.0.0.1:5000/web', 'arn:aws:s3:::bucket-123456789012', 'build 123456789012', undefined),
    ).toEqual([]);
  });
});
