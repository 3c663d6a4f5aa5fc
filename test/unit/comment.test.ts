import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { FakeClock } from '../../src/core/clock';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import { commentMarker, pullRequestsFor, upsertStickyComment } from '../../src/github/comment';

const repo = { owner: 'octo-org', repo: 'web' };
const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

let github: GitHubEmulator;
let octokit: GitHubClient;

beforeEach(async () => {
  github = await startGitHubEmulator();
  octokit = await createGitHubClient(github.token, { apiUrl: github.apiUrl, clock: new FakeClock() });
  github.addPullRequest('octo-org/web', { number: 7, headSha: sha });
});
afterEach(() => github.stop());

const comments = () => github.repo('octo-org/web').comments.filter((c) => c.issue === 7);

it('makes one hidden marker per environment that cannot close the HTML comment early', () => {
  expect(commentMarker('staging')).toBe('<!-- aws-deploy-kit:staging -->');
  expect(commentMarker('a-->b')).toBe('<!-- aws-deploy-kit:a-b -->');
  expect(commentMarker('staging')).not.toBe(commentMarker('production'));
});

describe('upsertStickyComment', () => {
  it('creates the comment once, then edits it in place', async () => {
    await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'LGTM' });
    const first = await upsertStickyComment(octokit, repo, 7, 'staging', 'deploying');
    const second = await upsertStickyComment(octokit, repo, 7, 'staging', 'live');
    expect(first.action).toBe('created');
    expect(second).toMatchObject({ action: 'updated', id: first.id, removed: 0 });
    expect(comments().map((c) => c.body)).toEqual(['LGTM', '<!-- aws-deploy-kit:staging -->\nlive']);
  });

  it('keeps one comment per environment', async () => {
    await upsertStickyComment(octokit, repo, 7, 'staging', 'staging live');
    await upsertStickyComment(octokit, repo, 7, 'production', 'production live');
    await upsertStickyComment(octokit, repo, 7, 'staging', 'staging again');
    expect(comments().map((c) => c.body.split('\n')[1])).toEqual(['staging again', 'production live']);
  });

  it('collapses duplicates a crashed run left onto the oldest', async () => {
    const marker = commentMarker('staging');
    for (const body of ['old', 'dup']) {
      await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: `${marker}\n${body}` });
    }
    const result = await upsertStickyComment(octokit, repo, 7, 'staging', 'new');
    expect(result).toMatchObject({ action: 'updated', removed: 1 });
    expect(comments().map((c) => c.body)).toEqual([`${marker}\nnew`]);
  });

  it('leaves one comment when two runs create at the same moment', async () => {
    // Both runs list (no comment yet), then both create: the barrier holds the first create until the second arrives.
    github.addFault({ kind: 'barrier', route: 'create-issue-comment', parties: 2 });
    const results = await Promise.all([
      upsertStickyComment(octokit, repo, 7, 'staging', 'from run A'),
      upsertStickyComment(octokit, repo, 7, 'staging', 'from run B'),
    ]);
    expect(github.requestsOf('create-issue-comment')).toHaveLength(2);
    expect(comments()).toHaveLength(1);
    expect(results[0].id).toBe(results[1].id);
    expect(comments()[0]!.body).toMatch(/^<!-- aws-deploy-kit:staging -->\nfrom run [AB]$/);
  });

  it('lets a 403 through to the caller, which turns it into a warning', async () => {
    github.addFault({ kind: 'forbidden', route: 'create-issue-comment' });
    await expect(upsertStickyComment(octokit, repo, 7, 'staging', 'x')).rejects.toMatchObject({ status: 403 });
  });
});

describe('pullRequestsFor', () => {
  it('takes a pull_request event its number, without an API call', async () => {
    const payload = { pull_request: { number: 12 } };
    await expect(pullRequestsFor(octokit, repo, { eventName: 'pull_request', payload, sha })).resolves.toEqual([12]);
    expect(github.requests).toHaveLength(0);
  });

  it('finds the open pull requests of a pushed commit, else the latest merged one, else none', async () => {
    github.addPullRequest('octo-org/web', { number: 9, headSha: 'f'.repeat(40), commits: [sha] });
    await expect(pullRequestsFor(octokit, repo, { eventName: 'push', payload: {}, sha })).resolves.toEqual([7, 9]);

    const merged = 'e'.repeat(40);
    github.addPullRequest('octo-org/web', { number: 3, headSha: merged, state: 'closed', merged: true });
    github.addPullRequest('octo-org/web', { number: 5, headSha: merged, state: 'closed', merged: true });
    await expect(pullRequestsFor(octokit, repo, { eventName: 'push', payload: {}, sha: merged })).resolves.toEqual([5]);
    await expect(
      pullRequestsFor(octokit, repo, { eventName: 'workflow_dispatch', payload: {}, sha: 'd'.repeat(40) }),
    ).resolves.toEqual([]);
  });
});
