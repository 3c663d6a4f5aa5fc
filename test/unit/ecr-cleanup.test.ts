import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { parseEcrCleanupInputs } from '../../src/actions/ecr-cleanup/inputs';
import { run } from '../../src/actions/ecr-cleanup/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { deleteImages } from '../../src/aws/ecr-cleanup';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError, DeployError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import { type CleanupRules, planCleanup, type RepositoryImage } from '../../src/deploy/cleanup-plan';
import { lifecyclePolicyFor } from '../../src/deploy/lifecycle-policy';
import { createGitHubClient } from '../../src/github/client';
import { createDeployment, setDeploymentStatus } from '../../src/github/deployments';

const NOW = new Date('2026-12-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const rules: CleanupRules = {
  keepDeployments: 2,
  keepDays: 30,
  keepTags: ['latest'],
  keepImages: [],
  includeBuildCache: false,
  now: NOW,
};
const image = (n: number, tags: string[], age = 90, extra: Partial<RepositoryImage> = {}): RepositoryImage => ({
  digest: digest(n),
  tags,
  pushedAt: daysAgo(age),
  sizeInBytes: 1000 * n,
  ...extra,
});

function planOf(images: RepositoryImage[], more: Partial<Parameters<typeof planCleanup>[0]> = {}, r = rules) {
  const plan = planCleanup({ images, deployments: [], running: [], ...more }, r);
  const why = Object.fromEntries(plan.images.map((i) => [i.digest, `${i.action}: ${i.reasons.join('; ')}`]));
  return { plan, why };
}

describe('planCleanup: what a cleanup keeps', () => {
  it('keeps every pointer tag of every environment and service, and the environment tags they name', () => {
    const { plan, why } = planOf([
      image(1, ['deployed-staging', 'sha-1111111']),
      image(2, ['previous-production.backend']),
      image(3, ['production']),
      image(4, ['sha-4444444']),
    ]);
    expect(why[digest(1)]).toBe('keep: pointer deployed-staging');
    expect(why[digest(2)]).toBe('keep: pointer previous-production.backend');
    // The tag an Auto Scaling group's instances pull at boot.
    expect(why[digest(3)]).toBe('keep: environment tag production');
    expect(why[digest(4)]).toBe('delete: no rollback target, older than 30 days');
    expect(plan).toMatchObject({ kept: 3, deleted: 1, bytesFreed: 4000, waves: [[digest(4)]] });
  });

  it('keeps the newest N verified deployments of each environment and service, not older ones', () => {
    const images = [1, 2, 3, 4, 5].map((n) => image(n, [`sha-${String(n).repeat(7)}`]));
    const deployments = [
      { id: 10, environment: 'production', digest: digest(1) },
      { id: 11, environment: 'production', digest: digest(2) },
      { id: 12, environment: 'production', digest: digest(3) },
      { id: 13, environment: 'production', service: 'backend', digest: digest(4) },
      { id: 14, environment: 'staging', digest: digest(5) },
    ];
    const { why } = planOf(images, { deployments });
    expect(why[digest(1)]).toMatch(/^delete/);
    expect(why[digest(2)]).toBe('keep: verified deployment 11 of production');
    expect(why[digest(3)]).toBe('keep: verified deployment 12 of production');
    expect(why[digest(4)]).toBe('keep: verified deployment 13 of production · backend');
    expect(why[digest(5)]).toBe('keep: verified deployment 14 of staging');
  });

  it('keeps what a target runs, keep-tags patterns, keep-images, young images and build cache', () => {
    const { why } = planOf(
      [
        image(1, []),
        image(2, ['release-2026-11']),
        image(3, []),
        image(4, [], 29),
        image(5, ['buildcache']),
        image(6, ['latest']),
        image(7, [], 31),
      ],
      { running: [{ label: 'App Runner service web', digest: digest(1) }] },
      { ...rules, keepTags: ['latest', 'release-*'], keepImages: [digest(3)] },
    );
    expect(why[digest(1)]).toBe('keep: runs now on App Runner service web');
    expect(why[digest(2)]).toBe('keep: tag release-2026-11 (keep-tags)');
    expect(why[digest(3)]).toBe('keep: named in keep-images');
    expect(why[digest(4)]).toBe('keep: younger than 30 days');
    expect(why[digest(5)]).toBe('keep: build cache (include-build-cache)');
    expect(why[digest(6)]).toBe('keep: tag latest (keep-tags)');
    expect(why[digest(7)]).toBe('delete: untagged, older than 30 days');
  });

  it('deletes build cache when asked to', () => {
    const { why } = planOf([image(5, ['buildcache-amd64'])], {}, { ...rules, includeBuildCache: true });
    expect(why[digest(5)]).toMatch(/^delete/);
  });

  it('keeps the platform images a kept index lists, and deletes an index before the images it lists', () => {
    const { plan, why } = planOf([
      image(1, ['deployed-staging'], 90, { children: [digest(2), digest(3)] }),
      image(2, []),
      image(3, []),
      image(4, ['sha-4444444'], 90, { children: [digest(5)] }),
      image(5, []),
    ]);
    expect(why[digest(2)]).toBe(`keep: listed by the kept image index ${digest(1).slice(0, 19)}…`);
    expect(why[digest(3)]).toMatch(/^keep: listed by the kept image index/);
    expect(plan.waves).toEqual([[digest(4)], [digest(5)]]);
  });
});

describe('lifecyclePolicyFor', () => {
  it('claims each pointer pattern with its own never-expiring rule before untagged images expire', () => {
    const policy = lifecyclePolicyFor({ untaggedDays: 14, keepTags: ['latest'], includeBuildCache: false });
    expect(policy.rules.map((r) => [r.rulePriority, r.selection.tagStatus, r.selection.tagPatternList])).toEqual([
      [1, 'tagged', ['deployed-*']],
      [2, 'tagged', ['previous-*']],
      [3, 'tagged', ['buildcache*']],
      [4, 'tagged', ['latest']],
      [100, 'untagged', undefined],
    ]);
    expect(policy.rules.at(-1)!.selection).toEqual({
      tagStatus: 'untagged',
      countType: 'sinceImagePushed',
      countUnit: 'days',
      countNumber: 14,
    });
  });
});

describe('deleteImages', () => {
  const ecr = mockClient(ECRClient);
  beforeEach(() => ecr.reset());

  it('sends at most 100 image ids per BatchDeleteImage and reports the failures ECR returns', async () => {
    ecr.on(BatchDeleteImageCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => ({
      imageIds: input.imageIds.filter((id) => id.imageDigest !== digest(7) && id.imageDigest !== digest(8)),
      failures: [
        { imageId: { imageDigest: digest(7) }, failureCode: 'ImageReferencedByManifestList', failureReason: 'in use' },
        { imageId: { imageDigest: digest(8) }, failureCode: 'ImageNotFound', failureReason: 'gone' },
      ].filter((f) => input.imageIds.some((id) => id.imageDigest === f.imageId.imageDigest)),
    }));
    const digests = Array.from({ length: 250 }, (_, i) => digest(i));
    const result = await deleteImages(new ECRClient({ region: 'us-east-1' }), 'web', digests);
    expect(ecr.commandCalls(BatchDeleteImageCommand).map((c) => c.args[0].input.imageIds?.length)).toEqual([
      100, 100, 50,
    ]);
    // Already gone counts as deleted; refused is reported, not thrown.
    expect(result.deleted).toHaveLength(249);
    expect(result.failures).toEqual([{ digest: digest(7), code: 'ImageReferencedByManifestList', reason: 'in use' }]);
  });
});

describe('parseEcrCleanupInputs', () => {
  const parse = (inputs: Record<string, string>) =>
    parseEcrCleanupInputs((name) => inputs[name] ?? '', { AWS_REGION: 'us-east-1' });

  it('is a dry run keeping latest, 10 deployments and 30 days unless told otherwise', () => {
    expect(parse({ repository: 'web' })).toMatchObject({
      dryRun: true,
      keepDeployments: 10,
      keepDays: 30,
      keepTags: ['latest'],
      includeBuildCache: false,
      keepWithoutHistory: false,
      lifecyclePolicy: false,
    });
  });

  it.each([
    [{ 'keep-days': '-1' }, 'keep-days', '-1'],
    [{ 'keep-deployments': '0' }, 'keep-deployments', '0'],
    [{ 'keep-tags': 'a*b*c*d*e*f' }, 'keep-tags', 'a*b*c*d*e*f'],
    [{ 'keep-images': 'sha256:abc' }, 'keep-images', 'sha256:abc'],
    [{ 'dry-run': 'maybe' }, 'dry-run', 'maybe'],
    [{ 'lifecycle-policy': 'true', 'keep-days': '0' }, 'keep-days', '0'],
    [{ target: 'apprunner', 'service-arn': 'arn:x' }, 'environment', ''],
    [{ target: 'lambda', environment: 'production' }, 'target', 'lambda'],
  ])('refuses %j naming the input', (inputs, input, given) => {
    const error = (() => {
      try {
        parse({ repository: 'web', ...inputs });
      } catch (e) {
        return e;
      }
    })() as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.input).toBe(input);
    expect(error.given ?? '').toBe(given);
  });
});

describe('ecr-cleanup step', () => {
  const ecr = mockClient(ECRClient);
  const repo = { owner: 'octo-org', repo: 'web' };
  let github: GitHubEmulator;
  beforeEach(async () => {
    ecr.reset();
    github = await startGitHubEmulator();
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: 'web', repositoryUri: '1.dkr.ecr.us-east-1.amazonaws.com/web' }],
    });
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [1, 2, 3].map((n) => ({
        imageDigest: digest(n),
        imageTags: [`sha-${String(n).repeat(7)}`],
        imagePushedAt: daysAgo(60),
        imageSizeInBytes: 1_048_576,
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      })),
    });
    ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [] });
    ecr.on(BatchDeleteImageCommand).callsFake((input: { imageIds: unknown[] }) => ({
      imageIds: input.imageIds,
      failures: [],
    }));
  });
  afterEach(() => github.stop());

  function deps(inputs: Record<string, string>) {
    const outputs: Record<string, string> = {};
    const logger = captureLogger();
    let summary = '';
    const d = {
      getInput: (name: string) => inputs[name] ?? '',
      setOutput: (name: string, value: string) => {
        outputs[name] = value;
      },
      setSecret: () => {},
      logger,
      env: { AWS_REGION: 'us-east-1', GITHUB_REPOSITORY: 'octo-org/web', GITHUB_API_URL: github.apiUrl },
      clock: new FakeClock(NOW.getTime()),
      signal: new AbortController().signal,
      writeSummary: async (markdown: string) => {
        summary += markdown;
      },
      saveState: () => {},
      getState: () => '',
    } as unknown as ActionDeps;
    return { deps: d, outputs, logger, summary: () => summary };
  }

  async function verified(n: number, environment: string) {
    const octokit = await createGitHubClient(github.token, { apiUrl: github.apiUrl, clock: new FakeClock() });
    const record = newRecord(String(n).repeat(40), {
      environment,
      service: 'web',
      image: {
        repository: 'web',
        registry: 'r',
        uri: `r/web@${digest(n)}`,
        digest: digest(n),
        tags: [],
        reused: false,
      },
      outcome: 'succeeded',
    });
    const id = await createDeployment(octokit, repo, { environment, record });
    await setDeploymentStatus(octokit, repo, id, { state: 'success' });
    await setDeploymentStatus(octokit, repo, id, { state: 'inactive' });
    return id;
  }

  it('keeps the images of verified deployments, inactive after success too, and deletes the rest', async () => {
    const id = await verified(2, 'production');
    const step = deps({ repository: 'web', 'github-token': github.token, 'dry-run': 'false' });
    await run(step.deps, { ecr: new ECRClient({ region: 'us-east-1' }) });
    const deleted = ecr.commandCalls(BatchDeleteImageCommand).flatMap((c) => c.args[0].input.imageIds ?? []);
    expect(deleted).toEqual([{ imageDigest: digest(1) }, { imageDigest: digest(3) }]);
    expect(step.outputs).toMatchObject({ 'deleted-count': '2', 'kept-count': '1', 'bytes-freed': '2097152' });
    expect(JSON.parse(step.outputs.plan!).images).toContainEqual(
      expect.objectContaining({
        digest: digest(2),
        action: 'keep',
        reasons: [`verified deployment ${id} of production · web`],
      }),
    );
    expect(step.summary()).toContain('2 image(s) deleted, 2.0 MiB freed');
  });

  it('is a dry run by default: the plan is printed, nothing is deleted', async () => {
    const step = deps({ repository: 'web', 'github-token': github.token });
    await run(step.deps, { ecr: new ECRClient({ region: 'us-east-1' }) });
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);
    expect(step.outputs['deleted-count']).toBe('0');
    expect(step.logger.lines.join('\n')).toMatch(/delete +sha256:0{12}… {2}sha-1111111/);
    expect(step.summary()).toContain('dry run, 3 image(s) would go (3.0 MiB)');
  });

  it.each([
    ['no token', '', /no github-token was given/],
    ['a rejected token', 'ghs_wrong', /Bad credentials \(HTTP 401\)/],
  ])('refuses with %s unless keep-without-history is true', async (_, token, why) => {
    const refused = deps({ repository: 'web', 'github-token': token, 'dry-run': 'false' });
    const error = await run(refused.deps, { ecr: new ECRClient({ region: 'us-east-1' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toContain('Nothing was deleted. Set keep-without-history: true');
    expect(ecr.commandCalls(BatchDeleteImageCommand)).toHaveLength(0);

    const allowed = deps({
      repository: 'web',
      'github-token': token,
      'keep-without-history': 'true',
      'dry-run': 'false',
    });
    await run(allowed.deps, { ecr: new ECRClient({ region: 'us-east-1' }) });
    expect(allowed.outputs['deleted-count']).toBe('3');
    expect(allowed.logger.lines.filter((l) => l.startsWith('warning:')).join('\n')).toMatch(why);
  });
});
