import { existsSync, readFileSync } from 'node:fs';
import { ConfigurationError } from './errors';
import { validateCommitSha, validateTag } from './validate';

/** The parts of the GitHub Actions context that decide which commit is being deployed. */
export interface CommitContext {
  eventName: string;
  sha: string;
  /** The event payload; for pull_request events, its `pull_request.head.sha` is the commit. */
  payload?: { pull_request?: { head?: { sha?: string } } };
}

/** The commit context of this run, from the runner's GITHUB_* variables and (for pull requests) the event payload. */
export function commitContextFromEnv(env: NodeJS.ProcessEnv): CommitContext {
  const context: CommitContext = { eventName: env.GITHUB_EVENT_NAME ?? '', sha: env.GITHUB_SHA ?? '' };
  if (context.eventName.startsWith('pull_request') && env.GITHUB_EVENT_PATH && existsSync(env.GITHUB_EVENT_PATH)) {
    try {
      context.payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as CommitContext['payload'] & object;
    } catch {
      // An unreadable payload falls back to GITHUB_SHA; commitOf still validates it.
    }
  }
  return context;
}

/**
 * The commit an image is built from. For pull_request events GITHUB_SHA is a merge commit GitHub made up, which no
 * one can check out or roll back to: the PR's head SHA is what was pushed.
 */
export function commitOf(context: CommitContext): string {
  const isPullRequest = context.eventName === 'pull_request' || context.eventName === 'pull_request_target';
  const head = isPullRequest ? context.payload?.pull_request?.head?.sha : undefined;
  return validateCommitSha(head ? 'pull_request.head.sha' : 'GITHUB_SHA', head ?? context.sha);
}

/** The tag naming an image by the commit it was built from: `sha-<commit>` (7 to 40 hex digits when read back). */
export function commitTag(sha: string): string {
  return `sha-${sha}`;
}

const commitTagPattern = /^sha-([0-9a-f]{7,40})$/;

/** The commit a `sha-<commit>` tag names, or undefined for any other tag. */
export function commitOfTag(tag: string): string | undefined {
  return commitTagPattern.exec(tag)?.[1];
}

export function isCommitTag(tag: string): boolean {
  return commitOfTag(tag) !== undefined;
}

/** The commit an image was built from, read from its `sha-<commit>` tags: the longest, when short and full ones both exist. */
export function commitFromTags(tags: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const tag of tags) {
    const commit = commitOfTag(tag);
    if (commit && (!best || commit.length > best.length)) best = commit;
  }
  return best;
}

/** The sha tag first, then the extra tags, validated and without repeats. */
export function imageTags(sha: string, extra: readonly string[], input = 'tags'): string[] {
  const tags = [commitTag(sha)];
  for (const tag of extra) {
    validateTag(input, tag);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** The tag named after an environment ("Production EU" -> "production-eu"), moved after a verified deploy. */
export function environmentTag(environment: string): string {
  return environment.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
}

/**
 * The tag that points at the image an environment last verified: moved only after the deploy is verified. A service
 * other than the default one adds its name: `deployed-staging.backend`.
 */
export function environmentPointerTag(environment: string, service?: string): string {
  const suffix = service === undefined ? '' : `.${environmentTag(service)}`;
  const tag = `deployed-${environmentTag(environment)}${suffix}`;
  if (tag.length > 128) {
    if (suffix)
      throw new ConfigurationError(
        'service',
        service,
        `a service name short enough for the pointer tag ${JSON.stringify(tag)} to fit in 128 characters`,
      );
    throw new ConfigurationError('environment', environment, 'an environment name of at most 119 characters');
  }
  return tag;
}
