import type { FoundImage } from '../../src/aws/ecr';
import { captureLogger } from '../../src/core/logger';
import { newRecord } from '../../src/core/record';
import type { PointedImage } from '../../src/deploy/pointers';
import {
  planRollback,
  RollbackRefusedError,
  type RollbackRequest,
  type RollbackSources,
  type RunningImage,
} from '../../src/deploy/rollback-plan';
import type { PreviousDeployment } from '../../src/github/deployments';

const sha = (n: number) => n.toString(16).repeat(40).slice(0, 40);
const digest = (n: number) => `sha256:${n.toString(16).repeat(64).slice(0, 64)}`;
const image = (n: number, ...extra: string[]): FoundImage => ({ digest: digest(n), tags: [`sha-${sha(n)}`, ...extra] });

/** A verified deployment of commit n (image n); ids grow with n unless given. */
function deployment(n: number, options: { id?: number; rollbackFrom?: number; noDigest?: boolean } = {}) {
  const record = newRecord(sha(n), {
    environment: 'staging',
    outcome: 'succeeded',
    ...(options.noDigest
      ? {}
      : {
          image: {
            repository: 'web',
            registry: 'r',
            uri: `r/web@${digest(n)}`,
            digest: digest(n),
            tags: [],
            reused: false,
          },
        }),
    phases: [
      {
        name: options.rollbackFrom ? 'rollback' : 'deploy',
        status: 'succeeded',
        startedAt: '2025-01-01T00:00:00Z',
      },
    ],
    ...(options.rollbackFrom ? { previous: { digest: digest(options.rollbackFrom) } } : {}),
  });
  const d: PreviousDeployment = {
    id: options.id ?? 1000 + n,
    sha: sha(n),
    environment: 'staging',
    createdAt: '2025-01-01T00:00:00Z',
    state: 'success',
    record,
  };
  return d;
}

interface World {
  images: FoundImage[];
  /** Verified deployments, any order: served newest (highest id) first. */
  deployments?: PreviousDeployment[];
  githubError?: unknown;
  previous?: PointedImage;
}

function sourcesOf(world: World): RollbackSources & { listed: number } {
  const sources: RollbackSources & { listed: number } = {
    listed: 0,
    findImage: async (ref) => world.images.find((i) => i.digest === ref || i.tags.includes(ref)),
    listTaggedImages: async () => {
      sources.listed++;
      return world.images.filter((i) => i.tags.length > 0);
    },
    previousPointer: async () => world.previous,
  };
  if (world.deployments || world.githubError) {
    sources.deployments = async (before) => {
      if (world.githubError) throw world.githubError;
      return [...(world.deployments ?? [])]
        .sort((a, b) => b.id - a.id)
        .find((d) => before === undefined || d.id < before);
    };
  } else {
    sources.noDeploymentsReason = 'No github-token was given';
  }
  return sources;
}

function running(n: number): RunningImage {
  return { reference: `r/web@${digest(n)}`, digest: digest(n), commit: sha(n) };
}

function request(current: RunningImage, toSha?: string): RollbackRequest {
  return { environment: 'staging', repository: 'web', current, ...(toSha ? { toSha } : {}) };
}

async function plan(world: World, current: RunningImage, toSha?: string) {
  const logger = captureLogger();
  const result = await planRollback(request(current, toSha), sourcesOf(world), logger);
  return { plan: result, lines: logger.lines };
}

async function refusal(world: World, current: RunningImage, toSha?: string): Promise<string> {
  const error = await planRollback(request(current, toSha), sourcesOf(world), captureLogger()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RollbackRefusedError);
  return (error as Error).message;
}

describe('without to-sha: the previous verified GitHub deployment', () => {
  it('takes the newest verified deployment older than the one that runs now', async () => {
    const world = {
      images: [image(1), image(2), image(3)],
      deployments: [deployment(1), deployment(2), deployment(3)],
    };
    const { plan: p } = await plan(world, running(3));
    expect(p).toMatchObject({ commit: sha(2), digest: digest(2), source: 'github-deployment', deploymentId: 1002 });
    expect(p.from).toContain('GitHub deployment 1002 (commit 2222222) of staging');
  });

  it('skips a deployment whose image a lifecycle policy expired, saying so, and takes the next one', async () => {
    const world = { images: [image(1), image(3)], deployments: [deployment(1), deployment(2), deployment(3)] };
    const { plan: p, lines } = await plan(world, running(3));
    expect(p.commit).toBe(sha(1));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^warning: Skipping GitHub deployment 1002 \(commit 2222222\): its image sha256:2{64} is no longer in the ECR repository web \(expired by a lifecycle policy/,
      ),
    );
    expect(p.notes.join('\n')).toContain('no longer in the ECR repository');
  });

  it('refuses, naming what runs, when every earlier image has expired', async () => {
    const world = { images: [image(3)], deployments: [deployment(1), deployment(2), deployment(3)] };
    const message = await refusal(world, running(3));
    expect(message).toMatch(/^There is no earlier verified deployment of staging to roll back to: it runs /);
    expect(message).toContain(`it runs r/web@${digest(3)} (commit 3333333)`);
    expect(message).toContain('deployment 1001 (commit 1111111): its image');
    expect(message).toContain('Nothing was changed');
  });

  it('refuses when the only verified deployment is what runs now', async () => {
    const message = await refusal({ images: [image(1)], deployments: [deployment(1)] }, running(1));
    expect(message).toMatch(/no earlier verified deployment of staging/);
    expect(message).toContain(digest(1));
  });

  it('never goes to a deployment newer than what runs now', async () => {
    // v3 was deployed, then the service was put back on v2 by hand: going "back" means v1.
    const world = {
      images: [image(1), image(2), image(3)],
      deployments: [deployment(1), deployment(2), deployment(3)],
    };
    const { plan: p, lines } = await plan(world, running(2));
    expect(p.commit).toBe(sha(1));
    expect(lines).toContainEqual(
      expect.stringContaining('Skipping GitHub deployment 1003 (commit 3333333): it is newer'),
    );
  });

  it('takes the newest verified deployment when what runs now has no deployment at all', async () => {
    const world = { images: [image(1), image(2), image(9)], deployments: [deployment(1), deployment(2)] };
    const { plan: p, lines } = await plan(world, running(9));
    expect(p.commit).toBe(sha(2));
    expect(lines.join('\n')).toContain('matches no verified GitHub deployment');
  });

  it('after a rollback from v3 to v2, a second rollback goes on to v1, not back to v3', async () => {
    const world = {
      images: [image(1), image(2), image(3)],
      deployments: [deployment(1), deployment(2), deployment(3), deployment(2, { id: 1010, rollbackFrom: 3 })],
    };
    const { plan: p, lines } = await plan(world, running(2));
    expect(p.commit).toBe(sha(1));
    expect(lines).toContainEqual(expect.stringContaining('rollback deployment 1010 moved staging away from it'));
  });

  it('passes over a deployment whose record names no image', async () => {
    const world = {
      images: [image(1), image(3)],
      deployments: [deployment(1), deployment(2, { noDigest: true }), deployment(3)],
    };
    const { plan: p } = await plan(world, running(3));
    expect(p.commit).toBe(sha(1));
    expect(p.notes.join('\n')).toContain('names no image digest');
  });
});

describe('fallback to the ECR pointer tag previous-<env>', () => {
  const previous: PointedImage = { ...image(2, 'previous-staging'), commit: sha(2) };

  it('uses previous-<env> when no token is available, saying so', async () => {
    const { plan: p, lines } = await plan({ images: [image(2), image(3)], previous }, running(3));
    expect(p).toMatchObject({ commit: sha(2), digest: digest(2), source: 'ecr-pointer' });
    expect(lines).toContainEqual(
      'warning: No github-token was given: using the ECR pointer tag previous-staging instead of GitHub deployments.',
    );
  });

  it.each([403, 404])('uses previous-<env> when GitHub answers %d, naming the permission', async (status) => {
    const githubError = Object.assign(new Error('Resource not accessible by integration'), {
      status,
      response: { headers: {}, data: { message: 'Resource not accessible by integration' } },
    });
    const { plan: p, lines } = await plan({ images: [image(2), image(3)], previous, githubError }, running(3));
    expect(p.source).toBe('ecr-pointer');
    expect(lines.join('\n')).toMatch(
      new RegExp(
        `warning: Could not list the GitHub deployments of staging: .*HTTP ${status}.*deployments: read.*Using the ECR pointer tag previous-staging instead`,
      ),
    );
  });

  it('uses previous-<env> when GitHub has no verified deployment of the environment', async () => {
    const { plan: p, lines } = await plan({ images: [image(2), image(3)], previous, deployments: [] }, running(3));
    expect(p.source).toBe('ecr-pointer');
    expect(lines.join('\n')).toContain('GitHub has no verified aws-deploy-kit deployment of staging');
  });

  it('refuses when there is no previous-<env> tag', async () => {
    const message = await refusal({ images: [image(3)] }, running(3));
    expect(message).toMatch(/no previous good version of staging.*has no previous-staging tag/);
  });

  it('refuses when previous-<env> names what already runs', async () => {
    const message = await refusal({ images: [image(3)], previous: { ...image(3), commit: sha(3) } }, running(3));
    expect(message).toMatch(
      /^Refusing to roll back staging: previous-staging \(commit 3333333, sha256:3{64}\) is what it already runs/,
    );
  });
});

describe('with to-sha', () => {
  const world: World = {
    images: [
      image(1),
      image(2),
      { digest: digest(4), tags: [`sha-${'abcdef1'.padEnd(40, '1')}`, 'v4'] },
      { digest: digest(5), tags: [`sha-${'abcdef1'.padEnd(40, '2')}`] },
    ],
  };

  it('takes the image tagged sha-<full sha> without listing the repository', async () => {
    const sources = sourcesOf(world);
    const p = await planRollback(request(running(2), sha(1)), sources, captureLogger());
    expect(p).toMatchObject({ commit: sha(1), digest: digest(1), source: 'to-sha' });
    expect(sources.listed).toBe(0);
  });

  it('resolves a short SHA that matches exactly one image, giving the full commit', async () => {
    const { plan: p } = await plan(world, running(2), sha(1).slice(0, 7));
    expect(p).toMatchObject({ commit: sha(1), digest: digest(1) });
  });

  it('refuses an ambiguous short SHA, listing the candidates', async () => {
    const message = await refusal(world, running(2), 'abcdef1');
    expect(message).toMatch(/^to-sha abcdef1 is ambiguous: 2 images/);
    expect(message).toContain(digest(4));
    expect(message).toContain(digest(5));
    expect(message).toContain(`sha-${'abcdef1'.padEnd(40, '2')}`);
  });

  it('refuses a commit whose image is not in ECR (expired or never pushed)', async () => {
    const message = await refusal(world, running(2), sha(7));
    expect(message).toMatch(/There is no image of commit 7{40} in the ECR repository web .*lifecycle policy/);
  });

  it('refuses the commit that already runs, naming its digest and commit', async () => {
    const message = await refusal(world, running(2), sha(2).slice(0, 9));
    expect(message).toContain('Refusing to roll back staging');
    expect(message).toContain(`commit 2222222, ${digest(2)}`);
    expect(message).toContain('is what it already runs');
  });
});

describe('images in ECR’s archive (imageStatus ARCHIVED / ACTIVATING) are no rollback targets', () => {
  const archived = (n: number, status = 'ARCHIVED'): FoundImage => ({ ...image(n), status });

  it('skips a deployment whose image is ARCHIVED, saying so, and takes the next one', async () => {
    const world = {
      images: [image(1), archived(2), image(3)],
      deployments: [deployment(1), deployment(2), deployment(3)],
    };
    const { plan: p, lines } = await plan(world, running(3));
    expect(p.commit).toBe(sha(1));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^warning: Skipping GitHub deployment 1002 \(commit 2222222\): its image sha256:2{64} is ARCHIVED in ECR .*cannot be pulled until it is restored/,
      ),
    );
  });

  it('refuses to-sha naming an ARCHIVED or ACTIVATING image, and says how to restore it', async () => {
    for (const status of ['ARCHIVED', 'ACTIVATING']) {
      const message = await refusal({ images: [archived(1, status), image(3)] }, running(3), sha(1));
      expect(message).toContain(`The image of commit ${sha(1)} (${digest(1)}) cannot be rolled back to`);
      expect(message).toMatch(/update-image-storage-class --target-storage-class STANDARD/);
      expect(message).toContain(status);
    }
  });

  it('refuses a previous-<env> pointer that names an ARCHIVED image', async () => {
    const message = await refusal({ images: [image(3)], previous: { ...archived(1), commit: sha(1) } }, running(3));
    expect(message).toMatch(/web:previous-staging names sha256:1{64}, which cannot be rolled back to: it is ARCHIVED/);
  });
});
