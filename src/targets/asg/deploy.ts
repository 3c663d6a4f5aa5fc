import {
  cancelRefresh,
  describeGroup,
  describeProgress,
  type GroupInfo,
  getRefresh,
  type RefreshView,
} from '../../aws/autoscaling';
import type { TargetState } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { formatDuration, PollTimeoutError } from '../../core/poller';
import type { Outcome } from '../../core/record';
import type { BootTag } from './boot-tag';
import { AsgCancelledError, type AsgStarted, settleCancelled } from './cancel';
import { describeHealthCheckMode, ReplacementUnhealthyError, replacementWatch } from './health-watch';
import {
  type AsgDeps,
  type AsgOnBusy,
  clearTheWay,
  outcomeOf,
  RefreshFailedError,
  type RefreshPreferences,
  refreshFailure,
  refreshRequest,
  startWhenFree,
  waitForRefresh,
} from './refresh';
import { checkRefreshFitsTimeout, reportBlockers } from './refresh-plan';
import { verifyTargetGroups } from './target-groups';

export interface AsgDeployOptions {
  groupName: string;
  /** With `digest`: the boot tag is moved to it before the refresh. Without: read only, for previous-image. */
  bootTag?: BootTag;
  digest?: string;
  preferences: RefreshPreferences;
  launchTemplateVersion?: string;
  onBusy: AsgOnBusy;
  /** false: start the refresh and return at once. */
  wait: boolean;
  timeoutMs: number;
  /** undefined: verify when the group has target groups. */
  verifyTargetGroups?: boolean;
  /** Cancel the refresh this call started when the job is cancelled or the wait times out. */
  cancelOnAbort: boolean;
  /**
   * Called as soon as the refresh exists, so its id reaches outputs and state even if the step dies. With
   * launchTemplateVersion, `previousTemplateVersion` is the group's version before it: what a rollback restores.
   */
  onStarted?: (refreshId: string, previousDigest: string | undefined, previousTemplateVersion?: string) => void;
  /** Called just before the boot tag moves, so a post step knows where to move it back to if this step dies. */
  onBootTagMoving?: (previousDigest: string | undefined) => void;
  /** For the command a cancelled run prints to finish the rollback. */
  region?: string;
  environment?: string;
}

export interface AsgDeployResult {
  group: GroupInfo;
  refreshId: string;
  /** The last status seen (terminal when waited for). */
  status: string;
  refresh?: RefreshView;
  /** What the boot tag named before this deploy. */
  previousDigest?: string;
  /** With launchTemplateVersion: the group's launch template version before this deploy. */
  previousTemplateVersion?: string;
  tagMoved: boolean;
  targets?: TargetState[];
  outcome: Outcome;
  /** Set when the deploy failed: the error to fail the step with (outputs can still be written from the result). */
  failure?: DeployError;
  /** With skip-matching, how many of the group's instances the refresh replaced (0: every one matched). */
  replaced?: number;
}

/**
 * The refresh-asg deploy: handle a refresh already running (on-busy), move the boot tag to the new digest, start the
 * refresh, wait for it to end, then check target health. If the refresh starts rolling back and this call moved the
 * boot tag, the tag goes back to the previous digest at once, so the instances the rollback launches pull the old image.
 */
export async function deployAsg(deps: AsgDeps, options: AsgDeployOptions): Promise<AsgDeployResult> {
  const started: AsgStarted = {
    groupName: options.groupName,
    region: options.region ?? '<region>',
    cancelRefresh: options.cancelOnAbort,
    minHealthyPercentage: options.preferences.minHealthyPercentage,
    ...(options.environment ? { environment: options.environment } : {}),
  };
  try {
    return await rollOut(deps, options, started);
  } catch (error) {
    // Cancelled: whatever was cut short, stop what this run started and put the boot tag back, once, here.
    if (!deps.signal?.aborted || error instanceof AsgCancelledError) throw error;
    const settled = await settleCancelled(deps, started);
    throw new AsgCancelledError(`The job was cancelled: ${settled.summary}`, settled, { cause: error });
  }
}

/** deployAsg without the cancellation: `started` records how far it got, for the settling. */
async function rollOut(deps: AsgDeps, options: AsgDeployOptions, started: AsgStarted): Promise<AsgDeployResult> {
  const { groupName, bootTag, logger } = { ...options, logger: deps.logger };
  const startedAt = deps.clock.now();
  const remaining = () => Math.max(1_000, options.timeoutMs - (deps.clock.now() - startedAt));
  const group = await describeGroup(deps.autoscaling, groupName);
  const request = refreshRequest(group, options.preferences, options.launchTemplateVersion);
  reportBlockers(group, options.preferences, logger);
  if (options.wait) {
    checkRefreshFitsTimeout(group, options.preferences, options.launchTemplateVersion, options.timeoutMs);
  }
  const checkpoints = options.preferences.checkpointPercentages;
  const last = checkpoints?.[checkpoints.length - 1];
  if (last !== undefined && last < 100) {
    logger.warning(
      `checkpoint-percentages ends at ${last}: AWS replaces only ${last}% of the instances of ${groupName}; the ` +
        'others keep running what they run now.',
    );
  }
  const mode = describeHealthCheckMode(group);
  if (mode.warn) logger.warning(mode.line);
  else logger.info(mode.line);

  await clearTheWay(deps, groupName, options.onBusy, remaining());

  const previousDigest = bootTag ? await bootTag.current() : undefined;
  let tagMoved = false;
  if (bootTag && options.digest) {
    if (previousDigest === options.digest) {
      logger.info(`${bootTag.repository}:${bootTag.tag} already points at ${options.digest}.`);
    } else {
      deps.signal?.throwIfAborted();
      options.onBootTagMoving?.(previousDigest);
      Object.assign(started, { bootTag, digest: options.digest, ...(previousDigest ? { previousDigest } : {}) });
      await bootTag.moveTo(options.digest);
      tagMoved = true;
      logger.info(
        `Moved the boot tag ${bootTag.repository}:${bootTag.tag} to ${options.digest}` +
          (previousDigest ? ` (it was ${previousDigest}).` : ' (it named no image before).'),
      );
    }
  }

  let refreshId: string;
  try {
    // No refresh is started that nobody would watch.
    deps.signal?.throwIfAborted();
    refreshId = await startWhenFree(deps, request, options.onBusy, remaining());
  } catch (error) {
    if (!tagMoved || !bootTag || deps.signal?.aborted) throw error;
    // No refresh runs, but the group's next launch (a scale-out, a replaced instance) would pull the unverified image.
    throw await restoreBootTag(bootTag, previousDigest, options.digest, error);
  }
  started.refreshId = refreshId;
  // AWS moves the group to the DesiredConfiguration when the refresh succeeds: a later rollback must move it back.
  const previousTemplateVersion = request.DesiredConfiguration ? group.launchTemplate?.version : undefined;
  // Before the log line: whoever reads that line (a runner killing the step) finds the id saved already.
  options.onStarted?.(refreshId, previousDigest, previousTemplateVersion);
  logger.info(`Started instance refresh ${refreshId} of ${groupName}.`);
  const base: Pick<
    AsgDeployResult,
    'group' | 'refreshId' | 'tagMoved' | 'previousDigest' | 'previousTemplateVersion' | 'replaced'
  > = {
    group,
    refreshId,
    tagMoved,
    ...(previousDigest ? { previousDigest } : {}),
    ...(previousTemplateVersion ? { previousTemplateVersion } : {}),
  };
  if (!options.wait) return { ...base, status: 'Pending', outcome: 'in-progress' };

  // Instances there now are the old ones: what the refresh launches from here on is a replacement to watch.
  const look = mode.watch && deps.elbv2 ? replacementWatch(deps.elbv2, group, deps.clock, logger) : undefined;
  let refresh: RefreshView;
  let failure: RefreshFailedError | undefined;
  try {
    refresh = await waitForRefresh(deps, groupName, refreshId, {
      timeoutMs: remaining(),
      ...(look ? { onLook: look } : {}),
      onRollbackStarted: async (r) => {
        logger.warning(`Instance refresh ${refreshId} is rolling back: ${r.rollback?.reason ?? r.statusReason ?? ''}`);
        if (tagMoved && bootTag && previousDigest) {
          await bootTag.moveTo(previousDigest);
          logger.warning(
            `Moved ${bootTag.repository}:${bootTag.tag} back to ${previousDigest}, so the instances the rollback launches pull the previous image.`,
          );
        }
      },
    });
  } catch (error) {
    if (deps.signal?.aborted) throw error;
    if (!(error instanceof ReplacementUnhealthyError)) {
      throw await abandon(deps, groupName, refreshId, options, error, bootTag, tagMoved ? previousDigest : undefined);
    }
    ({ refresh, failure } = await stopEarly(deps, groupName, refreshId, error, remaining()));
  }

  failure ??= refreshFailure(groupName, refresh);
  if (failure) {
    if (tagMoved && bootTag && refresh.status !== 'RollbackSuccessful' && refresh.status !== 'RollbackFailed') {
      logger.warning(
        `${bootTag.repository}:${bootTag.tag} still points at the new image ${options.digest}; instances the group ` +
          `launches from now on will run it. Run the rollback action to return to ${previousDigest ?? 'the previous image'}.`,
      );
    }
    return { ...base, status: refresh.status, refresh, outcome: outcomeOf(refresh.status), failure };
  }
  logger.info(`Instance refresh ${refreshId} of ${groupName} succeeded.`);
  if (options.preferences.skipMatching) {
    const replaced = await countReplaced(deps, group);
    base.replaced = replaced;
    if (replaced === 0) {
      logger.warning(
        `skip-matching: every instance of ${groupName} already matched launch template version ` +
          `${options.launchTemplateVersion ?? group.launchTemplate?.version ?? "(the group's)"}, so the refresh ` +
          'replaced no instance; they run what they ran before.',
      );
    } else {
      logger.info(`skip-matching: the refresh replaced ${replaced} instance(s) of ${groupName}.`);
    }
  }

  const verify = options.verifyTargetGroups ?? group.targetGroupArns.length > 0;
  if (verify && group.targetGroupArns.length > 0) {
    try {
      const targets = await verifyTargetGroups(deps, group, Math.min(remaining(), 10 * 60_000));
      logger.info(`All ${targets.length} load balancer targets of ${groupName} are healthy.`);
      return { ...base, status: refresh.status, refresh, targets, outcome: 'succeeded' };
    } catch (error) {
      if (!(error instanceof DeployError) || deps.signal?.aborted) throw error;
      return { ...base, status: refresh.status, refresh, outcome: 'failed', failure: error };
    }
  }
  if (verify) logger.warning(`${groupName} has no target groups: nothing to verify through the load balancer.`);
  return { ...base, status: refresh.status, refresh, outcome: 'succeeded' };
}

/** How many of the instances the group ran before the refresh are gone now (replaced). */
async function countReplaced(deps: AsgDeps, before: GroupInfo): Promise<number> {
  const after = await describeGroup(deps.autoscaling, before.name);
  const now = new Set(after.instances.map((i) => i.id));
  return before.instances.filter((i) => !now.has(i.id)).length;
}

/**
 * EC2 health checks: a replacement stays unhealthy behind the load balancer, but AWS would go on replacing every
 * instance with the same image. Cancel the refresh and wait until it has stopped, so the caller's rollback (which
 * starts a refresh of its own) does not meet InstanceRefreshInProgress.
 */
async function stopEarly(
  deps: AsgDeps,
  group: string,
  refreshId: string,
  error: ReplacementUnhealthyError,
  timeoutMs: number,
): Promise<{ refresh: RefreshView; failure: RefreshFailedError }> {
  deps.logger.error(`${error.message} Cancelling instance refresh ${refreshId} before it replaces more instances.`);
  await cancelRefresh(deps.autoscaling, group);
  const refresh = await waitForRefresh(deps, group, refreshId, { timeoutMs });
  const failure = new RefreshFailedError(
    `${error.message} ${group} uses EC2 health checks, so AWS would have replaced every instance with this image ` +
      `and called the refresh a success: instance refresh ${refreshId} was cancelled (${describeProgress(refresh)}). ` +
      'Instances already replaced keep the new configuration until rolled back. Switch the group to ELB health ' +
      'checks so that AWS itself stops (and AutoRollback works).',
    refresh,
  );
  return { refresh, failure };
}

/** The refresh never started after the boot tag moved: the tag goes back, and the error says where it points. */
async function restoreBootTag(
  bootTag: BootTag,
  previousDigest: string | undefined,
  digest: string | undefined,
  error: unknown,
): Promise<DeployError> {
  const message = (error as Error).message;
  const name = `${bootTag.repository}:${bootTag.tag}`;
  if (!previousDigest) {
    return new DeployError(`${message} ${name} now names ${digest} and named no image before.`, { cause: error });
  }
  try {
    await bootTag.moveTo(previousDigest);
    return new DeployError(`${message} ${name} was moved back to ${previousDigest}.`, { cause: error });
  } catch (moveError) {
    return new DeployError(
      `${message} ${name} still points at the new image ${digest}: moving it back to ${previousDigest} failed ` +
        `(${(moveError as Error).message}). Run the rollback action before the group launches an instance.`,
      { cause: error },
    );
  }
}

/**
 * The wait ended without the refresh ending (timeout, or a hard error; a cancelled job goes to settleCancelled):
 * cancel the refresh this run started if asked to, and say what state everything is left in. Never leaves a refresh
 * running unreported.
 */
async function abandon(
  deps: AsgDeps,
  group: string,
  refreshId: string,
  options: AsgDeployOptions,
  error: unknown,
  bootTag: BootTag | undefined,
  previousDigest: string | undefined,
): Promise<Error> {
  const why =
    error instanceof PollTimeoutError
      ? `The refresh did not finish within timeout-minutes (${formatDuration(options.timeoutMs)})`
      : `Watching the refresh failed (${(error as Error).message})`;
  const tagNote =
    bootTag && previousDigest
      ? ` ${bootTag.repository}:${bootTag.tag} still points at the new image; the previous one was ${previousDigest}.`
      : '';
  let state: string;
  try {
    state = describeProgress(await getRefresh(deps.autoscaling, group, refreshId));
  } catch {
    state = 'state unknown';
  }
  if (!options.cancelOnAbort) {
    return new DeployError(
      `${why}. Instance refresh ${refreshId} of ${group} is still running (${state}); cancel-on-abort is false, so ` +
        `it was left running.${tagNote}`,
      { cause: error },
    );
  }
  try {
    const cancelled = await cancelRefresh(deps.autoscaling, group);
    const message = cancelled
      ? `${why}: cancelled instance refresh ${refreshId} of ${group} (it was ${state}). Instances already replaced keep the new configuration.${tagNote}`
      : `${why}; instance refresh ${refreshId} of ${group} had already ended (${state}).${tagNote}`;
    deps.logger.warning(message);
    return new DeployError(message, { cause: error });
  } catch (cancelError) {
    return new DeployError(
      `${why}, and cancelling instance refresh ${refreshId} of ${group} failed too (${(cancelError as Error).message}): ` +
        `it may still be running (${state}). Cancel it with: aws autoscaling cancel-instance-refresh ` +
        `--auto-scaling-group-name ${group}.${tagNote}`,
      { cause: error },
    );
  }
}
