import { DescribeImagesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { promoteImage } from '../../src/aws/ecr';
import { FakeClock } from '../../src/core/clock';
import { newRecord } from '../../src/core/record';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import { createDeployment, setDeploymentStatus } from '../../src/github/deployments';

// The shipped ecr-cleanup bundle against the sandbox: a dry run that changes nothing, the real cleanup, and then the
// rollback bundle, which must still find (and serve) the image the cleanup kept for it.
jest.setTimeout(240_000);

const repo = { owner: 'octo-org', repo: 'web' };
const sha = (c: string) => c.repeat(20);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let sandbox: Sandbox;
let ecr: ECRClient;
let octokit: GitHubClient;
let runIds = 500;
/** Images by name: c1 and c2 are real builds serving their commit at /version; the others are manifest variants. */
const digests: Record<string, string> = {};

async function build(name: string): Promise<void> {
  const { host } = sandbox.registry;
  const tag = `${host}/app:sha-${sha(name)}`;
  // --no-cache: podman's cache ignores a changed --build-arg that only feeds ENV.
  await docker(
    ['build', '--no-cache', '-t', tag, '--build-arg', `VERSION=${sha(name)}`, await sampleAppContext()],
    sandbox.env(),
  );
  await docker(['push', tag], sandbox.env());
  digests[name] = (await sandbox.registry.client.manifest('app', `sha-${sha(name)}`))!.digest;
}

/** Another image over c1's blobs (an OCI manifest with an annotation): a distinct digest without a build. */
async function variant(name: string, tag?: string): Promise<void> {
  const source = JSON.parse((await sandbox.registry.client.manifest('app', digests.c1!))!.bytes.toString('utf8')) as {
    config: Record<string, unknown>;
    layers: Record<string, unknown>[];
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { ...source.config, mediaType: 'application/vnd.oci.image.config.v1+json' },
    layers: source.layers.map((l) => ({ ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
    annotations: { variant: name },
  });
  const out = await ecr.send(
    new PutImageCommand({
      repositoryName: 'app',
      imageManifest: manifest,
      imageManifestMediaType: OCI_MANIFEST,
      ...(tag ? { imageTag: tag } : {}),
    }),
  );
  digests[name] = out.image!.imageId!.imageDigest!;
}

async function deployment(environment: string, name: string, states: ('success' | 'failure' | 'inactive')[]) {
  const record = newRecord(sha(name), {
    environment,
    image: {
      repository: 'app',
      registry: sandbox.registry.host,
      uri: `${sandbox.registry.host}/app@${digests[name]}`,
      digest: digests[name]!,
      tags: [`sha-${sha(name)}`],
      reused: false,
    },
    target: { kind: 'apprunner', id: 'arn:aws:apprunner:us-east-1:123456789012:service/web/x' },
    outcome: states.includes('success') ? 'succeeded' : 'failed',
    run: { runId: String(++runIds) },
  });
  const id = await createDeployment(octokit, repo, { environment, record });
  for (const state of states) await setDeploymentStatus(octokit, repo, id, { state });
  return id;
}

async function present(): Promise<Set<string>> {
  const out = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));
  return new Set((out.imageDetails ?? []).map((d) => d.imageDigest!));
}

function cleanup(inputs: Record<string, string>): Promise<BundleRun> {
  return runBundle('ecr-cleanup', {
    inputs: { repository: 'app', region: 'us-east-1', 'github-token': sandbox.github.token, ...inputs },
    env: sandbox.env(),
    secrets: [sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password, sandbox.github.token],
  });
}

let serviceArn: string;
const ids: Record<string, number> = {};

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.apprunner.timing = { deployMs: 500, healthCheckMs: 1_000, pendingMs: 200 };
  Object.assign(process.env, sandbox.aws.clientEnv());
  ecr = new ECRClient({});
  octokit = await createGitHubClient(sandbox.github.token, { apiUrl: sandbox.github.apiUrl, clock: new FakeClock() });
  sandbox.ecr.createRepository('app');
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  await build('c1');
  await build('c2');
  await variant('c3', `sha-${sha('c3')}`);
  await variant('c4', `sha-${sha('c4')}`);
  await variant('c5', `sha-${sha('c5')}`);
  await variant('untagged');
  await variant('cache', 'buildcache');

  // staging ran c1, then c2 (verified both; c1 retired by c2), then c3 failed and was rolled back to c2.
  ids.c1 = await deployment('staging', 'c1', ['success', 'inactive']);
  ids.c2 = await deployment('staging', 'c2', ['success']);
  ids.c3 = await deployment('staging', 'c3', ['failure']);
  // production verified c4; c5 was never deployed anywhere.
  ids.c4 = await deployment('production', 'c4', ['success']);
  await promoteImage(ecr, { repository: 'app', source: digests.c1!, tags: ['previous-staging'] });
  await promoteImage(ecr, { repository: 'app', source: digests.c2!, tags: ['deployed-staging'] });

  const created = await sandbox.apprunner.createService({
    ServiceName: 'web-cleanup',
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: `${host}/app@${digests.c2}`,
        ImageRepositoryType: 'ECR',
        ImageConfiguration: { Port: '8080' },
      },
      AutoDeploymentsEnabled: false,
    },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', HealthyThreshold: 2 },
  });
  expect(await sandbox.apprunner.settled(created.ServiceArn, created.OperationId)).toBe('SUCCEEDED');
  serviceArn = created.ServiceArn;
}, 400_000);

afterAll(async () => {
  ecr?.destroy();
  await sandbox?.stop();
});

const served = async () => (await (await fetch(`${sandbox.apprunner.url(serviceArn)}/version`)).text()).trim();

describe('ecr-cleanup bundle against the sandbox', () => {
  it('refuses when GitHub rejects the token, names keep-without-history, and deletes nothing', async () => {
    const before = await present();
    const run = await cleanup({ 'github-token': 'ghs_not_a_token', 'dry-run': 'false', 'keep-days': '0' });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toMatch(/Could not read the GitHub Deployments of octo-org\/web.*HTTP 401/);
    expect(run.errors.join('\n')).toContain('Set keep-without-history: true');
    expect(await present()).toEqual(before);
  });

  it('plans in a dry run, deletes on the real run, and the rollback afterwards still goes back to its image', async () => {
    const inputs = {
      'keep-deployments': '2',
      'keep-days': '0',
      target: 'apprunner',
      environment: 'staging',
      'service-arn': serviceArn,
    };
    const before = await present();
    expect(before.size).toBe(7);

    // 1. The dry run (the default): the plan, and nothing deleted.
    const dry = await cleanup(inputs);
    expect(dry.errors).toEqual([]);
    expect(dry.exitCode).toBe(0);
    expect(await present()).toEqual(before);
    expect(dry.outputs['deleted-count']).toBe('0');
    const plan = JSON.parse(dry.outputs.plan ?? '{}') as {
      toDelete: number;
      images: { digest: string; action: string; reasons: string[] }[];
    };
    const why = Object.fromEntries(plan.images.map((i) => [i.digest, `${i.action}: ${i.reasons.join('; ')}`]));
    expect(why[digests.c1!]).toBe(`keep: pointer previous-staging; verified deployment ${ids.c1} of staging`);
    expect(why[digests.c2!]).toBe(
      `keep: pointer deployed-staging; verified deployment ${ids.c2} of staging; runs now on App Runner service web-cleanup`,
    );
    expect(why[digests.c3!]).toBe('delete: no rollback target, older than 0 days');
    expect(why[digests.c4!]).toBe(`keep: verified deployment ${ids.c4} of production`);
    expect(why[digests.c5!]).toMatch(/^delete/);
    expect(why[digests.untagged!]).toBe('delete: untagged, older than 0 days');
    expect(why[digests.cache!]).toBe('keep: build cache (include-build-cache)');
    expect(plan.toDelete).toBe(3);
    expect(dry.log).toMatch(/delete +sha256:\S+ +sha-c3c3/);
    expect(dry.summary).toContain('dry run, 3 image(s) would go');
    expect(dry.summary).toContain('| Action | Image | Tags | Pushed | Size | Why |');
    expect(dry.summary).toContain('set `dry-run: false` once this plan is right');

    // 2. A real run with keep-days 7 keeps everything pushed minutes ago, and writes the lifecycle policy.
    const young = await cleanup({ ...inputs, 'dry-run': 'false', 'lifecycle-policy': 'true', 'keep-days': '7' });
    expect(young.errors).toEqual([]);
    expect(young.exitCode).toBe(0);
    expect(young.outputs['deleted-count']).toBe('0');
    expect(await present()).toEqual(before);
    expect(young.outputs['lifecycle-policy']).toBe('written');
    const policy = JSON.parse(sandbox.ecr.lifecyclePolicies.get('app') ?? '{}') as {
      rules: { selection: { tagStatus: string; tagPatternList?: string[]; countNumber: number } }[];
    };
    expect(policy.rules.map((r) => r.selection.tagPatternList?.[0] ?? r.selection.tagStatus)).toEqual([
      'deployed-*',
      'previous-*',
      'buildcache*',
      'latest',
      'untagged',
    ]);
    expect(policy.rules.at(-1)?.selection.countNumber).toBe(7);

    // 3. The real cleanup.
    const wet = await cleanup({ ...inputs, 'dry-run': 'false' });
    expect(wet.errors).toEqual([]);
    expect(wet.warnings).toEqual([]);
    expect(wet.exitCode).toBe(0);
    expect(wet.outputs['deleted-count']).toBe('3');
    expect(wet.outputs['kept-count']).toBe('4');
    const left = await present();
    expect([...left].sort()).toEqual([digests.c1, digests.c2, digests.c4, digests.cache].sort());
    expect(Number(wet.outputs['bytes-freed'])).toBeGreaterThan(0);
    expect(wet.summary).toMatch(/3 image\(s\) deleted, [\d.]+ (B|KiB|MiB) freed/);

    // 4. The rollback still works: its target (the previous verified deployment, c1) was kept.
    const rollback = await runBundle('rollback', {
      inputs: {
        environment: 'staging',
        target: 'apprunner',
        'service-arn': serviceArn,
        repository: 'app',
        region: 'us-east-1',
        'github-token': sandbox.github.token,
        'health-url': '/version',
        'expected-version': 'sha',
        'health-interval-seconds': '0.3',
      },
      env: sandbox.env(),
      secrets: [sandbox.registry.password, sandbox.github.token],
    });
    expect(rollback.errors).toEqual([]);
    expect(rollback.exitCode).toBe(0);
    expect(rollback.outputs.sha).toBe(sha('c1'));
    expect(await served()).toBe(sha('c1'));
  });
});
