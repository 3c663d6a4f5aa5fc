// The story of `npm run demo`: v1 and v2 deployed to App Runner, an Auto Scaling group, an ECS service and an ECS
// Express service, a broken v3 rolled back automatically on each, then a manual rollback to v1. Each printed claim is checked against what the services serve.
import { createHash } from 'node:crypto';
import type { Sandbox } from '../../sandbox/index';
import { bakeAct } from './bake-act';
import { ClaimMismatch, checkAppRunner, checkBootTag, checkEcs, checkGroup, checkUrl } from './checks';
import { cleanupAct } from './cleanup';
import { detail, framed, heading, type Printer, seconds, short, table } from './print';
import { scheduleAct } from './schedule';
import {
  APPRUNNER_ENVIRONMENT,
  ASG_ENVIRONMENT,
  BOOT_TAG,
  type DemoWorld,
  ECS_CLUSTER,
  ECS_ENVIRONMENT,
  ECS_SERVICE,
  EXPRESS_ENVIRONMENT,
  EXPRESS_SERVICE,
  GITHUB_REPOSITORY,
  INSTANCES,
  PULL_REQUEST,
  REPOSITORY,
  setUp,
  speedUp,
  TASKS,
} from './setup';
import { deploy, rollback, type StepRun, type Target } from './steps';

export interface DemoRow {
  step: string;
  target: Target;
  commit: string;
  outcome: string;
  served: string;
}

export interface DemoResult {
  rows: DemoRow[];
  commits: { v1: string; v2: string; v3: string };
  world: DemoWorld;
  /** Job summary markdown of the last deploy by the all-in-one action. */
  summary: string;
  /** Sticky pull-request comment bodies, one per environment. */
  comments: string[];
}

/** Commit SHAs as a repository would have them (fixed, so two runs of the demo print the same story). */
function commitSha(label: string): string {
  return createHash('sha1').update(`aws-deploy-kit demo ${label}`).digest('hex');
}

const TARGET_NAME: Record<Target, string> = {
  apprunner: 'App Runner',
  asg: 'Auto Scaling',
  ecs: 'ECS service',
  'ecs-express': 'ECS Express',
};

interface Context {
  sandbox: Sandbox;
  world: DemoWorld;
  out: Printer;
  verbose: boolean;
  rows: DemoRow[];
  /** digest → commit, learned from the deploys' records (and the bootstrap image). */
  commitOf: Map<string, string>;
  /** commit → digest of its image as first built. */
  digestOf: Map<string, string>;
}

function where(ctx: Context, target: Target): string {
  switch (target) {
    case 'apprunner':
      return `App Runner (${APPRUNNER_ENVIRONMENT})`;
    case 'asg':
      return `the ${INSTANCES}-instance Auto Scaling group ${ctx.world.group} (${ASG_ENVIRONMENT})`;
    case 'ecs':
      return `the ${TASKS}-task ECS service ${ECS_SERVICE} (${ECS_ENVIRONMENT})`;
    case 'ecs-express':
      return `the ECS Express service ${EXPRESS_SERVICE} (${EXPRESS_ENVIRONMENT})`;
  }
}

/** Checks the target serves `sha` and says so; `claim` is what the demo is about to tell the reader. */
async function verifyServed(ctx: Context, target: Target, sha: string, claim: string): Promise<void> {
  if (target === 'ecs') {
    detail(ctx.out, `checked ✓ ${await checkEcs(ctx.sandbox, ECS_CLUSTER, ECS_SERVICE, TASKS, sha, claim)}`);
    return;
  }
  if (target === 'ecs-express') {
    detail(ctx.out, `checked ✓ ${await checkUrl(ctx.world.expressUrl, sha, claim)}`);
    return;
  }
  if (target === 'apprunner') {
    detail(ctx.out, `checked ✓ ${await checkAppRunner(ctx.sandbox, ctx.world.serviceArn, sha, claim)}`);
    return;
  }
  detail(ctx.out, `checked ✓ ${await checkGroup(ctx.sandbox, ctx.world.group, INSTANCES, sha, claim)}`);
  const digest = ctx.digestOf.get(sha);
  if (digest) detail(ctx.out, `checked ✓ ${await checkBootTag(ctx.sandbox, REPOSITORY, BOOT_TAG, digest, claim)}`);
}

function showRun(ctx: Context, step: StepRun, failedOnPurpose: boolean): void {
  const { run } = step;
  for (const warning of run.warnings) detail(ctx.out, `⚠ ${firstLine(warning)}`);
  for (const error of run.errors) detail(ctx.out, `${failedOnPurpose ? '✖' : '✖ unexpected:'} ${firstLine(error)}`);
  if (ctx.verbose) framed(ctx.out, 'action log', run.log);
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 220 ? `${line.slice(0, 219)}…` : line;
}

function unexpected(step: StepRun, message: string): ClaimMismatch {
  const tail = step.run.log.trimEnd().split('\n').slice(-25).join('\n');
  return new ClaimMismatch(`${message}\n  Last lines of the action's log:\n${tail.replace(/^/gm, '    ')}`);
}

function digestIn(text: string | undefined): string | undefined {
  return /sha256:[0-9a-f]{64}/.exec(text ?? '')?.[0];
}

interface DeployExpectation {
  outcome: 'succeeded' | 'rolled-back';
  /** The image must be reused from an earlier deploy of the same commit (nothing built). */
  reused: boolean;
  buildArgs?: string[];
}

async function deployStep(ctx: Context, label: string, target: Target, sha: string, want: DeployExpectation) {
  heading(ctx.out, `${label}: deploying commit ${short(sha)} to ${where(ctx, target)} with the all-in-one action`);
  if (want.buildArgs?.length) detail(ctx.out, `build-args: VERSION=${short(sha)}… ${want.buildArgs.join(' ')}`);
  const step = await deploy(ctx.sandbox, ctx.world, target, sha, want.buildArgs);
  showRun(ctx, step, want.outcome !== 'succeeded');
  const { run, record } = step;
  const outcome = run.outputs.outcome ?? `exit ${run.exitCode}`;
  const expectedExit = want.outcome === 'succeeded' ? 0 : 1;
  if (outcome !== want.outcome || run.exitCode !== expectedExit || !record?.image) {
    throw unexpected(
      step,
      `${label}: expected outcome ${want.outcome}, the action reported ${outcome} (exit ${run.exitCode})`,
    );
  }

  const image = record.image;
  const known = ctx.digestOf.get(sha);
  if (want.reused) {
    // "Nothing built" is checked too: the action says it reused the image, and the digest is the one built before.
    if (!image.reused || image.digest !== known) {
      throw new ClaimMismatch(
        `${label}: expected the image of ${short(sha)} to be reused (${known}), the action ${image.reused ? 'reused' : 'built'} ${image.digest}`,
      );
    }
    detail(ctx.out, `image    reused ${REPO_TAG(sha)} (${short(image.digest.slice(7))}…): nothing built`);
  } else {
    if (image.reused || known)
      throw new ClaimMismatch(`${label}: expected a fresh build of ${short(sha)}, the action reused ${image.digest}`);
    ctx.digestOf.set(sha, image.digest);
    ctx.commitOf.set(image.digest, sha);
    detail(ctx.out, `image    built and pushed ${REPO_TAG(sha)} (${short(image.digest.slice(7))}…)`);
  }

  let served = sha;
  if (want.outcome === 'rolled-back') {
    const previousDigest = digestIn(record.previous?.digest) ?? digestIn(record.previous?.image);
    const previous = previousDigest ? ctx.commitOf.get(previousDigest) : undefined;
    if (!previous)
      throw unexpected(
        step,
        `${label}: the record does not say which known image it rolled back to (${previousDigest})`,
      );
    served = previous;
    detail(
      ctx.out,
      `outcome  rolled-back: ${short(sha)} failed its health check, back on ${short(previous)} (${seconds(step.ms)})`,
    );
    await verifyServed(ctx, target, previous, `${label}: the action says it rolled back to ${short(previous)}`);
  } else {
    detail(ctx.out, `outcome  succeeded: ${short(sha)} is live (${seconds(step.ms)})`);
    await verifyServed(ctx, target, sha, `${label}: the action says ${short(sha)} is live`);
  }
  ctx.rows.push({ step: label, target, commit: sha, outcome, served });
  return step;
}

const REPO_TAG = (sha: string) => `${REPOSITORY}:sha-${short(sha)}…`;

async function rollbackStep(ctx: Context, label: string, target: Target, toSha: string, currentSha: string) {
  heading(ctx.out, `${label}: rolling ${where(ctx, target)} back to ${short(toSha)} with the rollback action (to-sha)`);
  const step = await rollback(ctx.sandbox, ctx.world, target, toSha, currentSha);
  showRun(ctx, step, false);
  const { run, record } = step;
  const outcome = record?.outcome ?? `exit ${run.exitCode}`;
  if (run.exitCode !== 0 || outcome !== 'succeeded' || run.outputs.sha !== toSha) {
    throw unexpected(
      step,
      `${label}: expected a rollback to ${toSha}, the action reported ${outcome} to ${run.outputs.sha || '(none)'} (exit ${run.exitCode})`,
    );
  }
  const digest = digestIn(run.outputs.image);
  if (digest !== ctx.digestOf.get(toSha)) {
    throw new ClaimMismatch(
      `${label}: rolled back to ${digest}, not to the image ${ctx.digestOf.get(toSha)} built for ${short(toSha)}`,
    );
  }
  detail(ctx.out, `image    ${run.outputs.image} (by digest: nothing built)`);
  detail(ctx.out, `outcome  succeeded: back on ${short(toSha)} (${seconds(step.ms)})`);
  await verifyServed(ctx, target, toSha, `${label}: the rollback action says ${short(toSha)} is live`);
  ctx.rows.push({ step: label, target, commit: toSha, outcome, served: toSha });
  return step;
}

/** Runs the whole story against a started sandbox; throws ClaimMismatch when a service contradicts a claim. */
export async function runDemo(
  sandbox: Sandbox,
  out: Printer,
  options: { verbose?: boolean } = {},
): Promise<DemoResult> {
  const commits = { v1: commitSha('v1'), v2: commitSha('v2'), v3: commitSha('v3') };
  const { v1, v2, v3 } = commits;
  speedUp(sandbox);
  const world = await setUp(sandbox, out, [v1, v2, v3]);
  const ctx: Context = {
    sandbox,
    world,
    out,
    verbose: options.verbose ?? false,
    rows: [],
    commitOf: new Map(),
    digestOf: new Map(),
  };
  const bootstrap = await sandbox.registry.client.manifest('web', 'bootstrap');
  if (bootstrap) ctx.commitOf.set(bootstrap.digest, 'bootstrap');

  // Each commit is built once (for App Runner) and reused by the other targets.
  const others: Target[] = ['asg', 'ecs', 'ecs-express'];
  await deployStep(ctx, 'v1', 'apprunner', v1, { outcome: 'succeeded', reused: false });
  for (const target of others) await deployStep(ctx, 'v1', target, v1, { outcome: 'succeeded', reused: true });
  await deployStep(ctx, 'v2', 'apprunner', v2, { outcome: 'succeeded', reused: false });
  for (const target of others) await deployStep(ctx, 'v2', target, v2, { outcome: 'succeeded', reused: true });
  const broken = { outcome: 'rolled-back' as const, buildArgs: ['HEALTH=fail'] };
  await deployStep(ctx, 'v3 (broken)', 'apprunner', v3, { ...broken, reused: false });
  let last: StepRun | undefined;
  for (const target of others) last = await deployStep(ctx, 'v3 (broken)', target, v3, { ...broken, reused: true });
  for (const target of ['apprunner', ...others] as Target[]) await rollbackStep(ctx, 'manual rollback', target, v1, v3);
  await cleanupAct(ctx, commits);
  await scheduleAct(sandbox, world, out, v1, ctx.verbose);
  const v4 = commitSha('v4');
  const baked = await bakeAct(sandbox, world, out, v4, v1);
  ctx.rows.push({ step: 'v4 (5xx under traffic)', target: 'ecs', commit: v4, ...baked });

  const comments = sandbox.github.repo(GITHUB_REPOSITORY).comments.map((c) => c.body);
  return { rows: ctx.rows, commits, world, summary: last?.run.summary ?? '', comments };
}

/** The closing part of the demo's output: the table of steps, then the rendered job summary and PR comments. */
export function printResult(out: Printer, result: DemoResult): void {
  const version = (sha: string) =>
    sha === result.commits.v1
      ? 'v1'
      : sha === result.commits.v2
        ? 'v2'
        : sha === result.commits.v3
          ? 'v3'
          : sha === commitSha('v4')
            ? 'v4'
            : sha;
  heading(
    out,
    `Job summary of the last deploy (v3 to the ECS Express service, ${EXPRESS_ENVIRONMENT}): the markdown GitHub renders`,
  );
  framed(out, 'GITHUB_STEP_SUMMARY', result.summary);
  const marker = (environment: string) => `<!-- aws-deploy-kit:${environment} -->`;
  const last = result.comments.find((body) => body.includes(marker(EXPRESS_ENVIRONMENT)));
  heading(out, `Its sticky comment on pull request #${PULL_REQUEST} (one per environment, updated by every deploy)`);
  framed(out, 'comment', last ?? '(none: the report did not comment)');
  for (const body of result.comments.filter((b) => b !== last)) {
    const title = body.split('\n').find((line) => line.startsWith('#')) ?? body.split('\n')[0];
    detail(out, `also on #${PULL_REQUEST}: ${title}`);
  }

  heading(out, 'Every step, and what the service served afterwards');
  table(
    out,
    ['step', 'target', 'commit', 'outcome', 'served /version (checked)'],
    result.rows.map((row) => [
      row.step,
      TARGET_NAME[row.target],
      `${short(row.commit)} (${version(row.commit)})`,
      row.outcome,
      `${short(row.served)} (${version(row.served)}) ✓`,
    ]),
  );
}
