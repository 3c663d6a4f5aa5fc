import { type FoundImage, isPullable, unpullableReason } from '../aws/ecr';
import { DeployError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { DeployRecord } from '../core/record';
import type { Service } from '../core/service';
import { commitFromTags, commitOfTag, commitTag, isCommitTag } from '../core/tags';
import { describeGitHubError } from '../github/client';
import type { PreviousDeployment } from '../github/deployments';
import { type PointedImage, pointerTags } from './pointers';

/**
 * Rollback planning: which image an environment goes back to, and why. No AWS or GitHub client here: the facts come
 * in through `RollbackSources`, so every rule below is tested without a network.
 */

/** What the target runs now: App Runner's ImageIdentifier, or the ASG boot tag. */
export interface RunningImage {
  /** As configured: `<registry>/<repo>@sha256:…`, `<registry>/<repo>:<tag>`, or `<repo>:<boot-tag>`. */
  reference: string;
  /** undefined when the tag names nothing (yet) or the image is gone. */
  digest?: string;
  commit?: string;
}

export interface RollbackSources {
  /** The image a tag or digest names in the repository; undefined when the repository does not hold it. */
  findImage(tagOrDigest: string): Promise<FoundImage | undefined>;
  /** Every tagged image of the repository (DescribeImages, TAGGED, all pages): to resolve a short SHA. */
  listTaggedImages(): Promise<FoundImage[]>;
  /**
   * The newest verified deployment of the environment created before deployment `beforeId` (all when undefined), as
   * `findPreviousGoodDeployment` answers. Absent when GitHub cannot be asked (no token, no repository).
   */
  deployments?: (beforeId: number | undefined) => Promise<PreviousDeployment | undefined>;
  /** Why `deployments` is absent, for the log. */
  noDeploymentsReason?: string;
  /** What the environment's `previous-<env>` pointer tag names. */
  previousPointer(): Promise<PointedImage | undefined>;
}

export type TargetSource = 'to-sha' | 'github-deployment' | 'ecr-pointer';

export interface RollbackPlan {
  commit: string;
  digest: string;
  /** The tags of the target image in ECR. */
  tags: string[];
  source: TargetSource;
  /** Where the target came from, in one line ("GitHub deployment 1004 of staging, created …"). */
  from: string;
  deploymentId?: number;
  current: RunningImage;
  /** Candidates passed over and fallbacks taken, one line each (also logged). */
  notes: string[];
}

export interface RollbackRequest {
  environment: string;
  /** The service rolled back; undefined: the default one. Its pointer tags are the fallback history. */
  service?: Service;
  repository: string;
  /** 7-40 lower-case hex, already validated. */
  toSha?: string;
  current: RunningImage;
}

/** The rollback cannot go anywhere useful; nothing was changed. */
export class RollbackRefusedError extends DeployError {
  override readonly name = 'RollbackRefusedError';
}

/** How many verified deployments are looked at before giving up on finding one whose image is still in ECR. */
const MAX_CANDIDATES = 20;

export function short(sha: string): string {
  return sha.slice(0, 7);
}

export function describeRunning(current: RunningImage): string {
  if (!current.digest) return `${current.reference} (which names no image in ECR)`;
  const commit = current.commit ? `commit ${short(current.commit)}` : 'commit unknown';
  if (current.reference.endsWith(current.digest)) return `${current.reference} (${commit})`;
  return `${current.reference} = ${current.digest} (${commit})`;
}

/** A record written by the rollback action for a successful rollback: its `previous` is a version found wanting. */
export function isRollbackRecord(record: DeployRecord | undefined): boolean {
  return (
    record?.outcome === 'succeeded' &&
    record.phases.some((p) => p.name === 'rollback' && p.status === 'succeeded') &&
    !record.phases.some((p) => p.name === 'deploy')
  );
}

function alreadyRunning(request: RollbackRequest, commit: string, digest: string, why: string): RollbackRefusedError {
  return new RollbackRefusedError(
    `Refusing to roll back ${request.environment}: ${why} (commit ${short(commit)}, ${digest}) is what it already ` +
      `runs (${describeRunning(request.current)}). Nothing was changed. Name another commit with to-sha.`,
  );
}

/**
 * Finds the rollback target: the image of `to-sha` when given; otherwise the newest verified GitHub deployment of the
 * environment older than what runs now whose image is still in ECR; when GitHub cannot be asked (or has no verified
 * deployment of the environment), the `previous-<env>` pointer tag in ECR. Throws RollbackRefusedError when there is
 * nowhere to go.
 */
export async function planRollback(
  request: RollbackRequest,
  sources: RollbackSources,
  logger: Logger,
): Promise<RollbackPlan> {
  const notes: string[] = [];
  const note = (line: string, warn = false) => {
    notes.push(line);
    if (warn) logger.warning(line);
    else logger.info(line);
  };
  if (request.toSha) return planToSha(request, request.toSha, sources, notes);

  if (sources.deployments) {
    try {
      const plan = await fromDeployments(request, sources, sources.deployments, note, notes);
      if (plan) return plan;
      note(
        `GitHub has no verified aws-deploy-kit deployment of ${request.environment}: using the ECR pointer tag ` +
          `${pointerTags(request.environment, request.service).previous} instead.`,
      );
    } catch (error) {
      if (error instanceof RollbackRefusedError) throw error;
      note(
        `${describeGitHubError(`list the GitHub deployments of ${request.environment}`, error, 'deployments: read')} ` +
          `Using the ECR pointer tag ${pointerTags(request.environment, request.service).previous} instead.`,
        true,
      );
    }
  } else {
    note(
      `${sources.noDeploymentsReason ?? 'GitHub cannot be asked'}: using the ECR pointer tag ` +
        `${pointerTags(request.environment, request.service).previous} instead of GitHub deployments.`,
      true,
    );
  }
  return fromPointer(request, sources, notes);
}

async function planToSha(
  request: RollbackRequest,
  sha: string,
  sources: RollbackSources,
  notes: string[],
): Promise<RollbackPlan> {
  const { repository } = request;
  let image = sha.length === 40 ? await sources.findImage(commitTag(sha)) : undefined;
  if (!image) {
    // A short SHA (or a repository tagged with short SHAs): the sha-<commit> tags of every image that could match.
    const matches = new Map<string, FoundImage>();
    for (const candidate of await sources.listTaggedImages()) {
      const hit = candidate.tags.some((tag) => {
        const commit = commitOfTag(tag);
        return commit !== undefined && (commit.startsWith(sha) || sha.startsWith(commit));
      });
      if (hit) matches.set(candidate.digest, candidate);
    }
    if (matches.size > 1) {
      const listed = [...matches.values()]
        .map((m) => `${m.tags.filter(isCommitTag).join(', ')} (${m.digest})`)
        .join('; ');
      throw new RollbackRefusedError(
        `to-sha ${sha} is ambiguous: ${matches.size} images in the ECR repository ${repository} have a matching ` +
          `commit tag: ${listed}. Give more characters of the SHA (or all 40). Nothing was changed.`,
      );
    }
    image = matches.values().next().value;
  }
  if (!image) {
    throw new RollbackRefusedError(
      `There is no image of commit ${sha} in the ECR repository ${repository} (no ${commitTag(sha)} tag, nor a ` +
        'sha- tag starting with it): it was never pushed, or a lifecycle policy has expired it. An expired image ' +
        'cannot be rolled back to: rebuild that commit with the deploy workflow instead. Nothing was changed.',
    );
  }
  const commit = commitFromTags(image.tags) ?? sha;
  if (!isPullable(image)) {
    throw new RollbackRefusedError(
      `The image of commit ${sha} (${image.digest}) cannot be rolled back to: ${unpullableReason(image)}. Restore it ` +
        '(aws ecr update-image-storage-class --target-storage-class STANDARD), wait until it is ACTIVE, and run the ' +
        'rollback again. Nothing was changed.',
    );
  }
  if (image.digest === request.current.digest) {
    throw alreadyRunning(request, commit, image.digest, `the image of to-sha ${sha}`);
  }
  return {
    commit,
    digest: image.digest,
    tags: image.tags,
    source: 'to-sha',
    from: `to-sha ${sha}: the ECR image tagged ${image.tags.find(isCommitTag) ?? commitTag(commit)}`,
    current: request.current,
    notes,
  };
}

/**
 * Walks the verified deployments newest first. Skipped: the one that runs now and any newer than it (a rollback
 * means going back), versions a later rollback moved away from (they were found wanting), deployments without an
 * image digest, and images no longer in ECR. Returns undefined when GitHub lists no verified deployment at all.
 */
async function fromDeployments(
  request: RollbackRequest,
  sources: RollbackSources,
  next: NonNullable<RollbackSources['deployments']>,
  note: (line: string, warn?: boolean) => void,
  notes: string[],
): Promise<RollbackPlan | undefined> {
  const { current, environment } = request;
  const label = (d: PreviousDeployment) => `GitHub deployment ${d.id} (commit ${short(d.sha)})`;
  const rolledAway = new Map<string, number>();
  let newerThanCurrent: PreviousDeployment[] = [];
  let seenCurrent = false;
  let seenAny = false;
  let before: number | undefined;

  const accept = async (d: PreviousDeployment, digest: string): Promise<RollbackPlan | undefined> => {
    const image = await sources.findImage(digest);
    if (!image) {
      note(
        `Skipping ${label(d)}: its image ${digest} is no longer in the ECR repository ${request.repository} ` +
          '(expired by a lifecycle policy, or deleted).',
        true,
      );
      return undefined;
    }
    if (!isPullable(image)) {
      note(`Skipping ${label(d)}: its image ${digest} ${unpullableReason(image).replace(/^it is /, 'is ')}.`, true);
      return undefined;
    }
    return {
      commit: d.sha,
      digest,
      tags: image.tags,
      source: 'github-deployment',
      from: `${label(d)} of ${environment}, created ${d.createdAt}: the newest verified deployment older than what runs now`,
      deploymentId: d.id,
      current,
      notes,
    };
  };

  for (let looked = 0; looked < MAX_CANDIDATES; looked++) {
    const d = await next(before);
    if (!d) break;
    seenAny = true;
    before = d.id;
    const digest = d.record?.image?.digest;
    const runsNow = current.digest !== undefined && digest === current.digest;
    if (runsNow) {
      for (const newer of newerThanCurrent) {
        note(`Skipping ${label(newer)}: it is newer than the deployment of what runs now (${d.id}).`);
      }
      newerThanCurrent = [];
      seenCurrent = true;
    } else if (!digest) {
      note(`Skipping ${label(d)}: its deploy record names no image digest.`);
    } else if (rolledAway.has(digest)) {
      note(`Skipping ${label(d)}: rollback deployment ${rolledAway.get(digest)} moved ${environment} away from it.`);
    } else if (seenCurrent || !current.digest) {
      const plan = await accept(d, digest);
      if (plan) return plan;
    } else {
      // Newer than what runs now, unless what runs now turns out to have no deployment at all.
      newerThanCurrent.push(d);
    }
    const previousDigest = d.record?.previous?.digest;
    if (isRollbackRecord(d.record) && previousDigest && !rolledAway.has(previousDigest)) {
      rolledAway.set(previousDigest, d.id);
    }
  }
  if (!seenAny) return undefined;
  if (!seenCurrent && newerThanCurrent.length > 0) {
    note(
      `What ${environment} runs now (${describeRunning(current)}) matches no verified GitHub deployment: taking the ` +
        'newest verified deployment whose image is still in ECR.',
    );
    for (const d of newerThanCurrent) {
      const plan = await accept(d, d.record?.image?.digest as string);
      if (plan) return plan;
    }
  }
  throw new RollbackRefusedError(
    `There is no earlier verified deployment of ${environment} to roll back to: it runs ${describeRunning(current)}` +
      (notes.length > 0 ? `, and every other verified deployment was passed over (${notes.join(' ')})` : '') +
      '. Nothing was changed. Name a commit whose image is still in ECR with to-sha.',
  );
}

async function fromPointer(request: RollbackRequest, sources: RollbackSources, notes: string[]): Promise<RollbackPlan> {
  const { previous: tag } = pointerTags(request.environment, request.service);
  const previous = await sources.previousPointer();
  if (!previous) {
    throw new RollbackRefusedError(
      `There is no previous good version of ${request.environment} to roll back to: the ECR repository ` +
        `${request.repository} has no ${tag} tag (no second verified deploy was recorded, or a lifecycle policy ` +
        'expired that image). Nothing was changed. Name a commit whose image is still in ECR with to-sha.',
    );
  }
  const commit = previous.commit ?? commitFromTags(previous.tags);
  if (!isPullable(previous)) {
    throw new RollbackRefusedError(
      `${request.repository}:${tag} names ${previous.digest}, which cannot be rolled back to: ` +
        `${unpullableReason(previous)}. Restore it (aws ecr update-image-storage-class --target-storage-class ` +
        'STANDARD) and run the rollback again, or name another commit with to-sha. Nothing was changed.',
    );
  }
  if (previous.digest === request.current.digest) {
    throw alreadyRunning(request, commit ?? 'unknown', previous.digest, `${tag}`);
  }
  if (!commit) {
    throw new RollbackRefusedError(
      `${request.repository}:${tag} names ${previous.digest}, which has no sha-<commit> tag, so the commit it was ` +
        'built from is unknown. Nothing was changed. Name the commit with to-sha.',
    );
  }
  return {
    commit,
    digest: previous.digest,
    tags: previous.tags,
    source: 'ecr-pointer',
    from: `the ECR pointer tag ${request.repository}:${tag}: what ${request.environment} verifiably ran before its last verified change`,
    current: request.current,
    notes,
  };
}
