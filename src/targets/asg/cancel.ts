import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { cancelRefresh, describeProgress, getRefresh, isActiveStatus, type RefreshView } from '../../aws/autoscaling';
import type { Clock } from '../../core/clock';
import { DeployCancelledError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { PollTimeoutError, poll } from '../../core/poller';
import type { RecordCancellation } from '../../core/record';
import type { BootTag } from './boot-tag';
import { TERMINAL_SUCCESS } from './refresh';

/**
 * What a cancelled refresh-asg run leaves behind, and how it is settled: by the main step when the runner's SIGINT
 * reaches it, else by the post step (the main step was killed). Whichever runs first does it; every step is safe to
 * do twice (a second cancel finds nothing active, the boot tag moves only while it still names the new image).
 */

/** What a run had started, as far as it got: all the settling needs, and all the post step gets from state. */
export interface AsgStarted {
  groupName: string;
  region: string;
  /** The refresh the run started; undefined when the cancel came before StartInstanceRefresh. */
  refreshId?: string;
  /** The boot tag, when the run moved (or was moving) it. */
  bootTag?: BootTag;
  /** What the boot tag named before the run: where it goes back to. Undefined: it named nothing. */
  previousDigest?: string;
  /** What the run moved the boot tag to. */
  digest?: string;
  /** cancel-on-abort. false: a running refresh is left running, and the boot tag with it. */
  cancelRefresh: boolean;
  /** For the command that finishes the rollback. */
  minHealthyPercentage: number;
  environment?: string;
}

export type BootTagState =
  | 'restored'
  | 'already-previous'
  | 'left-new'
  | 'moved-elsewhere'
  | 'no-previous'
  | 'failed'
  | 'not-moved';

/**
 * Where the refresh stands after settling. `ended`: it had ended on its own (Failed, Cancelled, a rollback);
 * `unknown`: it could not be looked at and there was nothing active to cancel.
 */
export type RefreshState = 'none' | 'cancelled' | 'running' | 'completed' | 'ended' | 'unknown';

export interface AsgSettled extends RecordCancellation {
  /** The refresh as first seen, before any cancel. */
  before?: RefreshView;
  /** The refresh as last seen. */
  refresh?: RefreshView;
  state: RefreshState;
  bootTag: BootTagState;
  /** What was done and what is left, in sentences: the log line and the record's error. */
  summary: string;
}

/** The job was cancelled; `settled` says what was stopped, where the boot tag points and what is left to do. */
export class AsgCancelledError extends DeployCancelledError {
  override readonly name = 'AsgCancelledError';
  constructor(
    message: string,
    readonly settled: AsgSettled,
    options?: { cause?: unknown },
  ) {
    super(message, settled, options);
  }
}

/**
 * A runner gives a cancelled step 7.5 s from SIGINT to SIGTERM and 2.5 s more before SIGKILL. Each request gets at
 * most CALL_MS (not the SDK's whole retry budget), all of it at most BUDGET_MS, and the look for the refresh to reach
 * Cancelled LOOK_MS: its end is not waited for, AWS finishes the cancel on its own.
 */
const BUDGET_MS = 8_000;
const CALL_MS = 3_000;
const LOOK_MS = 2_000;

export interface SettleDeps {
  autoscaling: AutoScalingClient;
  clock: Clock;
  logger: Logger;
}

/**
 * Settles a cancelled run: cancels the refresh it started (cancel-on-abort), moves the boot tag back to the previous
 * image unless the refresh is still running or completed, takes a short look at how far the refresh got, and says
 * what each part of the group runs now and the one command that finishes the rollback. Starts nothing new. Never
 * throws: what it could not do is part of its answer.
 */
export async function settleCancelled(deps: SettleDeps, started: AsgStarted): Promise<AsgSettled> {
  const deadline = deps.clock.now() + BUDGET_MS;
  const bound = () => ({
    abortSignal: AbortSignal.timeout(Math.max(1, Math.min(CALL_MS, deadline - deps.clock.now()))),
  });
  const { groupName: group, refreshId } = started;
  const notes: string[] = [];

  let before: RefreshView | undefined;
  let state: RefreshState = 'none';
  let cancelFailed: string | undefined;
  if (refreshId) {
    before = await getRefresh(deps.autoscaling, group, refreshId, bound()).catch((error: unknown) => {
      notes.push(`Could not look at instance refresh ${refreshId} (${(error as Error).message}).`);
      return undefined;
    });
    if (before && !isActiveStatus(before.status)) {
      state = before.status === TERMINAL_SUCCESS ? 'completed' : 'ended';
    } else if (before?.status === 'Cancelling') {
      // Cancelled already (by this run before it died, or by hand): a second CancelInstanceRefresh would be refused.
      state = 'cancelled';
    } else if (!started.cancelRefresh || before?.status === 'RollbackInProgress') {
      // A rollback in progress (AWS's AutoRollback) is left alone: cancelling it would strand a mix of configurations.
      state = before ? 'running' : 'unknown';
    } else {
      try {
        const id = await cancelRefresh(deps.autoscaling, group, bound());
        state = id !== undefined ? 'cancelled' : before ? 'ended' : 'unknown';
      } catch (error) {
        cancelFailed = (error as Error).message;
        state = 'running';
      }
    }
  }

  const tag = await settleBootTag(started, state, bound, notes);

  let refresh = before;
  if (state === 'cancelled' && refreshId) {
    const left = Math.min(LOOK_MS, deadline - deps.clock.now());
    refresh = (await lookUntilStopped(deps, group, refreshId, left)) ?? before;
  }

  const settled = { before, refresh, state, tag };
  const finish = finishCommand(started, settled);
  const summary = [
    refreshSentence(started, settled, cancelFailed),
    ...(state === 'cancelled' || state === 'running' || (state === 'ended' && before?.status === 'Cancelled')
      ? ['Instances already replaced keep the new configuration.']
      : []),
    tagSentence(started, tag),
    ...notes,
    ...(finish ? [`To finish the rollback, run: ${finish}`] : []),
  ]
    .filter((sentence) => sentence !== '')
    .join(' ');
  return {
    ...(before ? { before } : {}),
    ...(refresh ? { refresh } : {}),
    state,
    bootTag: tag.state,
    runsNow: describeRunsNow(started, settled),
    ...(finish ? { finish } : {}),
    summary,
  };
}

interface Settled {
  before: RefreshView | undefined;
  refresh: RefreshView | undefined;
  state: RefreshState;
  tag: TagResult;
}

interface TagResult {
  state: BootTagState;
  /** What the tag names now, when known. */
  now?: string;
  error?: string;
}

/** Moves the boot tag back while it still names the image this run moved it to (another job may have moved it since). */
async function settleBootTag(
  started: AsgStarted,
  refresh: RefreshState,
  bound: () => { abortSignal: AbortSignal },
  notes: string[],
): Promise<TagResult> {
  const { bootTag, previousDigest, digest } = started;
  if (!bootTag || !digest) return { state: 'not-moved' };
  // Under a running refresh a move would mix images in one rollout; after a completed one (or one that may have
  // completed) every instance runs the new image, and new launches must match them until a rollback replaces them.
  if (refresh === 'running' || refresh === 'completed' || refresh === 'unknown') {
    return { state: 'left-new', now: digest };
  }
  if (!previousDigest) return { state: 'no-previous', now: digest };
  let now: string | undefined;
  try {
    now = await bootTag.current(bound());
  } catch (error) {
    notes.push(`Could not read ${bootTag.repository}:${bootTag.tag} (${(error as Error).message}).`);
  }
  if (now === previousDigest) return { state: 'already-previous', now };
  if (now !== undefined && now !== digest) return { state: 'moved-elsewhere', now };
  try {
    await bootTag.moveTo(previousDigest, bound());
    return { state: 'restored', now: previousDigest };
  } catch (error) {
    return { state: 'failed', now: digest, error: (error as Error).message };
  }
}

/** A short look for the cancel to land (Cancelling → Cancelled); AWS finishes it whether or not anyone watches. */
async function lookUntilStopped(
  deps: SettleDeps,
  group: string,
  refreshId: string,
  timeoutMs: number,
): Promise<RefreshView | undefined> {
  if (timeoutMs <= 0) return undefined;
  let last: RefreshView | undefined;
  try {
    return await poll({
      what: `Instance refresh ${refreshId} of ${group}`,
      timeoutMs,
      minDelayMs: 250,
      maxDelayMs: 1_000,
      clock: deps.clock,
      logger: deps.logger,
      check: async (_attempt, look) => {
        last = await getRefresh(deps.autoscaling, group, refreshId, { abortSignal: look.signal });
        return isActiveStatus(last.status)
          ? { done: false, progress: describeProgress(last) }
          : { done: true, value: last };
      },
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) deps.logger.debug(`Last look failed: ${(error as Error).message}`);
    return last;
  }
}

function refreshSentence(started: AsgStarted, s: Settled, cancelFailed: string | undefined): string {
  const { refreshId, groupName: group } = started;
  if (!refreshId) return `No instance refresh of ${group} was started, so no instance was replaced.`;
  const was = s.before ? describeProgress(s.before) : 'state unknown';
  const it = `instance refresh ${refreshId} of ${group}`;
  switch (s.state) {
    case 'cancelled':
      return s.before?.status === 'Cancelling'
        ? `${it} was being cancelled already (${was}).`
        : `cancelled ${it} (it was ${was}).`;
    case 'running':
      if (cancelFailed) {
        return (
          `cancelling ${it} failed (${cancelFailed}): it may still be running (${was}). Cancel it with: aws ` +
          `autoscaling cancel-instance-refresh --region ${started.region} --auto-scaling-group-name ${group}.`
        );
      }
      if (s.before?.status === 'RollbackInProgress') {
        return `${it} is rolling back (${was}); it is left to finish, as cancelling a rollback would strand a mix of configurations.`;
      }
      return `left ${it} running (${was}): cancel-on-abort is false.`;
    case 'unknown':
      return `${it} could not be looked at, and the group has no active refresh to cancel: it has ended, how is unknown.`;
    default:
      return `${it} had already ended (${was}).`;
  }
}

function tagSentence(started: AsgStarted, tag: TagResult): string {
  const { bootTag, previousDigest, digest } = started;
  if (!bootTag) return '';
  const name = `${bootTag.repository}:${bootTag.tag}`;
  switch (tag.state) {
    case 'restored':
      return `Moved ${name} back to ${previousDigest}, so instances launched from now on pull the previous image.`;
    case 'already-previous':
      return `${name} points at the previous image ${previousDigest} again.`;
    case 'left-new':
      return `${name} still points at the new image ${digest}; the previous one was ${previousDigest ?? 'none'}.`;
    case 'moved-elsewhere':
      return `${name} was moved to ${tag.now} by someone else meanwhile, so it was left there.`;
    case 'no-previous':
      return `${name} still points at the new image ${digest}: it named no image before, so there is nothing to move it back to.`;
    case 'failed':
      return `${name} still points at the new image ${digest}: moving it back to ${previousDigest} failed (${tag.error}).`;
    case 'not-moved':
      return '';
  }
}

/** One line per part of the group: the refresh, its instances, the boot tag. */
function describeRunsNow(started: AsgStarted, s: Settled): string[] {
  const { refreshId, groupName: group, bootTag, previousDigest, digest } = started;
  const lines: string[] = [];
  const newImage = digest ? `the new image ${digest}` : 'the new configuration';
  if (!refreshId) {
    lines.push(`Auto Scaling group ${group}: unchanged, no instance refresh was started`);
  } else {
    const seen = s.refresh ?? s.before;
    const by = { cancelled: ' (cancelled by this run)', running: ' (still running)' } as Partial<
      Record<RefreshState, string>
    >;
    lines.push(`instance refresh ${refreshId}: ${seen ? describeProgress(seen) : 'state unknown'}${by[s.state] ?? ''}`);
    const done = seen?.percentageComplete;
    const instances = `instances of ${group}`;
    if (s.state === 'completed') lines.push(`${instances}: every one runs ${newImage} (not verified)`);
    else if (s.state === 'running') lines.push(`${instances}: the refresh goes on replacing them`);
    else if (seen?.status === 'RollbackSuccessful') lines.push(`${instances}: back on the previous configuration`);
    else if (s.state === 'unknown') lines.push(`${instances}: unknown, some may run ${newImage}`);
    else {
      lines.push(
        `${instances}: those the refresh replaced${done !== undefined ? ` (${done}% complete)` : ''} run ` +
          `${newImage}, the others the previous one`,
      );
    }
  }
  if (bootTag) {
    const where: Record<BootTagState, string> = {
      restored: `${previousDigest} (the previous image, moved back)`,
      'already-previous': `${previousDigest} (the previous image)`,
      'left-new': `${digest} (the new image)`,
      'moved-elsewhere': `${s.tag.now} (moved by someone else)`,
      'no-previous': `${digest} (the new image; it named none before)`,
      failed: `${digest} (the new image: moving it back failed)`,
      'not-moved': 'unchanged',
    };
    lines.push(`boot tag ${bootTag.repository}:${bootTag.tag}: ${where[s.tag.state]}`);
  }
  return lines;
}

/**
 * The one command that finishes the rollback. With the boot tag back on the previous image, a plain refresh replaces
 * the instances that run the new one (the group's own launch template is unchanged: AWS applies a
 * DesiredConfiguration only when a refresh succeeds). With the boot tag still on the new image, the rollback action
 * does both. Not the rollback action in the first case: it reads what runs from the boot tag, which already names the
 * previous image, so it would take the group one version further back (or refuse a to-sha of that image).
 */
function finishCommand(started: AsgStarted, s: Settled): string | undefined {
  const { groupName: group, region, bootTag } = started;
  const seen = s.refresh ?? s.before;
  const tagBack = s.tag.state === 'restored' || s.tag.state === 'already-previous' || s.tag.state === 'not-moved';
  if (s.state === 'none' && tagBack) return undefined;
  if (seen?.status === 'RollbackSuccessful' && tagBack) return undefined;
  if (s.tag.state === 'moved-elsewhere') return undefined;
  if (tagBack && (s.state === 'cancelled' || s.state === 'ended')) {
    return (
      `aws autoscaling start-instance-refresh --region ${region} --auto-scaling-group-name ${group} ` +
      `--preferences '{"MinHealthyPercentage":${started.minHealthyPercentage}}'`
    );
  }
  if (!bootTag) {
    // A launch template version alone: while the refresh runs, AWS's own rollback restores the previous configuration.
    return s.state === 'running' && seen?.hasDesiredConfiguration && seen.status !== 'RollbackInProgress'
      ? `aws autoscaling rollback-instance-refresh --region ${region} --auto-scaling-group-name ${group}`
      : undefined;
  }
  if (s.state === 'running' && seen?.status === 'RollbackInProgress') return undefined;
  return (
    `npx aws-deploy-kit rollback --target asg --asg-name ${group} --repository ${bootTag.repository} ` +
    `--boot-tag ${bootTag.tag} --environment ${started.environment ?? '<environment>'} --region ${region}`
  );
}
