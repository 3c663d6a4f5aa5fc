import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { FakeClock } from '../../src/core/clock';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';

// Conformance of the GitHub emulator, driven through the same Octokit the bundles use.
const repo = { owner: 'octo-org', repo: 'web' };
const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const sha2 = 'b2c3d4e5f60718293a4b5c6d7e8f901234567890';

let github: GitHubEmulator;
let octokit: GitHubClient;
let clock: FakeClock;

beforeEach(async () => {
  github = await startGitHubEmulator();
  clock = new FakeClock(Date.now());
  octokit = await createGitHubClient(github.token, { apiUrl: github.apiUrl, clock });
});
afterEach(() => github.stop());

async function deploy(environment: string, ref = sha): Promise<number> {
  const { data } = await octokit.rest.repos.createDeployment({
    ...repo,
    ref,
    environment,
    auto_merge: false,
    required_contexts: [],
  });
  return (data as { id: number }).id;
}

async function statesOf(id: number): Promise<string[]> {
  const { data } = await octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: id });
  return data.map((s) => s.state);
}

describe('authentication and rate limits', () => {
  it('answers 401 Bad credentials to a missing or unknown token', async () => {
    const stranger = await createGitHubClient('ghs_not_a_token', { apiUrl: github.apiUrl, clock });
    await expect(stranger.rest.repos.listDeployments(repo)).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining('Bad credentials'),
    });
    const anonymous = await fetch(`${github.apiUrl}/repos/octo-org/web/deployments`);
    expect(anonymous.status).toBe(401);
  });

  it('accepts the Bearer scheme too and counts the rate limit in x-ratelimit headers', async () => {
    const first = await fetch(`${github.apiUrl}/repos/octo-org/web/deployments`, {
      headers: { authorization: `Bearer ${github.token}` },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('999');
    expect(first.headers.get('x-ratelimit-used')).toBe('1');
    expect(first.headers.get('x-ratelimit-resource')).toBe('core');
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const second = await octokit.rest.repos.listDeployments(repo);
    expect(second.headers['x-ratelimit-remaining']).toBe('998');
  });

  it('answers 403 once the primary rate limit is used up', async () => {
    github.rateLimit = 1;
    await octokit.rest.repos.listDeployments(repo);
    const limited = await createGitHubClient(github.token, { apiUrl: github.apiUrl, clock, retries: 0 });
    await expect(limited.rest.repos.listDeployments(repo)).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('API rate limit exceeded'),
    });
  });

  it("refuses a token without the route's permission with GitHub's 403 and the accepted permissions", async () => {
    github.addToken('ghs_readonly', { permissions: { deployments: 'read', pull_requests: 'read', issues: 'read' } });
    const readonly = await createGitHubClient('ghs_readonly', { apiUrl: github.apiUrl, clock });
    await expect(readonly.rest.repos.listDeployments(repo)).resolves.toMatchObject({ status: 200 });
    const refused = await readonly.rest.repos.createDeployment({ ...repo, ref: sha }).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 403,
      message: expect.stringContaining('Resource not accessible by integration'),
      response: { headers: { 'x-accepted-github-permissions': 'deployments=write' } },
    });
  });
});

describe('deployments', () => {
  it('creates a deployment from a SHA with its payload and flags, and refuses an unknown ref', async () => {
    const { data } = await octokit.rest.repos.createDeployment({
      ...repo,
      ref: sha,
      environment: 'staging',
      payload: { hello: 'world' },
      transient_environment: false,
      production_environment: false,
      auto_merge: false,
      required_contexts: [],
    });
    expect(data).toMatchObject({
      sha,
      ref: sha,
      environment: 'staging',
      payload: { hello: 'world' },
      production_environment: false,
    });
    await expect(octokit.rest.repos.createDeployment({ ...repo, ref: 'no-such-branch' })).rejects.toMatchObject({
      status: 422,
    });
  });

  it('refuses (409) a deployment while a required context is pending unless required_contexts is []', async () => {
    github.repo('octo-org/web').pendingContexts = ['ci/test'];
    await expect(octokit.rest.repos.createDeployment({ ...repo, ref: sha, auto_merge: false })).rejects.toMatchObject({
      status: 409,
    });
    await expect(deploy('staging')).resolves.toEqual(expect.any(Number));
  });

  it('filters by environment and sha, newest first, and paginates with Link headers', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await deploy('staging'));
    await deploy('production');
    await deploy('staging', sha2);
    const page = await octokit.rest.repos.listDeployments({ ...repo, environment: 'staging', sha, per_page: 2 });
    expect(page.data.map((d) => d.id)).toEqual([ids[4], ids[3]]);
    expect(page.headers.link).toContain('rel="next"');
    expect(page.headers.link).toContain('rel="last"');
    const all = await octokit.paginate(octokit.rest.repos.listDeployments, {
      ...repo,
      environment: 'staging',
      sha,
      per_page: 2,
    });
    expect(all.map((d) => d.id)).toEqual([...ids].reverse());
    expect(github.requestsOf('list-deployments')).toHaveLength(4);
  });

  it('marks earlier successful deployments of the same environment inactive on success, no other environment', async () => {
    const oldStaging = await deploy('staging');
    const production = await deploy('production');
    const failedStaging = await deploy('staging');
    const newStaging = await deploy('staging', sha2);
    for (const id of [oldStaging, production]) {
      await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: id, state: 'success' });
    }
    await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: failedStaging, state: 'failure' });
    await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: newStaging, state: 'in_progress' });
    const { data: status } = await octokit.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: newStaging,
      state: 'success',
      environment_url: 'https://staging.example.com',
      log_url: 'https://github.com/octo-org/web/actions/runs/1',
    });
    expect(status).toMatchObject({ state: 'success', environment_url: 'https://staging.example.com' });
    expect(await statesOf(oldStaging)).toEqual(['inactive', 'success']);
    expect(await statesOf(production)).toEqual(['success']);
    expect(await statesOf(failedStaging)).toEqual(['failure']);
    expect(await statesOf(newStaging)).toEqual(['success', 'in_progress']);
  });

  it('leaves earlier deployments active when auto_inactive is false', async () => {
    const first = await deploy('staging');
    await octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: first, state: 'success' });
    const second = await deploy('staging');
    await octokit.rest.repos.createDeploymentStatus({
      ...repo,
      deployment_id: second,
      state: 'success',
      auto_inactive: false,
    });
    expect(await statesOf(first)).toEqual(['success']);
  });

  it('answers 404 for a status of an unknown deployment and 422 for an unknown state', async () => {
    await expect(
      octokit.rest.repos.createDeploymentStatus({ ...repo, deployment_id: 999_999, state: 'success' }),
    ).rejects.toMatchObject({ status: 404 });
    const id = await deploy('staging');
    await expect(
      octokit.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
        ...repo,
        deployment_id: id,
        state: 'done' as 'success',
      }),
    ).rejects.toMatchObject({ status: 422 });
  });
});

describe('pull requests and comments', () => {
  it('finds the pull requests containing a commit', async () => {
    github.addPullRequest('octo-org/web', { number: 7, headSha: sha2, commits: [sha] });
    github.addPullRequest('octo-org/web', { number: 8, headSha: sha2 });
    const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha });
    expect(data.map((p) => p.number)).toEqual([7]);
  });

  it('creates, lists (paginated, oldest first), updates and deletes issue comments', async () => {
    github.addPullRequest('octo-org/web', { number: 7, headSha: sha });
    const ids: number[] = [];
    for (const body of ['one', 'two', 'three']) {
      const { data } = await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body });
      ids.push(data.id);
    }
    await octokit.rest.issues.updateComment({ ...repo, comment_id: ids[1]!, body: 'TWO' });
    await octokit.rest.issues.deleteComment({ ...repo, comment_id: ids[0]! });
    const all = await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: 7, per_page: 1 });
    expect(all.map((c) => c.body)).toEqual(['TWO', 'three']);
    await expect(octokit.rest.issues.deleteComment({ ...repo, comment_id: ids[0]! })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      octokit.rest.issues.createComment({ ...repo, issue_number: 404, body: 'nowhere' }),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe('injected faults', () => {
  it('answers an injected 403 and 404 on the chosen route only, and records every request', async () => {
    github.addPullRequest('octo-org/web', { number: 7, headSha: sha });
    github.addFault({ kind: 'forbidden', route: 'create-issue-comment' });
    github.addFault({ kind: 'not-found', route: 'list-deployments' });
    await expect(octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'x' })).rejects.toMatchObject({
      status: 403,
      response: { headers: { 'x-accepted-github-permissions': expect.any(String) } },
    });
    await expect(octokit.rest.repos.listDeployments(repo)).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.issues.listComments({ ...repo, issue_number: 7 })).resolves.toMatchObject({
      status: 200,
    });
    expect(github.requests.map((r) => [r.route, r.status])).toEqual([
      ['create-issue-comment', 403],
      ['list-deployments', 404],
      ['list-issue-comments', 200],
    ]);
    expect(JSON.stringify(github.requests)).not.toContain(github.token);
  });

  it('answers a secondary rate limit with retry-after, which the client waits out and retries', async () => {
    github.addFault({ kind: 'secondary-rate-limit', route: 'list-deployments', retryAfterSeconds: 7, times: 2 });
    const started = clock.now();
    await expect(octokit.rest.repos.listDeployments(repo)).resolves.toMatchObject({ status: 200 });
    expect(github.requestsOf('list-deployments').map((r) => r.status)).toEqual([403, 403, 200]);
    expect(clock.now() - started).toBe(14_000);
  });

  it('gives up on a secondary rate limit whose retry-after is longer than it will wait', async () => {
    github.addFault({ kind: 'secondary-rate-limit', route: 'list-deployments', retryAfterSeconds: 3600 });
    await expect(octokit.rest.repos.listDeployments(repo)).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('secondary rate limit'),
      response: { headers: { 'retry-after': '3600' } },
    });
  });

  it('holds requests at a barrier until all parties arrive', async () => {
    github.addPullRequest('octo-org/web', { number: 7, headSha: sha });
    github.addFault({ kind: 'barrier', route: 'create-issue-comment', parties: 2 });
    let firstDone = false;
    const first = octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'a' }).then(() => {
      firstDone = true;
    });
    await octokit.rest.issues.listComments({ ...repo, issue_number: 7 });
    expect(firstDone).toBe(false);
    await octokit.rest.issues.createComment({ ...repo, issue_number: 7, body: 'b' });
    await first;
    expect(github.repo('octo-org/web').comments).toHaveLength(2);
  });
});
