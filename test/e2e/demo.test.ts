import { type Sandbox, startSandbox } from '../../sandbox/index';
import { ClaimMismatch, checkAppRunner, checkBootTag, checkEcs, checkGroup, checkUrl } from '../../scripts/demo/checks';
import { type DemoResult, printResult, runDemo } from '../../scripts/demo/run';

// The whole demo: twenty-one bundle runs against one sandbox (a few minutes on two cores).
let sandbox: Sandbox;
let result: DemoResult;
const printed: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  const printer = { line: (text = '') => printed.push(text) };
  result = await runDemo(sandbox, printer);
  printResult(printer, result);
}, 600_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('npm run demo', () => {
  it('deploys v1 and v2 to every target, rolls the broken v3 back to v2, then rolls back to v1 by hand', () => {
    const { v1, v2, v3 } = result.commits;
    const targets = ['apprunner', 'asg', 'ecs', 'ecs-express'];
    expect(result.rows.map((r) => [r.step, r.target, r.commit, r.outcome, r.served])).toEqual([
      ...targets.map((t) => ['v1', t, v1, 'succeeded', v1]),
      ...targets.map((t) => ['v2', t, v2, 'succeeded', v2]),
      ...targets.map((t) => ['v3 (broken)', t, v3, 'rolled-back', v2]),
      ...targets.map((t) => ['manual rollback', t, v1, 'succeeded', v1]),
      // Passes its verification, answers 5xx to real traffic: the bake's alarm rolls it back.
      ['v4 (5xx under traffic)', 'ecs', expect.stringMatching(/^[0-9a-f]{40}$/), 'rolled-back', v1],
    ]);
    // Every deploy after App Runner's came later for its commit: the image was reused, and the demo says so.
    expect(
      printed.filter((line) => line.startsWith('  image    reused') && line.endsWith('nothing built')),
    ).toHaveLength(9);
    // App Runner 4, the group 4 x 2 (instances and boot tag), the ECS service 4 + the bake act, the Express service 4,
    // the cleanup 4, and the schedule act's paused and resumed ECS service.
    expect(printed.filter((line) => line.startsWith('  checked ✓'))).toHaveLength(4 + 8 + 5 + 4 + 4 + 2);
    expect(printed.join('\n')).toMatch(/ {2}bake {5}web-5xx went into ALARM at \S+: Threshold Crossed/);
  });

  it('cleans up ECR after a dry run, and the rollback target is still in the registry', () => {
    const text = printed.join('\n');
    expect(text).toMatch(/checked ✓ dry run: all \d+ images are still in the registry/);
    expect(text).toMatch(/checked ✓ [1-9]\d* image\(s\) gone from the registry \(\d+ bytes\), \d+ still there/);
    expect(text).toContain(`checked ✓ the rollback would go to ${result.commits.v2.slice(0, 7)} (v2)`);
    expect(text).toContain(`checked ✓ a rollback to ${result.commits.v3.slice(0, 7)} (v3, never verified) is refused`);
  });

  it('pauses the ECS service (nothing answers), says a second pause changes nothing, and resumes it on v1', () => {
    const text = printed.join('\n');
    expect(text).toContain('  result   paused');
    expect(text).toContain('saved in tags: {"desired":3}');
    expect(text).toMatch(/checked ✓ 0 tasks and \S+\/version → (HTTP 503|no answer) \(nothing serves\)/);
    expect(text).toMatch(/a second pause changes nothing: .*is already paused \(since [\dT:-]+Z\): nothing to do/);
    expect(text).toContain('  result   resumed');
    expect(text).toContain(`checked ✓ 3 tasks and ${result.world.ecsUrl}/version → ${result.commits.v1}`);
  });

  it('shows the last deploy as its job summary and its sticky pull-request comment', () => {
    expect(result.summary).toContain('## Deploy express: ↩️ rolled back');
    expect(result.comments).toHaveLength(4);
    const text = printed.join('\n');
    expect(text).toContain('│ ## Deploy express: ↩️ rolled back');
    expect(text).toContain('│ <!-- aws-deploy-kit:express -->');
    expect(text).toContain('also on #12: ### Deploy preview: ↩️ rolled back');
    expect(text).toContain('also on #12: ### Deploy production: ↩️ rolled back');
  });

  it('fails a claim the running services contradict, naming what they served', async () => {
    const { v1, v2 } = result.commits;
    const { serviceArn, group } = result.world;
    await expect(checkAppRunner(sandbox, serviceArn, v2, 'v2 is live')).rejects.toThrow(
      new ClaimMismatch(
        `v2 is live, but ${sandbox.apprunner.url(serviceArn)}/version answered "${v1}" (3 of 3 requests) instead of ${v2}`,
      ),
    );
    await expect(checkGroup(sandbox, group, 3, v2, 'v2 is live')).rejects.toThrow(
      new RegExp(`^v2 is live, but instance i-[0-9a-f]+ answered "${v1}" instead of ${v2}$`),
    );
    await expect(checkGroup(sandbox, group, 4, v1, 'v1 is live')).rejects.toThrow(
      `v1 is live, but ${group} has 3 instances in service instead of 4`,
    );
    await expect(checkEcs(sandbox, 'prod', 'web', 3, v2, 'v2 is live')).rejects.toThrow(
      `v2 is live, but ${sandbox.ecs.serviceUrl('prod', 'web')}/version answered "${v1}" (6 of 6 requests) instead of ${v2}`,
    );
    await expect(checkUrl(result.world.expressUrl, v2, 'v2 is live')).rejects.toThrow(
      `v2 is live, but ${result.world.expressUrl}/version answered "${v1}" (3 of 3 requests) instead of ${v2}`,
    );
    const v2Digest = (await sandbox.registry.client.manifest('web', `sha-${v2}`))!.digest;
    await expect(checkBootTag(sandbox, 'web', 'staging', v2Digest, 'v2 is live')).rejects.toThrow(
      /^v2 is live, but the boot tag web:staging names sha256:[0-9a-f]{64} instead of sha256:/,
    );
  });
});
