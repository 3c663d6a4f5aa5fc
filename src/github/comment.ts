import type { GitHubClient, RepoRef } from './client';
import { githubStatus } from './client';

/** The hidden line that makes a comment "the" deploy comment of one environment. */
export function commentMarker(environment: string): string {
  // An HTML comment ends at the first "--" or ">": keep the name from closing it early.
  return `<!-- aws-deploy-kit:${environment.replace(/-{2,}/g, '-').replace(/>/g, '')} -->`;
}

export interface MarkedComment {
  id: number;
  url: string;
}

export interface StickyResult extends MarkedComment {
  action: 'created' | 'updated';
  /** Duplicate comments this call removed (left by a concurrent or crashed run). */
  removed: number;
}

/** The comments of an issue that carry the marker, oldest first. */
export async function findMarkedComments(
  octokit: GitHubClient,
  repo: RepoRef,
  issue: number,
  marker: string,
): Promise<MarkedComment[]> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...repo,
    issue_number: issue,
    per_page: 100,
  });
  return comments
    .filter((c) => c.body?.includes(marker))
    .sort((a, b) => a.id - b.id)
    .map((c) => ({ id: c.id, url: c.html_url }));
}

async function deleteIfThere(octokit: GitHubClient, repo: RepoRef, id: number): Promise<boolean> {
  try {
    await octokit.rest.issues.deleteComment({ ...repo, comment_id: id });
    return true;
  } catch (error) {
    // The concurrent run got there first.
    if (githubStatus(error) === 404) return false;
    throw error;
  }
}

/**
 * Writes the deploy comment of one environment on one pull request: updates the existing one in place, or creates
 * it. GitHub has no "create unless exists", so two runs reporting at once can both create one. After creating, the
 * comment list is read again and everything collapses onto the OLDEST marked comment: a run whose own comment is not
 * the oldest writes its body into the oldest and deletes its own. Every run applies the same rule, so whichever order
 * the calls land in, one comment remains.
 */
export async function upsertStickyComment(
  octokit: GitHubClient,
  repo: RepoRef,
  issue: number,
  environment: string,
  body: string,
): Promise<StickyResult> {
  const marker = commentMarker(environment);
  const text = `${marker}\n${body}`;
  const existing = await findMarkedComments(octokit, repo, issue, marker);
  const [oldest, ...duplicates] = existing;
  if (oldest) {
    await octokit.rest.issues.updateComment({ ...repo, comment_id: oldest.id, body: text });
    let removed = 0;
    for (const duplicate of duplicates) if (await deleteIfThere(octokit, repo, duplicate.id)) removed++;
    return { ...oldest, action: 'updated', removed };
  }

  const created = await octokit.rest.issues.createComment({ ...repo, issue_number: issue, body: text });
  const mine: MarkedComment = { id: created.data.id, url: created.data.html_url };
  const after = await findMarkedComments(octokit, repo, issue, marker);
  const keep = after[0];
  if (!keep || keep.id === mine.id) return { ...mine, action: 'created', removed: 0 };
  // Another run created its comment first: carry this run's body over to that one, then remove ours and any others.
  await octokit.rest.issues.updateComment({ ...repo, comment_id: keep.id, body: text });
  let removed = 0;
  for (const other of [mine, ...after.slice(1).filter((c) => c.id !== mine.id)]) {
    if (await deleteIfThere(octokit, repo, other.id)) removed++;
  }
  return { ...keep, action: 'updated', removed };
}

export interface PullRequestLookup {
  eventName: string;
  /** The event payload (GITHUB_EVENT_PATH). */
  payload: unknown;
  /** The deployed commit. */
  sha: string;
}

/**
 * The pull requests to comment on. A pull_request event names its PR in the payload; for a push (or a manual run)
 * the PRs containing the commit are looked up: open ones, else the most recent merged/closed one, so a deploy
 * of main after a merge still lands on the PR that brought the change.
 */
export async function pullRequestsFor(
  octokit: GitHubClient,
  repo: RepoRef,
  lookup: PullRequestLookup,
): Promise<number[]> {
  if (lookup.eventName === 'pull_request' || lookup.eventName === 'pull_request_target') {
    const number = (lookup.payload as { pull_request?: { number?: unknown } } | undefined)?.pull_request?.number;
    if (typeof number === 'number') return [number];
  }
  const pulls = await octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
    ...repo,
    commit_sha: lookup.sha,
    per_page: 100,
  });
  const open = pulls.filter((p) => p.state === 'open').map((p) => p.number);
  if (open.length > 0) return open.sort((a, b) => a - b);
  const latest = pulls.map((p) => p.number).sort((a, b) => b - a)[0];
  return latest === undefined ? [] : [latest];
}
