import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { FakeClock } from '../../src/core/clock';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import {
  commentMarker,
  mergeSections,
  parseSections,
  pullRequestsFor,
  renderSections,
  type ServiceSection,
  upsertServiceSection,
} from '../../src/github/comment';

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

const noWait = { sleep: async () => {} };
let clockTick = 0;
function section(service: string, body: string): ServiceSection {
  clockTick += 1000;
  return {
    service,
    updatedAt: new Date(Date.UTC(2026, 11, 4) + clockTick).toISOString(),
    row: [`\`${service}\``, body, '`a1b2c3d`', '–'],
    body,
  };
}
const sectionsOf = (body: string) => parseSections(body).map((s) => [s.service, s.body]);

describe('upsertServiceSection', () => {
  it('creates the comment once, then edits it in place; one service looks as a single report always did', async () => {
    await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'LGTM' });
    const first = await upsertServiceSection(octokit, repo, 7, 'staging', section('web', 'deploying'), noWait);
    const second = await upsertServiceSection(octokit, repo, 7, 'staging', section('web', 'live'), noWait);
    expect(first).toMatchObject({ action: 'created', services: ['web'] });
    expect(second).toMatchObject({ action: 'updated', id: first.id, removed: 0, services: ['web'] });
    expect(comments()).toHaveLength(2);
    const body = comments()[1]!.body;
    expect(body.startsWith('<!-- aws-deploy-kit:staging -->\n')).toBe(true);
    expect(sectionsOf(body)).toEqual([['web', 'live']]);
    // No overview table for a single service.
    expect(body).not.toContain('| Service |');
  });

  it('keeps one comment per environment', async () => {
    await upsertServiceSection(octokit, repo, 7, 'staging', section('web', 'staging live'), noWait);
    await upsertServiceSection(octokit, repo, 7, 'production', section('web', 'production live'), noWait);
    await upsertServiceSection(octokit, repo, 7, 'staging', section('web', 'staging again'), noWait);
    expect(comments().map((c) => sectionsOf(c.body))).toEqual([
      [['web', 'staging again']],
      [['web', 'production live']],
    ]);
  });

  it('shows two services of one environment in one comment, a row each, and updates one without the other', async () => {
    await upsertServiceSection(octokit, repo, 7, 'staging', section('frontend', 'frontend deploying'), noWait);
    await upsertServiceSection(octokit, repo, 7, 'staging', section('backend', 'backend live'), noWait);
    const result = await upsertServiceSection(
      octokit,
      repo,
      7,
      'staging',
      section('frontend', 'frontend live'),
      noWait,
    );
    expect(result.services).toEqual(['backend', 'frontend']);
    expect(comments()).toHaveLength(1);
    const body = comments()[0]!.body;
    expect(body).toContain('### Deploy staging: 2 services');
    expect(body).toMatch(/\| `backend` \| backend live \|/);
    expect(body).toMatch(/\| `frontend` \| frontend live \|/);
    expect(sectionsOf(body)).toEqual([
      ['backend', 'backend live'],
      ['frontend', 'frontend live'],
    ]);
  });

  it('collapses duplicates a crashed run left onto the oldest, keeping the sections they held', async () => {
    const marker = commentMarker('staging');
    // A comment written before services existed (no sections), and a duplicate holding the backend's section.
    await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: `${marker}\nold report` });
    const backend = renderSections(marker, 'staging', [section('backend', 'backend live')]);
    await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: backend });
    const result = await upsertServiceSection(octokit, repo, 7, 'staging', section('frontend', 'new'), noWait);
    expect(result).toMatchObject({ action: 'updated', removed: 1 });
    expect(comments()).toHaveLength(1);
    expect(sectionsOf(comments()[0]!.body)).toEqual([
      ['backend', 'backend live'],
      ['frontend', 'new'],
    ]);
    expect(comments()[0]!.body).not.toContain('old report');
  });

  it('leaves one comment with both sections when two jobs create at the same moment', async () => {
    // Both jobs list (no comment yet), then both create: the barrier holds the first create until the second arrives.
    github.addFault({ kind: 'barrier', route: 'create-issue-comment', parties: 2 });
    const results = await Promise.all([
      upsertServiceSection(octokit, repo, 7, 'staging', section('frontend', 'from job A'), noWait),
      upsertServiceSection(octokit, repo, 7, 'staging', section('backend', 'from job B'), noWait),
    ]);
    expect(github.requestsOf('create-issue-comment')).toHaveLength(2);
    expect(comments()).toHaveLength(1);
    expect(results[0].id).toBe(results[1].id);
    expect(sectionsOf(comments()[0]!.body)).toEqual([
      ['backend', 'from job B'],
      ['frontend', 'from job A'],
    ]);
  });

  it('writes its section again when a concurrent job, writing from an older read, dropped it', async () => {
    const marker = commentMarker('staging');
    await upsertServiceSection(octokit, repo, 7, 'staging', section('frontend', 'frontend live'), noWait);
    const id = comments()[0]!.id;
    // The frontend job read the comment before the backend wrote its section, and writes after it: its body holds
    // the frontend only. That write lands while the backend job pauses before its check.
    const stale = renderSections(marker, 'staging', [section('frontend', 'frontend verified')]);
    let pauses = 0;
    const result = await upsertServiceSection(octokit, repo, 7, 'staging', section('backend', 'backend live'), {
      sleep: async () => {
        if (pauses++ === 0) await octokit.rest.issues.updateComment({ ...repo, comment_id: id, body: stale });
      },
    });
    expect(pauses).toBe(2);
    expect(result.services).toEqual(['backend', 'frontend']);
    expect(sectionsOf(comments()[0]!.body)).toEqual([
      ['backend', 'backend live'],
      ['frontend', 'frontend verified'],
    ]);
  });

  it('lets a 403 through to the caller, which turns it into a warning', async () => {
    github.addFault({ kind: 'forbidden', route: 'create-issue-comment' });
    await expect(upsertServiceSection(octokit, repo, 7, 'staging', section('web', 'x'), noWait)).rejects.toMatchObject({
      status: 403,
    });
  });
});

describe('parseSections', () => {
  it('reads back what renderSections wrote, whatever the body holds, and ignores a mangled section', () => {
    const tricky = section('api', 'a body with --> and <!-- and | pipes\nover two lines');
    const text = renderSections(commentMarker('prod'), 'prod', [tricky, section('web', 'ok')]);
    expect(parseSections(text)).toEqual([tricky, expect.objectContaining({ service: 'web' })]);
    const mangled = text.replace(/section ([A-Za-z0-9+/=]{8})/, 'section !!!$1');
    expect(parseSections(mangled).map((s) => s.service)).toEqual(['web']);
  });

  it('keeps the newer copy of a section found twice', () => {
    const older = section('api', 'older');
    const newer = section('api', 'newer');
    expect(mergeSections([newer], [older]).map((s) => s.body)).toEqual(['newer']);
    expect(mergeSections([older], [newer]).map((s) => s.body)).toEqual(['newer']);
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
