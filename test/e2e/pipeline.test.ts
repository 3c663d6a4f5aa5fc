import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import type { DeployRecord } from '../../src/core/record';

let sandbox: Sandbox;
let context: string;
let serviceArn: string;
const shaA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
const shaB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 300, healthCheckMs: 1_000, pendingMs: 100 };
  sandbox.ecr.createRepository('web');
  sandbox.github.addPullRequest('octo-org/web', { number: 12, headSha: shaA });
  context = await sampleAppContext();

  // The service exists before the first deploy (App Runner services are created once, outside the pipeline). Its own
  // health check is TCP, as many services have it: only our HTTP check can notice a broken /health.
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  await docker(['build', '-t', `${host}/web:bootstrap`, '--build-arg', 'VERSION=bootstrap', context], sandbox.env());
  await docker(['push', `${host}/web:bootstrap`], sandbox.env());
  const created = await sandbox.apprunner.createService({
    ServiceName: 'web-staging',
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: `${host}/web:bootstrap`,
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: false,
    },
    HealthCheckConfiguration: { Protocol: 'TCP' },
  });
  await sandbox.apprunner.settled(created.ServiceArn, created.OperationId);
  serviceArn = created.ServiceArn;
});

afterAll(async () => {
  await sandbox?.stop();
});

function pipeline(sha: string, extra: Record<string, string> = {}) {
  return runBundle('pipeline', {
    inputs: {
      target: 'apprunner',
      repository: 'web',
      environment: 'staging',
      'service-arn': serviceArn,
      context,
      'build-args': `VERSION=${sha}`,
      'github-token': sandbox.github.token,
      'health-timeout-minutes': '0.2',
      'health-interval-seconds': '0.5',
      ...extra,
    },
    env: { ...sandbox.env(), GITHUB_SHA: sha },
    secrets: [sandbox.registry.password, sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.github.token],
  });
}

async function served(): Promise<string> {
  return (await (await fetch(`${sandbox.apprunner.url(serviceArn)}/version`)).text()).trim();
}

describe('the all-in-one action against the sandbox', () => {
  it('builds, deploys, verifies the new version, moves the environment pointers and reports', async () => {
    const run = await pipeline(shaA);
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.outcome).toBe('succeeded');
    expect(await served()).toBe(shaA);

    const record = JSON.parse(run.outputs.record ?? '{}') as DeployRecord;
    expect(record.phases.map((p) => [p.name, p.status])).toEqual([
      ['build', 'succeeded'],
      ['deploy', 'succeeded'],
      ['verify', 'succeeded'],
      ['promote', 'succeeded'],
    ]);
    const digest = run.outputs.digest;
    const tagsOf = async (tag: string) => (await sandbox.registry.client.manifest('web', tag))?.digest;
    expect(await tagsOf('deployed-staging')).toBe(digest);
    expect(await tagsOf('staging')).toBe(digest);
    expect(await tagsOf(`sha-${shaA}`)).toBe(digest);
    // A staging deploy leaves `latest` alone: no latest-environment is set, so no environment moves it.
    expect(await tagsOf('latest')).toBeUndefined();
    expect(run.log).toContain('moved web:staging to');
    expect(run.log).toContain('latest not moved (no latest-environment is set)');

    const repo = sandbox.github.repo('octo-org/web');
    expect(repo.comments).toHaveLength(1);
    expect(repo.comments[0]?.body).toContain('✅ live');
    expect(run.summary).toContain(shaA.slice(0, 7));
  });

  it('rolls back to the previous image when the new version fails our health check, and fails the step', async () => {
    const run = await pipeline(shaB, { 'build-args': `VERSION=${shaB}\nHEALTH=fail` });
    expect(run.exitCode).toBe(1);
    expect(run.outputs.outcome).toBe('rolled-back');
    expect(run.errors.join('\n')).toMatch(/did not succeed \(rolled back/);
    // The old version really serves again, and the pointer still names it.
    expect(await served()).toBe(shaA);
    const deployed = await sandbox.registry.client.manifest('web', 'deployed-staging');
    expect(deployed?.digest).toBe((await sandbox.registry.client.manifest('web', `sha-${shaA}`))?.digest);
    expect(sandbox.github.repo('octo-org/web').comments).toHaveLength(1);
  });

  it('prints the plan on a dry run and changes nothing', async () => {
    const callsBefore = sandbox.aws.calls.length;
    const run = await pipeline('cccccccccccccccccccccccccccccccccccccc33', { 'dry-run': 'true' });
    expect(run.exitCode).toBe(0);
    expect(run.log).toContain('build and push web:sha-cccccccccccccccccccccccccccccccccccccc33');
    expect(run.log).toMatch(/rollback a manual rollback now would go to/);
    const changing = sandbox.aws.calls
      .slice(callsBefore)
      .filter((c) => !/^(Describe|List|BatchGet|GetAuth)/.test(c.operation));
    expect(changing).toEqual([]);
    expect(await served()).toBe(shaA);
  });

  it('refuses bad input before any AWS call', async () => {
    const callsBefore = sandbox.aws.calls.length;
    const run = await pipeline(shaA, { target: 'lambda' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toBe(
      `Input 'target' has an invalid value "lambda": expected one of "apprunner", "asg", "ecs", "ecs-express".`,
    );
    expect(sandbox.aws.calls.length).toBe(callsBefore);
  });

  it('refuses a bad service ARN or refresh preference before building anything or calling AWS', async () => {
    const callsBefore = sandbox.aws.calls.length;
    const tagsBefore = await sandbox.registry.client.tags('web');
    const badArn = await pipeline('dddddddddddddddddddddddddddddddddddddd44', {
      'service-arn': 'arn:aws:apprunner:nowhere',
    });
    expect(badArn.exitCode).toBe(1);
    expect(badArn.errors[0]).toMatch(/^Input 'service-arn' has an invalid value "arn:aws:apprunner:nowhere"/);
    const badPreference = await pipeline('dddddddddddddddddddddddddddddddddddddd44', {
      target: 'asg',
      'asg-name': 'web-asg',
      'health-url': 'http://127.0.0.1:1/health',
      'min-healthy-percentage': '150',
    });
    expect(badPreference.exitCode).toBe(1);
    expect(badPreference.errors[0]).toMatch(/^Input 'min-healthy-percentage' has an invalid value "150"/);
    expect(sandbox.aws.calls.length).toBe(callsBefore);
    expect(await sandbox.registry.client.tags('web')).toEqual(tagsBefore);
  });

  it.each(['staging;x', 'staging\nx', '-staging'])(
    'refuses the environment %j before building anything or calling AWS, and fails the step',
    async (environment) => {
      const callsBefore = sandbox.aws.calls.length;
      const tagsBefore = await sandbox.registry.client.tags('web');
      const run = await pipeline('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee55', { environment });
      expect(run.exitCode).toBe(1);
      expect(run.errors[0]).toMatch(/^Input 'environment' has an invalid value /);
      expect(sandbox.aws.calls.length).toBe(callsBefore);
      expect(await sandbox.registry.client.tags('web')).toEqual(tagsBefore);
    },
  );

  it('moves latest after a verified deploy only for the environment named by latest-environment', async () => {
    const shaF = 'ffffffffffffffffffffffffffffffffffffff66';
    const elsewhere = await pipeline(shaF, { 'latest-environment': 'production' });
    expect(elsewhere.exitCode).toBe(0);
    expect(await sandbox.registry.client.manifest('web', 'latest')).toBeUndefined();
    expect(elsewhere.log).toContain('latest not moved (latest-environment is production)');

    const owner = await pipeline(shaF, { 'latest-environment': 'staging' });
    expect(owner.exitCode).toBe(0);
    expect((await sandbox.registry.client.manifest('web', 'latest'))?.digest).toBe(owner.outputs.digest);
    expect(owner.log).toContain('moved web:staging and web:latest to');
  });

  it('checks the environment on a dry run too, before its first AWS call', async () => {
    const callsBefore = sandbox.aws.calls.length;
    const run = await pipeline(shaA, { environment: 'staging;x', 'dry-run': 'true' });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/^Input 'environment' has an invalid value "staging;x"/);
    expect(sandbox.aws.calls.length).toBe(callsBefore);
  });

  it('with mask-aws-account-id masks the account before any line names it; the post step logs docker out', async () => {
    const shaG = 'dddddddddddddddddddddddddddddddddddddd77';
    const account = /:(\d{12}):/.exec(serviceArn)?.[1] as string;
    const run = await pipeline(shaG, { 'mask-aws-account-id': 'true' });
    expect(run.exitCode).toBe(0);
    const lines = run.log.split('\n');
    const masked = lines.indexOf(`::add-mask::${account}`);
    expect(masked).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((line) => line.includes(account) && !line.startsWith('::add-mask::'))).toBeGreaterThan(
      masked,
    );

    const host = sandbox.registry.host;
    const config = join(sandbox.env().DOCKER_CONFIG ?? '', 'config.json');
    const auths = () => JSON.parse(readFileSync(config, 'utf8')).auths ?? {};
    expect(run.state['ecr-registry']).toBe(host);
    expect(auths()).toHaveProperty([host]);
    const post = await runBundle('pipeline-post', {
      inputs: { 'mask-aws-account-id': 'true' },
      env: sandbox.env(),
      state: run.state,
    });
    expect(post.exitCode).toBe(0);
    expect(post.warnings).toEqual([]);
    expect(post.log).toContain(`Logged out of ${host}: the docker config no longer holds this job's ECR login.`);
    expect(auths()).not.toHaveProperty([host]);
  });
});
