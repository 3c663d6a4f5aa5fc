import { type GitHubEmulator, startGitHubEmulator } from '../../sandbox/github';
import { FakeClock } from '../../src/core/clock';
import { type DeployRecord, newRecord, type Outcome } from '../../src/core/record';
import type { Service } from '../../src/core/service';
import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import {
  createDeployment,
  deploymentStateOf,
  environmentFlags,
  findPreviousGoodDeployment,
  recordDeployment,
  setDeploymentStatus,
} from '../../src/github/deployments';

const repo = { owner: 'octo-org', repo: 'web' };
const shas = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(2, '0').repeat(20));
const logUrl = 'https://github.com/octo-org/web/actions/runs/4242';

let github: GitHubEmulator;
let octokit: GitHubClient;

beforeEach(async () => {
  github = await startGitHubEmulator();
  octokit = await createGitHubClient(github.token, { apiUrl: github.apiUrl, clock: new FakeClock() });
});
afterEach(() => github.stop());

function record(commit: string, outcome: Outcome = 'in-progress', runId = '4242'): DeployRecord {
  return newRecord(commit, {
    environment: 'staging',
    outcome,
    target: { kind: 'apprunner', id: 'arn:aws:apprunner:us-east-1:1:service/web/x', url: 'https://web.example.com' },
    run: { runId },
  });
}

/** A deployment of `commit` to `environment` with the given statuses, oldest first. */
async function deployed(
  commit: string,
  states: ('success' | 'failure' | 'in_progress' | 'error')[],
  environment = 'staging',
) {
  const id = await createDeployment(octokit, repo, { environment, record: record(commit) });
  for (const state of states) await setDeploymentStatus(octokit, repo, id, { state });
  return id;
}

describe('environmentFlags', () => {
  it.each([
    ['production', true, false],
    ['prod-eu', true, false],
    ['staging', false, false],
    ['pr-123', false, true],
    ['preview', false, true],
    ['review/42', false, true],
    ['productivity-tools', false, false],
  ])('%s → production %s, transient %s', (name, production, transient) => {
    expect(environmentFlags(name)).toEqual({ production, transient });
  });
});

it('maps outcomes to deployment states (a rollback is a failure of the deploy)', () => {
  expect(deploymentStateOf('in-progress')).toBe('in_progress');
  expect(deploymentStateOf('succeeded')).toBe('success');
  expect(deploymentStateOf('failed')).toBe('failure');
  expect(deploymentStateOf('rolled-back')).toBe('failure');
  expect(deploymentStateOf('rollback-failed')).toBe('error');
  // GitHub has no cancelled state; never success, so never a rollback destination.
  expect(deploymentStateOf('cancelled')).toBe('error');
});

it('a cancelled deploy gets an error status saying so, and is passed over as a previous good deployment', async () => {
  const good = await deployed(shas[1]!, ['in_progress', 'success']);
  const cancelled: DeployRecord = {
    ...record(shas[2]!, 'cancelled'),
    cancellation: { runsNow: ['boot tag web:staging: sha256:… (the previous image, moved back)'], finish: 'aws …' },
  };
  const result = await recordDeployment(octokit, repo, cancelled, { environment: 'staging', runId: '4242' });
  expect(result).toMatchObject({ created: true, state: 'error' });
  expect(github.repo('octo-org/web').latestStatus(result.deploymentId)).toMatchObject({
    state: 'error',
    description: expect.stringMatching(/^0202020 was cancelled before it was verified: .*finish the rollback/),
  });
  await expect(findPreviousGoodDeployment(octokit, repo, 'staging')).resolves.toMatchObject({ id: good });
});

describe('recordDeployment', () => {
  it('creates the deployment once (ref = SHA, payload = record, no auto-merge, no required contexts)', async () => {
    const first = await recordDeployment(octokit, repo, record(shas[1]!), {
      environment: 'production',
      logUrl,
      runId: '4242',
    });
    expect(first).toMatchObject({ created: true, state: 'in_progress' });
    const [deployment] = github.repo('octo-org/web').deployments;
    expect(deployment).toMatchObject({
      id: first.deploymentId,
      ref: shas[1],
      sha: shas[1],
      environment: 'production',
      production_environment: true,
      transient_environment: false,
      payload: { schema: 'aws-deploy-kit/deploy-record', commit: shas[1], run: { runId: '4242' } },
      request: { auto_merge: false, required_contexts: [] },
    });
    expect(github.repo('octo-org/web').latestStatus(first.deploymentId)).toMatchObject({
      state: 'in_progress',
      environment_url: 'https://web.example.com',
      log_url: logUrl,
    });
  });

  it('updates the deployment this run created, found by run id when the record does not carry its id', async () => {
    const first = await recordDeployment(octokit, repo, record(shas[1]!), { environment: 'staging', runId: '4242' });
    const second = await recordDeployment(octokit, repo, record(shas[1]!, 'succeeded'), {
      environment: 'staging',
      runId: '4242',
    });
    expect(second).toEqual({ deploymentId: first.deploymentId, state: 'success', created: false });
    const otherRun = await recordDeployment(octokit, repo, record(shas[1]!, 'succeeded', '5555'), {
      environment: 'staging',
      runId: '5555',
    });
    expect(otherRun.created).toBe(true);
    expect(
      github
        .repo('octo-org/web')
        .statusesOf(first.deploymentId)
        .map((s) => s.state),
    ).toEqual(['in_progress', 'success', 'inactive']);
  });

  it('uses the deployment id the record carries', async () => {
    const id = await deployed(shas[1]!, []);
    const withId = { ...record(shas[1]!, 'failed', 'other'), github: { deploymentId: id } };
    await expect(recordDeployment(octokit, repo, withId, { environment: 'staging' })).resolves.toEqual({
      deploymentId: id,
      state: 'failure',
      created: false,
    });
    expect(github.repo('octo-org/web').deployments).toHaveLength(1);
  });
});

describe('findPreviousGoodDeployment', () => {
  it('finds the newest verified deployment older than the current one, skipping failures', async () => {
    const good = await deployed(shas[1]!, ['in_progress', 'success']);
    await deployed(shas[2]!, ['in_progress', 'failure']);
    await deployed(shas[3]!, ['success'], 'production');
    await deployed(shas[4]!, ['in_progress']);
    const current = await deployed(shas[5]!, ['in_progress']);
    const previous = await findPreviousGoodDeployment(octokit, repo, 'staging', { beforeDeploymentId: current });
    expect(previous).toMatchObject({ id: good, sha: shas[1], environment: 'staging', state: 'success' });
    expect(previous?.record).toMatchObject({ commit: shas[1], environment: 'staging' });
  });

  it('counts a deployment marked inactive after a later success, and looks past the current one', async () => {
    const older = (
      await recordDeployment(octokit, repo, record(shas[1]!, 'succeeded', '1'), { environment: 'staging' })
    ).deploymentId;
    const current = (
      await recordDeployment(octokit, repo, record(shas[2]!, 'succeeded', '2'), { environment: 'staging' })
    ).deploymentId;
    expect(github.repo('octo-org/web').latestStatus(older)?.state).toBe('inactive');
    await expect(
      findPreviousGoodDeployment(octokit, repo, 'staging', { beforeDeploymentId: current }),
    ).resolves.toMatchObject({ id: older, state: 'inactive', sha: shas[1] });
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging')).resolves.toMatchObject({ id: current });
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging', { excludeSha: shas[2]! })).resolves.toMatchObject(
      {
        id: older,
      },
    );
  });

  it('answers undefined when nothing was ever verified, and pages past the first 30 deployments', async () => {
    await deployed(shas[1]!, ['failure']);
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging')).resolves.toBeUndefined();
    const good = await deployed(shas[2]!, ['success']);
    for (let i = 0; i < 31; i++) await deployed(shas[3]!, ['failure']);
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging')).resolves.toMatchObject({ id: good });
    expect(github.requestsOf('list-deployments').length).toBeGreaterThanOrEqual(2);
  });

  it("passes over other tools' deployments (GitHub Actions' own for a job environment) unless asked", async () => {
    const { data } = await octokit.rest.repos.createDeployment({
      ...repo,
      ref: shas[1]!,
      environment: 'staging',
      payload: { deployedBy: 'another tool' },
      required_contexts: [],
    });
    const id = (data as { id: number }).id;
    await setDeploymentStatus(octokit, repo, id, { state: 'success' });
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging')).resolves.toBeUndefined();
    const previous = await findPreviousGoodDeployment(octokit, repo, 'staging', { includeForeign: true });
    expect(previous).toMatchObject({ id, sha: shas[1] });
    expect(previous?.record).toBeUndefined();
  });
});

describe('services of one environment', () => {
  const frontend: Service = { name: 'frontend', isDefault: false };
  const backend: Service = { name: 'backend', isDefault: false };
  const web: Service = { name: 'web', isDefault: true };
  const ofService = (commit: string, service: Service, outcome: Outcome = 'succeeded', runId = '4242') => ({
    ...record(commit, outcome, runId),
    service: service.name,
  });
  const state = (id: number) => github.repo('octo-org/web').latestStatus(id)?.state;

  it('gives each service its own deployment in one run, with a task naming it, and finds each again', async () => {
    const a = await recordDeployment(octokit, repo, ofService(shas[1]!, frontend, 'in-progress'), {
      environment: 'staging',
      runId: '4242',
      service: frontend,
    });
    const b = await recordDeployment(octokit, repo, ofService(shas[1]!, backend, 'in-progress'), {
      environment: 'staging',
      runId: '4242',
      service: backend,
    });
    expect(a.deploymentId).not.toBe(b.deploymentId);
    // The later report of the same run (no record output passed on) finds its own service's deployment.
    const again = await recordDeployment(octokit, repo, ofService(shas[1]!, backend), {
      environment: 'staging',
      runId: '4242',
      service: backend,
    });
    expect(again).toMatchObject({ created: false, deploymentId: b.deploymentId, state: 'success' });
    const tasks = github.repo('octo-org/web').deployments.map((d) => d.task);
    expect(tasks).toEqual(['deploy:frontend', 'deploy:backend']);
    expect(state(a.deploymentId)).toBe('in_progress');
  });

  it("never marks another service's deployment inactive; a service's next success retires its own", async () => {
    const front1 = await recordDeployment(octokit, repo, ofService(shas[1]!, frontend, 'succeeded', '1'), {
      environment: 'staging',
      service: frontend,
    });
    const back1 = await recordDeployment(octokit, repo, ofService(shas[1]!, backend, 'succeeded', '1'), {
      environment: 'staging',
      service: backend,
    });
    expect(state(front1.deploymentId)).toBe('success');
    const front2 = await recordDeployment(octokit, repo, ofService(shas[2]!, frontend, 'succeeded', '2'), {
      environment: 'staging',
      service: frontend,
    });
    expect(state(front1.deploymentId)).toBe('inactive');
    expect(state(back1.deploymentId)).toBe('success');
    expect(state(front2.deploymentId)).toBe('success');
  });

  it("searches only the service's history for the previous good deployment; records without a service are the default's", async () => {
    // Written before services existed: no service in the record, task "deploy".
    const legacy = await deployed(shas[1]!, ['success']);
    const back = await recordDeployment(octokit, repo, ofService(shas[2]!, backend, 'succeeded', '2'), {
      environment: 'staging',
      service: backend,
    });
    await recordDeployment(octokit, repo, ofService(shas[3]!, frontend, 'succeeded', '3'), {
      environment: 'staging',
      service: frontend,
    });
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging', { service: backend })).resolves.toMatchObject({
      id: back.deploymentId,
      sha: shas[2],
    });
    await expect(findPreviousGoodDeployment(octokit, repo, 'staging', { service: web })).resolves.toMatchObject({
      id: legacy,
      sha: shas[1],
    });
    await expect(
      findPreviousGoodDeployment(octokit, repo, 'staging', { service: { name: 'worker', isDefault: false } }),
    ).resolves.toBeUndefined();
  });
});

describe('the bake in the deployment status', () => {
  const state = (id: number) => github.repo('octo-org/web').latestStatus(id);

  it('says a version baked cleanly, or which alarm fired during the bake', async () => {
    const baked = {
      ...record(shas[1]!, 'succeeded', '7'),
      bake: { seconds: 300, alarms: [{ name: 'web-5xx', state: 'OK' }], alreadyInAlarm: [] },
    };
    const good = await recordDeployment(octokit, repo, baked, { environment: 'staging' });
    expect(state(good.deploymentId)?.description).toBe(
      `${shas[1]!.slice(0, 7)} is live: verified, and baked 5m with no alarm`,
    );
    const fired = {
      ...record(shas[2]!, 'rolled-back', '8'),
      previous: { commit: shas[1]! },
      bake: {
        seconds: 300,
        alarms: [{ name: 'web-5xx', state: 'ALARM' }],
        alreadyInAlarm: [],
        fired: { name: 'web-5xx', reason: 'Threshold Crossed', at: '2026-12-04T10:00:00Z' },
      },
    };
    const bad = await recordDeployment(octokit, repo, fired, { environment: 'staging' });
    expect(state(bad.deploymentId)).toMatchObject({
      state: 'failure',
      description: `${shas[2]!.slice(0, 7)} failed (alarm web-5xx fired during the bake) and was rolled back to ${shas[1]!.slice(0, 7)}`,
    });
  });
});
