import { cell, table } from '../core/markdown';
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
  body: string;
}

export interface StickyResult {
  id: number;
  url: string;
  action: 'created' | 'updated';
  /** Duplicate comments this call removed (left by a concurrent or crashed run). */
  removed: number;
  /** The services the comment shows now, in its order. */
  services: string[];
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
    .map((c) => ({ id: c.id, url: c.html_url, body: c.body ?? '' }));
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

/** One service's part of an environment's comment: its row in the table, and its report. */
export interface ServiceSection {
  service: string;
  /** When the section was written (ISO 8601): of two copies of a section, the newer one is kept. */
  updatedAt: string;
  /** The table row's cells, already markdown: service, status, commit, URL. */
  row: string[];
  /** The service's report (renderComment). */
  body: string;
}

// A section is framed by two HTML comments; the opening one carries the row as base64 JSON, which can hold neither
// "--" nor ">" and so never ends the HTML comment early.
const sectionPattern =
  /<!-- aws-deploy-kit:section ([A-Za-z0-9+/=]+) -->\n([\s\S]*?)\n<!-- aws-deploy-kit:section-end -->/g;

/** The service sections of a comment's text; a comment written before services existed has none. */
export function parseSections(text: string): ServiceSection[] {
  const sections: ServiceSection[] = [];
  for (const match of text.matchAll(sectionPattern)) {
    try {
      const head = JSON.parse(Buffer.from(match[1]!, 'base64').toString('utf8')) as Partial<ServiceSection>;
      if (typeof head.service !== 'string' || typeof head.updatedAt !== 'string' || !Array.isArray(head.row)) continue;
      sections.push({ service: head.service, updatedAt: head.updatedAt, row: head.row.map(String), body: match[2]! });
    } catch {
      // A section someone edited by hand into something unreadable is dropped; its service rewrites it next time.
    }
  }
  return sections;
}

/** The sections of several comments as one list: one per service, the newest copy, in the order first seen. */
export function mergeSections(...lists: ServiceSection[][]): ServiceSection[] {
  const byService = new Map<string, ServiceSection>();
  for (const section of lists.flat()) {
    const kept = byService.get(section.service);
    if (!kept || kept.updatedAt <= section.updatedAt) byService.set(section.service, section);
  }
  return [...byService.values()];
}

/**
 * The whole comment of an environment: with one service, its report as it always looked; with more, a table with a
 * row per service first, then each service's report.
 */
export function renderSections(marker: string, environment: string, sections: readonly ServiceSection[]): string {
  const framed = sections.map((s) => {
    const head = Buffer.from(
      JSON.stringify({ service: s.service, updatedAt: s.updatedAt, row: s.row }),
      'utf8',
    ).toString('base64');
    return `<!-- aws-deploy-kit:section ${head} -->\n${s.body}\n<!-- aws-deploy-kit:section-end -->`;
  });
  if (sections.length < 2) return [marker, ...framed].join('\n');
  const overview = [
    `### Deploy ${cell(environment)}: ${sections.length} services`,
    '',
    table(
      sections.map((s) => s.row),
      ['Service', 'Status', 'Commit', 'URL'],
    ),
    '',
  ];
  return [marker, ...overview, ...framed.flatMap((f) => [f, ''])].join('\n').trimEnd();
}

export interface StickyOptions {
  /** Waits before the read that checks the write held; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** How many times a write a concurrent job overwrote is made again. Default 5. */
  attempts?: number;
  /** 0..1; the pause before the check is 500-1500 ms, spread so two jobs do not keep colliding. Default Math.random. */
  random?: () => number;
}

/**
 * Writes one service's section into the deploy comment of one environment on one pull request, keeping the other
 * services' sections. GitHub has neither "create unless exists" nor a conditional update, so two jobs reporting at
 * once can both create a comment, or one can write over a section the other just wrote. Every write therefore merges
 * what every marked comment holds (the newest copy of each section), everything collapses onto the OLDEST marked
 * comment, and after a pause the job reads the comment again: when its own section is not there as it wrote it (a
 * concurrent job's write, made from an older read, replaced it), it merges and writes again.
 */
export async function upsertServiceSection(
  octokit: GitHubClient,
  repo: RepoRef,
  issue: number,
  environment: string,
  section: ServiceSection,
  options: StickyOptions = {},
): Promise<StickyResult> {
  const marker = commentMarker(environment);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const attempts = options.attempts ?? 5;
  let action: StickyResult['action'] = 'updated';
  let removed = 0;
  let last: { id: number; url: string; services: string[] } | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const written = await writeMerged(octokit, repo, issue, marker, environment, section);
    if (attempt === 1) action = written.action;
    removed += written.removed;
    last = written;
    await sleep(500 + Math.round(random() * 1000));
    const after = await findMarkedComments(octokit, repo, issue, marker);
    const sections = after.length === 1 ? parseSections(after[0]!.body) : [];
    const mine = sections.find((s) => s.service === section.service);
    if (mine && mine.updatedAt === section.updatedAt && mine.body === section.body) {
      return { id: after[0]!.id, url: after[0]!.url, action, removed, services: sections.map((s) => s.service) };
    }
  }
  // Still contended after every attempt: the last write stands; the next report of any service merges again.
  return { ...last!, action, removed };
}

async function writeMerged(
  octokit: GitHubClient,
  repo: RepoRef,
  issue: number,
  marker: string,
  environment: string,
  section: ServiceSection,
): Promise<{ id: number; url: string; action: StickyResult['action']; removed: number; services: string[] }> {
  const merged = (comments: MarkedComment[]) =>
    mergeSections(...comments.map((c) => parseSections(c.body)))
      .filter((s) => s.service !== section.service)
      .concat(section)
      .sort((a, b) => a.service.localeCompare(b.service));
  const collapse = async (keep: MarkedComment, others: MarkedComment[], all: MarkedComment[]) => {
    const sections = merged(all);
    await octokit.rest.issues.updateComment({
      ...repo,
      comment_id: keep.id,
      body: renderSections(marker, environment, sections),
    });
    let removed = 0;
    for (const other of others) if (await deleteIfThere(octokit, repo, other.id)) removed++;
    return { id: keep.id, url: keep.url, removed, services: sections.map((s) => s.service) };
  };

  const existing = await findMarkedComments(octokit, repo, issue, marker);
  const [oldest, ...duplicates] = existing;
  if (oldest) return { ...(await collapse(oldest, duplicates, existing)), action: 'updated' };

  const sections = merged([]);
  const created = await octokit.rest.issues.createComment({
    ...repo,
    issue_number: issue,
    body: renderSections(marker, environment, sections),
  });
  const mine: MarkedComment = { id: created.data.id, url: created.data.html_url, body: created.data.body ?? '' };
  const after = await findMarkedComments(octokit, repo, issue, marker);
  const keep = after[0];
  if (!keep || keep.id === mine.id) {
    const extra = after.slice(1);
    if (extra.length === 0) return { ...mine, action: 'created', removed: 0, services: sections.map((s) => s.service) };
    return { ...(await collapse(mine, extra, after)), action: 'created' };
  }
  // Another job created its comment first: carry this job's section over to that one, then remove ours and others.
  return { ...(await collapse(keep, after.slice(1), after)), action: 'updated' };
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
