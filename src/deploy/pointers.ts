import type { ECRClient } from '@aws-sdk/client-ecr';
import {
  canMoveTag,
  describeRepository,
  type FoundImage,
  findImage,
  promoteImage,
  type RepositoryInfo,
} from '../aws/ecr';
import { DeployError } from '../core/errors';
import { type Logger, silentLogger } from '../core/logger';
import type { Service } from '../core/service';
import { commitFromTags, environmentPointerTag } from '../core/tags';

/**
 * The ECR half of "where the previous good commit lives": two tags per environment and service, moved by retag only
 * after a deploy is verified. `deployed-<env>` names what the environment verifiably runs; `previous-<env>` what it
 * ran before. They let the CLI roll back without a GitHub token, and survive when GitHub Deployments are not used.
 * A service other than the default one has its own pair, `deployed-<env>.<service>`, so two services sharing a
 * repository never move each other's.
 */
export function pointerTags(environment: string, service?: Service): { current: string; previous: string } {
  const current = environmentPointerTag(environment, service?.isDefault === false ? service.name : undefined);
  return { current, previous: current.replace(/^deployed-/, 'previous-') };
}

export interface PointedImage extends FoundImage {
  /** The commit of the image, from its `sha-<commit>` tag, when it has one. */
  commit?: string;
}

async function pointed(client: ECRClient, repository: string, tag: string): Promise<PointedImage | undefined> {
  const image = await findImage(client, repository, tag);
  if (!image) return undefined;
  const commit = commitFromTags(image.tags);
  return commit ? { ...image, commit } : image;
}

/** What the environment's pointer tags name now (either may be missing). */
export async function readPointers(
  client: ECRClient,
  repository: string,
  environment: string,
  service?: Service,
): Promise<{ current?: PointedImage; previous?: PointedImage }> {
  const tags = pointerTags(environment, service);
  const [current, previous] = await Promise.all([
    pointed(client, repository, tags.current),
    pointed(client, repository, tags.previous),
  ]);
  return { ...(current ? { current } : {}), ...(previous ? { previous } : {}) };
}

/**
 * Records a verified deploy of `digest` to `environment`: what `deployed-<env>` named moves to `previous-<env>`, then
 * `deployed-<env>` moves to the digest. Re-running it for the same digest changes nothing. On a repository whose tag
 * mutability keeps the pointer tags from moving, nothing is put and a warning says what to choose instead of failing
 * half-way (after `previous-<env>` moved) or claiming a tag moved.
 */
export async function markVerified(
  client: ECRClient,
  options: {
    repository: string;
    environment: string;
    /** Undefined: the default service. */
    service?: Service;
    digest: string;
    logger?: Logger;
    /** The repository as already described (DescribeRepositories); described here when absent. */
    repositoryInfo?: RepositoryInfo;
  },
): Promise<'moved' | 'unchanged' | 'skipped'> {
  const logger = options.logger ?? silentLogger;
  const tags = pointerTags(options.environment, options.service);
  const info = options.repositoryInfo ?? (await describeRepository(client, options.repository));
  const frozen = info ? [tags.current, tags.previous].filter((tag) => !canMoveTag(info, tag)) : [];
  if (info && frozen.length > 0) {
    logger.warning(immutablePointersWarning(options.repository, info.mutability, frozen));
    return 'skipped';
  }
  const current = await findImage(client, options.repository, tags.current);
  if (current?.digest === options.digest) return 'unchanged';
  try {
    if (current)
      await promoteImage(client, {
        repository: options.repository,
        source: current.digest,
        tags: [tags.previous],
        logger,
      });
    await promoteImage(client, {
      repository: options.repository,
      source: options.digest,
      tags: [tags.current],
      logger,
    });
    return 'moved';
  } catch (error) {
    throw new DeployError(
      `Could not record the verified deploy in ECR (tags ${tags.current} / ${tags.previous}): ${(error as Error).message} ` +
        `On an IMMUTABLE repository, exclude these tags: imageTagMutability IMMUTABLE_WITH_EXCLUSION with filters "deployed-*", "previous-*".`,
      { cause: error },
    );
  }
}

/** The two ways forward when the pointer tags cannot move; see docs/promote.md. */
export function immutablePointersWarning(repository: string, mutability: string, frozen: readonly string[]): string {
  return (
    `The ECR repository ${repository} has image tag mutability ${mutability}, so the pointer tags ` +
    `${frozen.join(' and ')} cannot be moved: they were left as they are (nothing was put). Choose one: ` +
    `(1) keep the other tags immutable but exclude the pointer tags: aws ecr put-image-tag-mutability ` +
    `--repository-name ${repository} --image-tag-mutability IMMUTABLE_WITH_EXCLUSION ` +
    '--image-tag-mutability-exclusion-filters filterType=WILDCARD,filter=deployed-* ' +
    'filterType=WILDCARD,filter=previous-* ; or (2) keep GitHub Deployments as the only rollback ledger: a ' +
    'rollback then needs a github-token, since the ECR pointers are not kept.'
  );
}
