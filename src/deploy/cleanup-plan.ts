import { environmentTag } from '../core/tags';

/**
 * Which images of an ECR repository a cleanup may delete, decided from facts alone (the images, the verified
 * deployments, what the targets run), so that the rule "never delete a rollback target" is one pure function.
 */

export interface RepositoryImage {
  digest: string;
  tags: readonly string[];
  pushedAt?: Date;
  sizeInBytes?: number;
  /** The digests an image index (multi-platform image) lists: ECR shows them as untagged images of their own. */
  children?: readonly string[];
}

/** A GitHub Deployment whose newest status other than `inactive` is `success`, as findPreviousGoodDeployment reads. */
export interface VerifiedDeployment {
  id: number;
  environment: string;
  /** The record's service; undefined for records written before services existed (the default service). */
  service?: string;
  digest: string;
  commit?: string;
}

export interface RunningImage {
  /** "App Runner service web". */
  label: string;
  digest: string;
}

export interface CleanupFacts {
  images: readonly RepositoryImage[];
  /** Newest first or in any order: sorted by id here. */
  deployments: readonly VerifiedDeployment[];
  running: readonly RunningImage[];
}

export interface CleanupRules {
  /** The newest N verified deployments of each environment and service are kept. */
  keepDeployments: number;
  /** Anything pushed less than this many days ago is kept. */
  keepDays: number;
  /** Tags (exact, or with `*` wildcards) whose images are kept. */
  keepTags: readonly string[];
  /** Digests kept whatever else is said. */
  keepImages: readonly string[];
  /** When false (the default), build cache manifests (`buildcache*` tags) are kept: the next build needs them. */
  includeBuildCache: boolean;
  now: Date;
}

export interface PlannedImage {
  digest: string;
  tags: string[];
  pushedAt?: string;
  sizeInBytes?: number;
  action: 'keep' | 'delete';
  /** Why it stays (every reason that applies) or why it goes (one line). */
  reasons: string[];
}

export interface CleanupPlan {
  images: PlannedImage[];
  /** Digests to delete, in waves: an index before the images it lists (ECR refuses to delete a listed image). */
  waves: string[][];
  kept: number;
  deleted: number;
  bytesFreed: number;
}

const DAY_MS = 86_400_000;
const pointerPattern = /^(deployed|previous)-(.+)$/;

export function isPointerTag(tag: string): boolean {
  return pointerPattern.test(tag);
}

export function isBuildCacheTag(tag: string): boolean {
  return tag.startsWith('buildcache');
}

/** `*` matches any run of characters, as in ECR's tag patterns. */
export function matchesTagPattern(pattern: string, tag: string): boolean {
  const source = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${source}$`).test(tag);
}

/**
 * The environment tags (`staging`) of the environments the pointer tags and deployments name: instances of an
 * Auto Scaling group pull that tag at boot, so its image runs now even when no pointer names it. A pointer
 * `deployed-staging.backend` may be the `staging.backend` environment or the backend service of `staging`: both
 * readings are kept.
 */
function environmentTags(images: readonly RepositoryImage[], deployments: readonly VerifiedDeployment[]): Set<string> {
  const tags = new Set<string>();
  for (const image of images)
    for (const tag of image.tags) {
      const name = pointerPattern.exec(tag)?.[2];
      if (!name) continue;
      tags.add(name);
      tags.add(name.split('.')[0]!);
    }
  for (const deployment of deployments) tags.add(environmentTag(deployment.environment));
  return tags;
}

function deploymentReasons(facts: CleanupFacts, rules: CleanupRules): Map<string, string[]> {
  const reasons = new Map<string, string[]>();
  const counts = new Map<string, number>();
  for (const deployment of [...facts.deployments].sort((a, b) => b.id - a.id)) {
    const where = deployment.service ? `${deployment.environment} · ${deployment.service}` : deployment.environment;
    const seen = counts.get(where) ?? 0;
    if (seen >= rules.keepDeployments) continue;
    counts.set(where, seen + 1);
    const list = reasons.get(deployment.digest) ?? [];
    list.push(`verified deployment ${deployment.id} of ${where}`);
    reasons.set(deployment.digest, list);
  }
  return reasons;
}

/** Every reason the image stays; empty when it may go (index membership is added afterwards). */
function keepReasons(
  image: RepositoryImage,
  rules: CleanupRules,
  context: { envTags: Set<string>; byDeployment: Map<string, string[]>; running: readonly RunningImage[] },
): string[] {
  const reasons: string[] = [];
  for (const tag of image.tags) if (isPointerTag(tag)) reasons.push(`pointer ${tag}`);
  reasons.push(...(context.byDeployment.get(image.digest) ?? []));
  for (const run of context.running) if (run.digest === image.digest) reasons.push(`runs now on ${run.label}`);
  for (const tag of image.tags) if (context.envTags.has(tag)) reasons.push(`environment tag ${tag}`);
  for (const tag of image.tags)
    if (rules.keepTags.some((pattern) => matchesTagPattern(pattern, tag))) reasons.push(`tag ${tag} (keep-tags)`);
  if (rules.keepImages.includes(image.digest)) reasons.push('named in keep-images');
  if (!rules.includeBuildCache && image.tags.some(isBuildCacheTag)) reasons.push('build cache (include-build-cache)');
  const age = image.pushedAt ? rules.now.getTime() - image.pushedAt.getTime() : 0;
  // An image without a push time is treated as new: its age is unknown, and keeping it is the safe mistake.
  if (age < rules.keepDays * DAY_MS) reasons.push(`younger than ${rules.keepDays} days`);
  return reasons;
}

export function planCleanup(facts: CleanupFacts, rules: CleanupRules): CleanupPlan {
  const context = {
    envTags: environmentTags(facts.images, facts.deployments),
    byDeployment: deploymentReasons(facts, rules),
    running: facts.running,
  };
  const reasons = new Map(facts.images.map((image) => [image.digest, keepReasons(image, rules, context)]));
  // An index that stays keeps every image it lists (a platform's image is pulled through it), transitively.
  const byDigest = new Map(facts.images.map((image) => [image.digest, image]));
  const pending = facts.images.filter((image) => reasons.get(image.digest)!.length > 0);
  while (pending.length > 0) {
    const index = pending.pop()!;
    for (const child of index.children ?? []) {
      const list = reasons.get(child);
      if (!list || !byDigest.has(child)) continue;
      const reason = `listed by the kept image index ${index.digest.slice(0, 19)}…`;
      if (list.includes(reason)) continue;
      if (list.length === 0) pending.push(byDigest.get(child)!);
      list.push(reason);
    }
  }

  const images: PlannedImage[] = facts.images.map((image) => {
    const why = reasons.get(image.digest)!;
    const planned: PlannedImage = {
      digest: image.digest,
      tags: [...image.tags].sort(),
      action: why.length > 0 ? 'keep' : 'delete',
      reasons:
        why.length > 0
          ? why
          : [`${image.tags.length === 0 ? 'untagged' : 'no rollback target'}, older than ${rules.keepDays} days`],
    };
    if (image.pushedAt) planned.pushedAt = image.pushedAt.toISOString();
    if (image.sizeInBytes !== undefined) planned.sizeInBytes = image.sizeInBytes;
    return planned;
  });
  // Oldest first reads like a history; the table groups what goes before what stays.
  images.sort(
    (a, b) =>
      (a.action === b.action ? 0 : a.action === 'delete' ? -1 : 1) ||
      (a.pushedAt ?? '').localeCompare(b.pushedAt ?? '') ||
      a.digest.localeCompare(b.digest),
  );
  const doomed = images.filter((image) => image.action === 'delete');
  return {
    images,
    waves: deletionWaves(
      doomed.map((image) => image.digest),
      byDigest,
    ),
    kept: images.length - doomed.length,
    deleted: doomed.length,
    bytesFreed: doomed.reduce((sum, image) => sum + (image.sizeInBytes ?? 0), 0),
  };
}

/** Deletion order: an image goes in a later wave than every doomed index that lists it. */
function deletionWaves(doomed: readonly string[], byDigest: Map<string, RepositoryImage>): string[][] {
  const left = new Set(doomed);
  const waves: string[][] = [];
  while (left.size > 0) {
    const listed = new Set<string>();
    for (const digest of left) for (const child of byDigest.get(digest)?.children ?? []) listed.add(child);
    let wave = [...left].filter((digest) => !listed.has(digest));
    // A cycle cannot happen with content-addressed manifests; if one did, delete what is left rather than loop.
    if (wave.length === 0) wave = [...left];
    for (const digest of wave) left.delete(digest);
    waves.push(wave);
  }
  return waves;
}
