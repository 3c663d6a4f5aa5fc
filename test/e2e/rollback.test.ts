import { AppRunnerClient, UpdateServiceCommand } from '@aws-sdk/client-apprunner';
import { BatchDeleteImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { findImage, promoteImage } from '../../src/aws/ecr';
import { FakeClock } from '../../src/core/clock';
import { newRecord, parseRecord } from '../../src/core/record';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import { createDeployment, setDeploymentStatus } from '../../src/github/deployments';

// Each case deploys for real through the App Runner emulator (a few seconds each).
jest.setTimeout(180_000);

const repo = { owner: 'octo-org', repo: 'web' };
/** Commits c1..c4; each image serves its own commit at /version (VERSION=<sha>). c4 gets expired. */
const commits = { c1: 'c1'.repeat(20), c2: 'c2'.repeat(20), c3: 'c3'.repeat(20), c4: 'c4'.repeat(20) };
type Commit = keyof typeof commits;
const digests = {} as Record<Commit, string>;

let sandbox: Sandbox;
let apprunner: AppRunnerClient;
let ecr: ECRClient;
let octokit: GitHubClient;
let counter = 0;
let runIds = 100;

const uri = (c: Commit) => `${sandbox.registry.host}/app@${digests[c]}`;

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 500, healthCheckMs: 1_000, pendingMs: 200 };
  // One "second" of instance warmup lasts 10 ms.
  sandbox.autoscaling.timing = {
    bootMs: 100,
    healthCheckMs: 150,
    graceMs: 4_000,
    secondMs: 10,
    waitMs: 2_000,
    pendingMs: 100,
  };
  Object.assign(process.env, sandbox.aws.clientEnv());
  apprunner = new AppRunnerClient({});
  ecr = new ECRClient({});
  octokit = await createGitHubClient(sandbox.github.token, { apiUrl: sandbox.github.apiUrl, clock: new FakeClock() });
  sandbox.ecr.createRepository('app');

  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const [name, sha] of Object.entries(commits) as [Commit, string][]) {
    const tag = `${host}/app:sha-${sha}`;
    // --no-cache: podman's cache ignores a changed --build-arg that only feeds ENV.
    await docker(['build', '--no-cache', '-t', tag, '--build-arg', `VERSION=${sha}`, context], sandbox.env());
    await docker(['push', tag], sandbox.env());
    digests[name] = (await sandbox.registry.client.manifest('app', `sha-${sha}`))!.digest;
  }
}, 300_000);

afterAll(async () => {
  apprunner?.destroy();
  ecr?.destroy();
  await sandbox?.stop();
});

afterEach(() => sandbox.aws.faults.clear());

/** A fresh environment name per test, so that pointers and GitHub deployments never mix. */
function environment(): string {
  return `staging-${++counter}`;
}

/** An App Runner service running `c` by digest. */
async function serviceOn(c: Commit): Promise<string> {
  const created = await sandbox.apprunner.createService({
    ServiceName: `web-rollback-${++counter}`,
    SourceConfiguration: {
      ImageRepository: { ImageIdentifier: uri(c), ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } },
      AutoDeploymentsEnabled: false,
    },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 2 },
  });
  expect(await sandbox.apprunner.settled(created.ServiceArn, created.OperationId)).toBe('SUCCEEDED');
  return created.ServiceArn;
}

/** Moves the service to `c` as a deploy would, outside the action under test. */
async function deployDirectly(arn: string, c: Commit): Promise<void> {
  const out = await apprunner.send(
    new UpdateServiceCommand({
      ServiceArn: arn,
      SourceConfiguration: {
        ImageRepository: { ImageIdentifier: uri(c), ImageRepositoryType: 'ECR', ImageConfiguration: { Port: '8080' } },
        AutoDeploymentsEnabled: false,
      },
    }),
  );
  expect(await sandbox.apprunner.settled(arn, out.OperationId)).toBe('SUCCEEDED');
}

/** A GitHub deployment of `c` to `env` with the deploy record as payload, as the report action leaves it. */
async function seedDeployment(env: string, c: Commit, arn: string, state: 'success' | 'failure' = 'success') {
  const record = newRecord(commits[c], {
    environment: env,
    image: {
      repository: 'app',
      registry: sandbox.registry.host,
      uri: uri(c),
      digest: digests[c],
      tags: [`sha-${commits[c]}`],
      reused: false,
    },
    target: { kind: arn.startsWith('arn:') ? 'apprunner' : 'asg', id: arn },
    phases: [{ name: 'deploy', status: 'succeeded', startedAt: new Date().toISOString() }],
    outcome: state === 'success' ? 'succeeded' : 'failed',
    run: { runId: String(++runIds) },
  });
  const id = await createDeployment(octokit, repo, { environment: env, record });
  await setDeploymentStatus(octokit, repo, id, { state });
  return id;
}

/** The ECR pointers of `env` as a verified deploy history would leave them. */
async function pointers(env: string, current: Commit, previous?: Commit): Promise<void> {
  if (previous) await promoteImage(ecr, { repository: 'app', source: digests[previous], tags: [`previous-${env}`] });
  await promoteImage(ecr, { repository: 'app', source: digests[current], tags: [`deployed-${env}`] });
}

async function served(arn: string): Promise<string> {
  return (await (await fetch(`${sandbox.apprunner.url(arn)}/version`)).text()).trim();
}

function rollback(inputs: Record<string, string>, token: string = sandbox.github.token): Promise<BundleRun> {
  return runBundle('rollback', {
    inputs: {
      target: 'apprunner',
      repository: 'app',
      region: 'us-east-1',
      'github-token': token,
      'health-interval-seconds': '0.3',
      ...inputs,
    },
    env: sandbox.env(),
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password, sandbox.github.token],
  });
}

const deploymentsOf = (env: string) =>
  sandbox.github.repo('octo-org/web').deployments.filter((d) => d.environment === env);

async function pointerDigest(env: string, kind: 'deployed' | 'previous'): Promise<string | undefined> {
  return (await findImage(ecr, 'app', `${kind}-${env}`))?.digest;
}

describe('rollback (App Runner) against the sandbox', () => {
  it('goes back to the previous verified deployment: v1 is served again, pointers moved, deployment recorded', async () => {
    const env = environment();
    const arn = await serviceOn('c1');
    await seedDeployment(env, 'c1', arn);
    await deployDirectly(arn, 'c2');
    await seedDeployment(env, 'c2', arn);
    await pointers(env, 'c2', 'c1');
    // Another environment's deployment must be left alone.
    const other = await seedDeployment('production', 'c2', arn);
    const otherStatuses = sandbox.github.repo('octo-org/web').statusesOf(other).length;
    expect(await served(arn)).toBe(commits.c2);

    const run = await rollback({
      environment: env,
      'service-arn': arn,
      'health-url': '/version',
      'expected-version': 'sha',
    });

    expect(run.errors).toEqual([]);
    expect(run.warnings).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.sha).toBe(commits.c1);
    expect(run.outputs.image).toBe(uri('c1'));
    expect(await served(arn)).toBe(commits.c1);
    expect(run.log).toContain(`roll back to: ${uri('c1')} (commit c1c1c1c)`);
    expect(run.log).toMatch(/chosen from: +GitHub deployment \d+ \(commit c1c1c1c\) of staging-\d+/);

    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record).toMatchObject({
      commit: commits.c1,
      environment: env,
      outcome: 'succeeded',
      image: { digest: digests.c1, uri: uri('c1'), reused: true },
      target: { kind: 'apprunner', id: arn, url: sandbox.apprunner.url(arn) },
      previous: { image: uri('c2'), digest: digests.c2, commit: commits.c2 },
      health: { healthy: true },
    });
    expect(record.phases.map((p) => `${p.name}:${p.status}`)).toEqual(['rollback:succeeded']);

    // A new deployment of c1 for this environment, marked success; the older ones left for GitHub to retire.
    const deployments = deploymentsOf(env);
    expect(deployments).toHaveLength(3);
    const created = deployments.at(-1)!;
    expect(created).toMatchObject({ sha: commits.c1, payload: { outcome: 'succeeded', commit: commits.c1 } });
    expect(run.outputs['deployment-id']).toBe(String(created.id));
    expect(sandbox.github.repo('octo-org/web').latestStatus(created.id)).toMatchObject({
      state: 'success',
      environment_url: sandbox.apprunner.url(arn),
      log_url: 'https://github.com/octo-org/web/actions/runs/4242',
    });
    expect(sandbox.github.repo('octo-org/web').statusesOf(other)).toHaveLength(otherStatuses);

    expect(await pointerDigest(env, 'deployed')).toBe(digests.c1);
    expect(await pointerDigest(env, 'previous')).toBe(digests.c2);
    expect(run.summary).toContain(`### Rollback of ${env}: ✅ back on c1c1c1c`);
    expect(run.summary).toContain('the previous verified GitHub deployment');
  });

  it('rolls back to a commit named by a short SHA, past the previous deployment', async () => {
    const env = environment();
    const arn = await serviceOn('c3');
    await seedDeployment(env, 'c1', arn);
    await seedDeployment(env, 'c2', arn);
    await seedDeployment(env, 'c3', arn);

    const run = await rollback({ environment: env, 'service-arn': arn, 'to-sha': commits.c1.slice(0, 8) });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.sha).toBe(commits.c1);
    expect(await served(arn)).toBe(commits.c1);
    expect(run.log).toMatch(/chosen from: +to-sha c1c1c1c1: the ECR image tagged sha-c1c1/);
  });

  it('refuses with no previous good deployment and changes nothing', async () => {
    const env = environment();
    const arn = await serviceOn('c1');
    await seedDeployment(env, 'c1', arn);
    // A failed deploy is no rollback target.
    await seedDeployment(env, 'c2', arn, 'failure');
    const updates = sandbox.aws.callsOf('UpdateService', 'apprunner').length;
    const puts = sandbox.aws.callsOf('PutImage', 'ecr').length;

    const run = await rollback({ environment: env, 'service-arn': arn });

    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^There is no earlier verified deployment of ${env} to roll back to: it runs .*app@${digests.c1} \\(commit c1c1c1c\\).*Nothing was changed`,
        ),
      ),
    ]);
    expect(sandbox.aws.callsOf('UpdateService', 'apprunner')).toHaveLength(updates);
    expect(sandbox.aws.callsOf('PutImage', 'ecr')).toHaveLength(puts);
    expect(deploymentsOf(env)).toHaveLength(2);
    expect(await served(arn)).toBe(commits.c1);
  });

  it('skips a deployment whose image was expired (BatchDeleteImage), and refuses a to-sha of it', async () => {
    const env = environment();
    const arn = await serviceOn('c3');
    await seedDeployment(env, 'c1', arn);
    await seedDeployment(env, 'c4', arn);
    await seedDeployment(env, 'c3', arn);
    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: digests.c4 }] }));

    const refused = await rollback({ environment: env, 'service-arn': arn, 'to-sha': commits.c4 });
    expect(refused.exitCode).toBe(1);
    expect(refused.errors[0]).toMatch(/^There is no image of commit c4c4.* lifecycle policy/);
    expect(await served(arn)).toBe(commits.c3);

    const run = await rollback({ environment: env, 'service-arn': arn });
    expect(run.exitCode).toBe(0);
    expect(run.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Skipping GitHub deployment \\d+ \\(commit c4c4c4c\\): its image ${digests.c4} is no longer in the ECR repository app`,
        ),
      ),
    ]);
    expect(run.outputs.sha).toBe(commits.c1);
    expect(await served(arn)).toBe(commits.c1);
    expect(run.summary).toContain('no longer in the ECR repository app');
  });

  it('without a token, uses the ECR pointer previous-<env> and records nothing on GitHub', async () => {
    const env = environment();
    const arn = await serviceOn('c2');
    await pointers(env, 'c2', 'c1');
    const requests = sandbox.github.requests.length;

    const run = await rollback({ environment: env, 'service-arn': arn }, '');

    expect(run.exitCode).toBe(0);
    expect(run.warnings).toEqual([
      `No github-token was given: using the ECR pointer tag previous-${env} instead of GitHub deployments.`,
    ]);
    expect(run.outputs.sha).toBe(commits.c1);
    expect(await served(arn)).toBe(commits.c1);
    expect(sandbox.github.requests).toHaveLength(requests);
    expect(run.outputs['deployment-id']).toBeUndefined();
    expect(await pointerDigest(env, 'deployed')).toBe(digests.c1);
  });

  it('falls back to the ECR pointer when GitHub refuses (403), and the warning names the permission', async () => {
    const env = environment();
    const arn = await serviceOn('c2');
    await seedDeployment(env, 'c1', arn);
    await seedDeployment(env, 'c2', arn);
    await pointers(env, 'c2', 'c1');
    const readOnly = `ghs_nodeploy${counter}0123456789`;
    sandbox.github.addToken(readOnly, { permissions: { deployments: 'none' } });

    const run = await rollback({ environment: env, 'service-arn': arn }, readOnly);

    expect(run.exitCode).toBe(0);
    expect(run.warnings[0]).toMatch(
      new RegExp(
        `^Could not list the GitHub deployments of ${env}: .*\\(HTTP 403\\)\\. Add to the job: \`permissions: \\{ deployments: read \\}\`.*Using the ECR pointer tag previous-${env} instead`,
      ),
    );
    expect(run.warnings[1]).toMatch(/^Could not record the GitHub deployment of .*HTTP 403.*deployments: write/);
    expect(await served(arn)).toBe(commits.c1);
  });

  it('dry-run prints the plan and changes nothing', async () => {
    const env = environment();
    const arn = await serviceOn('c2');
    await seedDeployment(env, 'c1', arn);
    await seedDeployment(env, 'c2', arn);
    const updates = sandbox.aws.callsOf('UpdateService', 'apprunner').length;

    const run = await rollback({ environment: env, 'service-arn': arn, 'dry-run': 'true' });

    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ sha: commits.c1, image: uri('c1') });
    expect(run.outputs.record).toBeUndefined();
    expect(run.log).toContain(`runs now:     ${uri('c2')} (commit c2c2c2c)`);
    expect(run.log).toContain('dry-run is true: nothing was changed.');
    expect(run.summary).toContain('dry run: nothing changed');
    expect(sandbox.aws.callsOf('UpdateService', 'apprunner')).toHaveLength(updates);
    expect(deploymentsOf(env)).toHaveLength(2);
    expect(await pointerDigest(env, 'deployed')).toBeUndefined();
    expect(await served(arn)).toBe(commits.c2);
  });

  it('refuses a bad input before calling AWS', async () => {
    const before = sandbox.aws.calls.length;
    const run = await rollback({ environment: 'staging', 'service-arn': 'web', 'to-sha': 'abc' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/^Input 'service-arn' has an invalid value "web"/);
    expect(sandbox.aws.calls.length).toBe(before);
  });
});

describe('rollback (Auto Scaling group) against the sandbox', () => {
  it('moves the boot tag back to the previous verified digest and replaces every instance', async () => {
    const env = environment();
    const name = `web-asg-${counter}`;
    const tag = `boot-${counter}`;
    await promoteImage(ecr, { repository: 'app', source: digests.c2, tags: [tag] });
    await sandbox.autoscaling.createGroup({
      name,
      repository: 'app',
      bootTag: tag,
      instances: 2,
      healthCheckType: 'ELB',
    });
    const lb = sandbox.autoscaling.loadBalancerUrl(name);
    await seedDeployment(env, 'c1', name);
    await seedDeployment(env, 'c2', name);

    const run = await rollback({
      environment: env,
      target: 'asg',
      'asg-name': name,
      'boot-tag': tag,
      'health-url': `${lb}/version`,
      'expected-version': 'sha',
    });

    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ sha: commits.c1, image: uri('c1') });
    expect((await findImage(ecr, 'app', tag))?.digest).toBe(digests.c1);
    expect(sandbox.autoscaling.liveInstances(name).map((i) => i.digest)).toEqual([digests.c1, digests.c1]);
    expect(await (await fetch(`${lb}/version`)).text()).toContain(commits.c1);
    const record = parseRecord('record', run.outputs.record ?? '');
    expect(record).toMatchObject({
      outcome: 'succeeded',
      target: { kind: 'asg', id: name },
      previous: { digest: digests.c2, commit: commits.c2, image: uri('c2') },
      operations: [{ kind: 'instance-refresh', status: 'Successful' }],
      health: { healthy: true },
    });
    expect(run.log).toContain(`runs now:     app:${tag} (commit c2c2c2c)`);
    expect(deploymentsOf(env).at(-1)).toMatchObject({ sha: commits.c1, payload: { outcome: 'succeeded' } });
    await sandbox.autoscaling.deleteGroup(name);
  });
});
