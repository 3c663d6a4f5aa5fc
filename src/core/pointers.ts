import type { ECRClient } from '@aws-sdk/client-ecr';
import { type FoundImage, findImage, promoteImage } from '../aws/ecr';
import { DeployError } from './errors';
import { type Logger, silentLogger } from './logger';
import { environmentPointerTag } from './tags';

/**
 * The ECR half of "where the previous good commit lives": two tags per environment, moved by retag only after a deploy
 * is verified. `deployed-<env>` names what the environment verifiably runs; `previous-<env>` what it ran before. They
 * let the CLI roll back without a GitHub token, and survive when GitHub Deployments are not used.
 */
export function pointerTags(environment: string): { current: string; previous: string } {
  const current = environmentPointerTag(environment);
  return { current, previous: current.replace(/^deployed-/, 'previous-') };
}

export interface PointedImage extends FoundImage {
  /** The commit of the image, from its `sha-<commit>` tag, when it has one. */
  commit?: string;
}

/** The commit an image was built from, read from its `sha-<40 hex>` tag. */
export function commitFromTags(tags: readonly string[]): string | undefined {
  for (const tag of tags) {
    const match = /^sha-([0-9a-f]{7,40})$/.exec(tag);
    if (match) return match[1];
  }
  return undefined;
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
): Promise<{ current?: PointedImage; previous?: PointedImage }> {
  const tags = pointerTags(environment);
  const [current, previous] = await Promise.all([
    pointed(client, repository, tags.current),
    pointed(client, repository, tags.previous),
  ]);
  return { ...(current ? { current } : {}), ...(previous ? { previous } : {}) };
}

/**
 * Records a verified deploy of `digest` to `environment`: what `deployed-<env>` named moves to `previous-<env>`, then
 * `deployed-<env>` moves to the digest. Re-running it for the same digest changes nothing.
 */
export async function markVerified(
  client: ECRClient,
  options: { repository: string; environment: string; digest: string; logger?: Logger },
): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const tags = pointerTags(options.environment);
  const current = await findImage(client, options.repository, tags.current);
  if (current?.digest === options.digest) return;
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
  } catch (error) {
    throw new DeployError(
      `Could not record the verified deploy in ECR (tags ${tags.current} / ${tags.previous}): ${(error as Error).message} ` +
        `On an IMMUTABLE repository, exclude these tags: imageTagMutability IMMUTABLE_WITH_EXCLUSION with filters "deployed-*", "previous-*".`,
      { cause: error },
    );
  }
}
