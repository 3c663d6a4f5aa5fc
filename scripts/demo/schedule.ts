// The demo's off-hours act: the schedule action pauses the ECS service (its tasks stop, its URL stops answering),
// a second pause changes nothing, and a resume brings the same commit back. Every claim is checked.
import type { Sandbox } from '../../sandbox/index';
import { type BundleRun, runBundle } from '../../sandbox/run-bundle';
import { ClaimMismatch, checkEcs } from './checks';
import { detail, framed, heading, type Printer, seconds, short } from './print';
import { type DemoWorld, ECS_CLUSTER, ECS_ENVIRONMENT, ECS_SERVICE, TASKS } from './setup';

function schedule(sandbox: Sandbox, world: DemoWorld, mode: 'pause' | 'resume'): Promise<BundleRun> {
  return runBundle('schedule', {
    inputs: {
      mode,
      environment: ECS_ENVIRONMENT,
      target: 'ecs',
      cluster: ECS_CLUSTER,
      'ecs-service': ECS_SERVICE,
      region: 'us-east-1',
      'health-url': `${world.ecsUrl}/health`,
      'health-interval-seconds': '0.5',
      'health-timeout-minutes': '0.5',
      'timeout-minutes': '2',
    },
    env: sandbox.env(),
    secrets: [sandbox.registry.password, sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY ?? ''],
  });
}

/** Runs one schedule step and insists on its `result` output. */
async function step(
  sandbox: Sandbox,
  world: DemoWorld,
  out: Printer,
  mode: 'pause' | 'resume',
  want: string,
  verbose: boolean,
): Promise<BundleRun> {
  const started = Date.now();
  const run = await schedule(sandbox, world, mode);
  if (verbose) framed(out, 'action log', run.log);
  if (run.exitCode !== 0 || run.outputs.result !== want) {
    const tail = run.log.trimEnd().split('\n').slice(-20).join('\n');
    throw new ClaimMismatch(
      `schedule ${mode}: expected result ${want}, the action reported ${run.outputs.result || '(none)'} (exit ` +
        `${run.exitCode})\n  Last lines of the action's log:\n${tail.replace(/^/gm, '    ')}`,
    );
  }
  detail(out, `result   ${want} (${seconds(Date.now() - started)}); saved in tags: ${run.outputs.saved}`);
  return run;
}

/** No task runs and the service's load balancer has nothing to send a request to. */
async function checkPaused(sandbox: Sandbox, url: string, claim: string): Promise<string> {
  const running = sandbox.ecs.runningImages(ECS_CLUSTER, ECS_SERVICE);
  const answer = await fetch(`${url}/version`, { signal: AbortSignal.timeout(5_000) }).then(
    (r) => `HTTP ${r.status}`,
    () => 'no answer',
  );
  if (running.length > 0 || answer === 'HTTP 200') {
    throw new ClaimMismatch(`${claim}, but ${running.length} tasks run and ${url}/version answered ${answer}`);
  }
  return `0 tasks and ${url}/version → ${answer} (nothing serves)`;
}

/** Pause, a second pause, resume, on the ECS service that serves `sha`. */
export async function scheduleAct(
  sandbox: Sandbox,
  world: DemoWorld,
  out: Printer,
  sha: string,
  verbose = false,
): Promise<void> {
  heading(
    out,
    `Off-hours: pausing the ${TASKS}-task ECS service ${ECS_SERVICE} (${ECS_ENVIRONMENT}) with the schedule action`,
  );
  await step(sandbox, world, out, 'pause', 'paused', verbose);
  detail(
    out,
    `checked ✓ ${await checkPaused(sandbox, world.ecsUrl, 'the schedule action says the service is paused')}`,
  );
  const again = await step(sandbox, world, out, 'pause', 'already-paused', verbose);
  const said = again.log.split('\n').find((line) => line.includes('already paused'));
  detail(out, `a second pause changes nothing: ${said?.trim() ?? '(no line said so)'}`);

  heading(out, `Morning: resuming ${ECS_SERVICE} from its tags`);
  await step(sandbox, world, out, 'resume', 'resumed', verbose);
  const claim = `the schedule action says ${ECS_SERVICE} serves ${short(sha)} again`;
  detail(out, `checked ✓ ${await checkEcs(sandbox, ECS_CLUSTER, ECS_SERVICE, TASKS, sha, claim)}`);
}
