import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { type DeployRecord, newRecord, parseRecord } from '../../src/core/record';

// The report bundle needs only the GitHub emulator: no registry, engine or AWS.
jest.setTimeout(120_000);

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const runUrl = 'https://github.com/octo-org/web/actions/runs/4242';
let github: GitHubEmulator;

beforeEach(async () => {
  github = await startGitHubEmulator();
  github.addPullRequest('octo-org/web', { number: 7, headSha: sha });
});
afterEach(() => github.stop());

function record(outcome: DeployRecord['outcome'] = 'in-progress'): DeployRecord {
  const start = Date.parse('2025-03-04T10:00:00Z');
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  return newRecord(sha, {
    environment: 'staging',
    image: {
      repository: 'web',
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:${'ab'.repeat(32)}`,
      digest: `sha256:${'ab'.repeat(32)}`,
      tags: ['sha-a1b2c3d'],
      reused: false,
    },
    target: { kind: 'apprunner', id: 'arn:aws:apprunner:us-east-1:1:service/web/x', url: 'https://web.example.com' },
    phases:
      outcome === 'in-progress'
        ? [{ name: 'deploy', status: 'running', startedAt: at(0) }]
        : [
            { name: 'deploy', status: 'succeeded', startedAt: at(0), endedAt: at(120) },
            { name: 'verify', status: 'succeeded', startedAt: at(120), endedAt: at(150) },
          ],
    outcome,
    run: { runId: '4242' },
  });
}

function report(
  deployRecord: DeployRecord | string,
  options: { token?: string; env?: Record<string, string>; inputs?: Record<string, string> } = {},
): Promise<BundleRun> {
  return runBundle('report', {
    inputs: {
      record: typeof deployRecord === 'string' ? deployRecord : JSON.stringify(deployRecord),
      'github-token': options.token ?? github.token,
      ...options.inputs,
    },
    env: { GITHUB_API_URL: github.apiUrl, ...options.env },
    secrets: [github.token, ...(options.token ? [options.token] : [])],
  });
}

const comments = () => github.repo('octo-org/web').comments;

it('creates the deployment and the comment, then updates both in place on the next report', async () => {
  const first = await report(record('in-progress'));
  expect(first.exitCode).toBe(0);
  expect(first.warnings).toEqual([]);
  const [deployment] = github.repo('octo-org/web').deployments;
  expect(deployment).toMatchObject({
    ref: sha,
    environment: 'staging',
    production_environment: false,
    payload: { commit: sha, outcome: 'in-progress', environment: 'staging' },
    request: { auto_merge: false, required_contexts: [] },
  });
  expect(first.outputs['deployment-id']).toBe(String(deployment!.id));
  expect(parseRecord('record', first.outputs.record!).github).toEqual({ deploymentId: deployment!.id });
  expect(first.outputs.phase).toBe('deploying');
  expect(comments()).toHaveLength(1);
  expect(comments()[0]!.body).toContain('<!-- aws-deploy-kit:staging -->');
  expect(comments()[0]!.body).toContain('**deploying**');
  expect(first.outputs['comment-url']).toBe(`https://github.com/octo-org/web/pull/7#issuecomment-${comments()[0]!.id}`);

  // The workflow passes the record on without the report's output: the deployment is found again by run id.
  const second = await report(record('succeeded'));
  expect(second.exitCode).toBe(0);
  expect(github.repo('octo-org/web').deployments).toHaveLength(1);
  expect(github.repo('octo-org/web').statusesOf(deployment!.id)).toEqual([
    expect.objectContaining({ state: 'in_progress', environment_url: 'https://web.example.com', log_url: runUrl }),
    expect.objectContaining({ state: 'success', environment_url: 'https://web.example.com', log_url: runUrl }),
  ]);
  expect(comments()).toHaveLength(1);
  expect(comments()[0]!.body).toContain('✅ live');
  expect(second.summary).toContain('## Deploy staging: ✅ live');
  expect(second.summary).toContain('```mermaid\ngantt');
  expect(second.summary).toContain('| **Service URL** | [https://web.example.com](https://web.example.com) |');
});

it('leaves one comment when two report runs race to create it', async () => {
  // Both runs find no comment, then both create one: the barrier lets the creates through only together.
  github.addFault({ kind: 'barrier', route: 'create-issue-comment', parties: 2 });
  const runs = await Promise.all([
    report(record('in-progress'), { inputs: { deployment: 'false' } }),
    report(record('succeeded'), { inputs: { deployment: 'false' } }),
  ]);
  expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
  expect(github.requestsOf('create-issue-comment')).toHaveLength(2);
  expect(github.requestsOf('delete-issue-comment').filter((r) => r.status === 204)).toHaveLength(1);
  expect(comments()).toHaveLength(1);
  expect(new Set(runs.map((r) => r.outputs['comment-url']))).toEqual(
    new Set([`https://github.com/octo-org/web/pull/7#issuecomment-${comments()[0]!.id}`]),
  );
});

it('warns with the permissions to add when the token may not comment or deploy, and still succeeds', async () => {
  const readOnly = 'ghs_readonlytoken0123456789';
  github.addToken(readOnly, { permissions: { pull_requests: 'read', issues: 'read', deployments: 'none' } });
  const run = await report(record('succeeded'), { token: readOnly });
  expect(run.exitCode).toBe(0);
  expect(run.errors).toEqual([]);
  expect(run.warnings).toEqual([
    expect.stringMatching(
      /record the GitHub deployment of staging: Resource not accessible by integration \(HTTP 403\)\. Add to the job: `permissions: \{ deployments: write \}`/,
    ),
    expect.stringMatching(/comment on pull request #7: .*HTTP 403.*`permissions: \{ pull-requests: write \}`/),
  ]);
  expect(comments()).toHaveLength(0);
  expect(run.summary).toContain('## Deploy staging: ✅ live');
  expect(run.outputs.record).toBeDefined();
});

it('turns an injected 403 on comments into a warning, exit code 0', async () => {
  github.addFault({ kind: 'forbidden', route: 'list-issue-comments', times: Infinity });
  const run = await report(record('succeeded'), { inputs: { deployment: 'false' } });
  expect(run.exitCode).toBe(0);
  expect(run.warnings).toHaveLength(1);
  expect(run.warnings[0]).toContain('pull-requests: write');
});

it('waits out a secondary rate limit and reports anyway', async () => {
  github.addFault({ kind: 'secondary-rate-limit', route: 'create-deployment', retryAfterSeconds: 1 });
  const run = await report(record('succeeded'));
  expect(run.exitCode).toBe(0);
  expect(run.warnings).toEqual([]);
  expect(github.requestsOf('create-deployment').map((r) => r.status)).toEqual([403, 201]);
  expect(run.log).toContain('secondary rate limit');
});

it('comments on the pull request of a pull_request event without looking the commit up', async () => {
  github.addPullRequest('octo-org/web', { number: 12, headSha: 'f'.repeat(40) });
  const run = await report(record('succeeded'), {
    env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_JSON: JSON.stringify({ pull_request: { number: 12 } }) },
  });
  expect(run.exitCode).toBe(0);
  expect(github.requestsOf('list-commit-pulls')).toHaveLength(0);
  expect(comments().map((c) => c.issue)).toEqual([12]);
});

it('warns when no pull request contains the commit', async () => {
  const lonely = { ...record('succeeded'), commit: 'c'.repeat(40) };
  const run = await report(lonely);
  expect(run.exitCode).toBe(0);
  expect(run.warnings).toEqual([expect.stringContaining('No pull request contains commit ccccccc')]);
  expect(github.repo('octo-org/web').deployments).toHaveLength(1);
});

it('fails only on a malformed record, before any GitHub call', async () => {
  const run = await report('{"schema":"something-else"}');
  expect(run.exitCode).not.toBe(0);
  expect(run.errors).toEqual([
    expect.stringContaining(`Input 'record' has an invalid value "{\\"schema\\":\\"something-else\\"}"`),
  ]);
  expect(github.requests).toHaveLength(0);
});

it.each([
  ['the environment input', { inputs: { environment: 'staging;x' } }, record()],
  ['the record', {}, { ...record(), environment: 'staging\nx' }],
])('fails, before any GitHub call, on a bad environment in %s', async (_where, options, deployRecord) => {
  const run = await report(deployRecord, options);
  expect(run.exitCode).toBe(1);
  expect(run.errors).toEqual([expect.stringMatching(/^Input 'environment' has an invalid value "staging(;|\\n)x"/)]);
  expect(github.requests).toHaveLength(0);
});
