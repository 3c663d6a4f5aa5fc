import { AutoScalingClient, DescribeInstanceRefreshesCommand } from '@aws-sdk/client-auto-scaling';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { RUNNER_CANCEL, runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';
import { poll } from '../../src/core/poller';
import type { DeployRecord } from '../../src/core/record';

// The all-in-one action cancelled during an instance refresh, as a runner cancels a job: SIGINT, SIGTERM 7.5 s
// later, SIGKILL 2.5 s after that, then the post step (action.yml `post:`, `post-if: always()`).

jest.setTimeout(180_000);

let sandbox: Sandbox;
let autoscaling: AutoScalingClient;
const digests: Record<string, string> = {};
let counter = 0;

beforeAll(async () => {
  sandbox = await startSandbox();
  // One "second" of warmup lasts 10 ms: a 3000 s warmup keeps the refresh in progress for 30 s.
  sandbox.autoscaling.timing = { bootMs: 100, healthCheckMs: 150, graceMs: 4_000, secondMs: 10, pendingMs: 100 };
  Object.assign(process.env, sandbox.aws.clientEnv());
  autoscaling = new AutoScalingClient({});
  sandbox.ecr.createRepository('app');
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  const context = await sampleAppContext();
  for (const version of ['v1', 'v2']) {
    await docker(
      ['build', '--no-cache', '-t', `${host}/app:${version}`, '--build-arg', `VERSION=${version}`, context],
      sandbox.env(),
    );
    await docker(['push', `${host}/app:${version}`], sandbox.env());
    digests[version] = (await sandbox.registry.client.manifest('app', version))!.digest;
  }
}, 240_000);

afterAll(async () => {
  await sandbox?.stop();
});

/** A 2-instance group booting `<environment>` (on v1), and v2 pushed as the commit's image (so nothing is built). */
async function world(): Promise<{ name: string; environment: string; sha: string; pr: number }> {
  counter++;
  const name = `web-cancel-${counter}`;
  const environment = `staging-${counter}`;
  const sha = `${String(counter).repeat(7)}${'c'.repeat(33)}`;
  for (const [tag, version] of [
    [environment, 'v1'],
    [`sha-${sha}`, 'v2'],
  ] as const) {
    const manifest = await sandbox.registry.client.manifest('app', version);
    await sandbox.registry.client.putManifest('app', tag, manifest!.mediaType, manifest!.bytes);
  }
  await sandbox.autoscaling.createGroup({
    name,
    repository: 'app',
    bootTag: environment,
    instances: 2,
    healthCheckType: 'ELB',
  });
  const pr = 20 + counter;
  sandbox.github.addPullRequest('octo-org/web', { number: pr, headSha: sha });
  return { name, environment, sha, pr };
}

function pipeline(w: { name: string; environment: string; sha: string }, signals: Parameters<typeof runBundle>[1]) {
  return runBundle('pipeline', {
    inputs: {
      target: 'asg',
      repository: 'app',
      environment: w.environment,
      'asg-name': w.name,
      'health-url': `${sandbox.autoscaling.loadBalancerUrl(w.name)}/health`,
      'github-token': sandbox.github.token,
      'min-healthy-percentage': '50',
      'instance-warmup': '3000',
      'timeout-minutes': '120',
    },
    env: { ...sandbox.env(), GITHUB_SHA: w.sha },
    secrets: [sandbox.registry.password, sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? '', sandbox.github.token],
    ...signals,
  });
}

async function refreshStatuses(name: string): Promise<string[]> {
  // CancelInstanceRefresh answers at once; the refresh itself turns Cancelled a moment later.
  const statuses = async () =>
    (
      (await autoscaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name })))
        .InstanceRefreshes ?? []
    ).map((r) => r.Status ?? '');
  await poll({
    what: 'the cancelled refresh to stop',
    timeoutMs: 30_000,
    minDelayMs: 100,
    maxDelayMs: 100,
    check: async () => ({ done: !(await statuses()).includes('Cancelling'), value: undefined }),
  });
  return statuses();
}

async function bootTag(environment: string): Promise<string | undefined> {
  return (await sandbox.registry.client.manifest('app', environment))?.digest;
}

describe('the all-in-one action cancelled during an instance refresh', () => {
  it('SIGINT then SIGTERM: no refresh left, boot tag back, outcome cancelled, GitHub told, no rollback started', async () => {
    const w = await world();
    const main = await pipeline(w, {
      signals: [
        { signal: 'SIGINT', afterMs: 0 },
        { signal: 'SIGTERM', afterMs: 50 },
        { signal: 'SIGKILL', afterMs: RUNNER_CANCEL[2]!.afterMs },
      ],
      signalsWhen: /Instance refresh [0-9a-f-]+ of web-cancel-\d+: InProgress/,
    });
    expect(main.killedBy).toBeUndefined();
    expect(main.exitCode).toBe(1);
    expect(main.outputs.outcome).toBe('cancelled');
    const record = JSON.parse(main.outputs.record ?? '{}') as DeployRecord;
    expect(record.outcome).toBe('cancelled');
    expect(record.cancellation?.runsNow.join('\n')).toContain(`${digests.v1} (the previous image, moved back)`);
    expect(record.cancellation?.finish).toMatch(/^aws autoscaling start-instance-refresh/);
    // Nothing was rolled back by a refresh of its own: only the deploy's refresh exists, and it is cancelled.
    expect(record.phases.map((p) => p.name)).not.toContain('rollback');
    expect(main.log).not.toContain('Rolling back:');
    expect(await refreshStatuses(w.name)).toEqual(['Cancelled']);
    expect(await bootTag(w.environment)).toBe(digests.v1);
    expect(main.warnings.join('\n')).toContain(`To finish the rollback, run: ${record.cancellation?.finish}`);

    // The report ran on its own deadline, after the job's signal was aborted.
    const github = sandbox.github.repo('octo-org/web');
    const deployment = github.deployments.find((d) => d.ref === w.sha);
    expect(deployment).toMatchObject({ environment: w.environment, payload: { outcome: 'cancelled' } });
    expect(github.latestStatus(deployment!.id)).toMatchObject({ state: 'error' });
    expect(github.comments.find((c) => c.issue === w.pr)?.body).toContain('⏹️ cancelled');

    // The post step finds it settled: no AWS call, nothing done twice.
    const calls = sandbox.aws.calls.length;
    const post = await runBundle('pipeline-post', { env: sandbox.env(), state: main.state });
    expect(post.exitCode).toBe(0);
    expect(post.warnings).toEqual([]);
    expect(sandbox.aws.calls.length).toBe(calls);
  });

  it('SIGKILL: the post step alone cancels the refresh and moves the boot tag back', async () => {
    const w = await world();
    const main = await pipeline(w, {
      signals: [{ signal: 'SIGKILL', afterMs: 0 }],
      signalsWhen: /Started instance refresh/,
    });
    expect(main.killedBy).toBe('SIGKILL');
    expect(main.state['target-kind']).toBe('asg');
    expect(main.state['boot-tag-moved']).toBe('true');
    expect(await bootTag(w.environment)).toBe(digests.v2);

    const post = await runBundle('pipeline-post', { env: sandbox.env(), state: main.state });
    expect(post.exitCode).toBe(0);
    const warnings = post.warnings.join('\n');
    expect(warnings).toContain(`The deploy step ended early: cancelled instance refresh ${main.state['refresh-id']}`);
    expect(warnings).toContain('To finish the rollback, run: aws autoscaling start-instance-refresh');
    expect(post.summary).toContain(`### Auto Scaling refresh of ${w.name}: cancelled`);
    expect(await refreshStatuses(w.name)).toEqual(['Cancelled']);
    expect(await bootTag(w.environment)).toBe(digests.v1);
  });
});
