import type { AutoScalingClient, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  activeRefresh,
  cancelRefresh,
  describeGroup,
  describeProgress,
  type GroupInfo,
  getRefresh,
  isActiveStatus,
  RefreshInProgressError,
  type RefreshView,
  RollbackRefusedError,
  rollbackRefresh,
  startRefresh,
} from '../aws/autoscaling';
import { findImage, promoteImage } from '../aws/ecr';
import { describeTarget, type TargetState, targetHealth } from '../aws/elbv2';
import { describeHealthCheckMode, ReplacementUnhealthyError, replacementWatch } from './asg-health-watch';
import { checkRefreshFitsTimeout, reportBlockers } from './asg-refresh-plan';
import type { Clock } from './clock';
import { DeployError } from './errors';
import { type HealthResult, waitUntilHealthy } from './health';
import type { Logger } from './logger';
import { formatDuration, PollTimeoutError, poll } from './poller';
import type { Outcome } from './record';

/** Clients and context for every ASG operation. */
export interface AsgDeps {
  autoscaling: AutoScalingClient;
  /** Needed only to verify target groups. */
  elbv2?: ElasticLoadBalancingV2Client;
  clock: Clock;
  logger: Logger;
  /** Aborted when the job is cancelled. */
  signal?: AbortSignal;
  /** Delays between looks at a refresh. Default 2 s doubling up to 10 s: at most 10 s late, about 32 looks for a 5-minute refresh. */
  pollDelays?: { minDelayMs: number; maxDelayMs: number };
}

/** What every wait of this module shares: delays (2 s doubling to 10 s unless set), clock, logger, cancellation. */
function pollSettings(deps: AsgDeps) {
  return {
    minDelayMs: deps.pollDelays?.minDelayMs ?? 2_000,
    maxDelayMs: deps.pollDelays?.maxDelayMs ?? 10_000,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
}

/** The tag the instances' user data pulls at boot, e.g. `web:latest`. */
export interface BootTag {
  repository: string;
  tag: string;
  /** The digest the tag points at now; undefined when it names nothing. */
  current(): Promise<string | undefined>;
  moveTo(digest: string): Promise<void>;
}

/** A boot tag in ECR, moved by retag (BatchGetImage → PutImage): no layer moves, no rebuild. */
export function ecrBootTag(client: ECRClient, repository: string, tag: string, logger: Logger): BootTag {
  return {
    repository,
    tag,
    current: async () => (await findImage(client, repository, tag))?.digest,
    moveTo: async (digest) => {
      await promoteImage(client, { repository, source: digest, tags: [tag], logger });
    },
  };
}

export type OnBusy = 'wait' | 'cancel' | 'fail';

export interface RefreshPreferences {
  minHealthyPercentage: number;
  maxHealthyPercentage?: number;
  instanceWarmup?: number;
  checkpointPercentages?: number[];
  checkpointDelay?: number;
  skipMatching?: boolean;
  autoRollback?: boolean;
  bakeTime?: number;
  alarms?: string[];
  /** Not sent when undefined: AWS's API default is Wait (up to 1 h, then the refresh fails). */
  scaleInProtectedInstances?: 'Refresh' | 'Ignore' | 'Wait';
  standbyInstances?: 'Terminate' | 'Ignore' | 'Wait';
}

/** The StartInstanceRefresh request: Rolling, with a DesiredConfiguration only when a template version is named. */
export function refreshRequest(
  group: GroupInfo,
  preferences: RefreshPreferences,
  launchTemplateVersion?: string,
): StartInstanceRefreshCommandInput {
  const p = preferences;
  const request: StartInstanceRefreshCommandInput = {
    AutoScalingGroupName: group.name,
    Strategy: 'Rolling',
    Preferences: {
      MinHealthyPercentage: p.minHealthyPercentage,
      ...(p.maxHealthyPercentage !== undefined ? { MaxHealthyPercentage: p.maxHealthyPercentage } : {}),
      ...(p.instanceWarmup !== undefined ? { InstanceWarmup: p.instanceWarmup } : {}),
      ...(p.checkpointPercentages?.length ? { CheckpointPercentages: p.checkpointPercentages } : {}),
      ...(p.checkpointDelay !== undefined ? { CheckpointDelay: p.checkpointDelay } : {}),
      SkipMatching: p.skipMatching ?? false,
      AutoRollback: p.autoRollback ?? false,
      ...(p.bakeTime !== undefined ? { BakeTime: p.bakeTime } : {}),
      ...(p.alarms?.length ? { AlarmSpecification: { Alarms: p.alarms } } : {}),
      ...(p.scaleInProtectedInstances ? { ScaleInProtectedInstances: p.scaleInProtectedInstances } : {}),
      ...(p.standbyInstances ? { StandbyInstances: p.standbyInstances } : {}),
    },
  };
  if (launchTemplateVersion !== undefined) {
    if (!group.launchTemplate) {
      throw new DeployError(
        `The Auto Scaling group ${group.name} does not use a launch template (a launch configuration or a mixed ` +
          'instances policy), so launch-template-version cannot be applied. Leave launch-template-version empty.',
      );
    }
    request.DesiredConfiguration = {
      LaunchTemplate: { LaunchTemplateId: group.launchTemplate.id, Version: launchTemplateVersion },
    };
  }
  return request;
}

const TERMINAL_SUCCESS = 'Successful';

/** How the deploy record describes a refresh that ended with `status`. */
export function outcomeOf(status: string): Outcome {
  if (status === TERMINAL_SUCCESS) return 'succeeded';
  if (status === 'RollbackSuccessful') return 'rolled-back';
  if (status === 'RollbackFailed') return 'rollback-failed';
  if (isActiveStatus(status)) return 'in-progress';
  return 'failed';
}

/** A refresh that ended in anything but Successful. */
export class RefreshFailedError extends DeployError {
  override readonly name = 'RefreshFailedError';
  constructor(
    message: string,
    readonly refresh: RefreshView,
  ) {
    super(message);
  }
}

/** The error for a refresh that ended in anything but Successful; undefined when it succeeded. */
export function refreshFailure(group: string, refresh: RefreshView): RefreshFailedError | undefined {
  const at = refresh.percentageComplete !== undefined ? ` at ${refresh.percentageComplete}%` : '';
  // AWS's reasons usually end with a full stop of their own.
  const reason = refresh.statusReason ? `: ${refresh.statusReason.replace(/\.\s*$/, '')}` : '';
  const it = `The instance refresh ${refresh.id} of ${group}`;
  const rb = refresh.rollback;
  const rollbackDetail = rb
    ? ` Rollback reason: ${rb.reason ?? 'not given'}` +
      (rb.startTime ? `; started ${rb.startTime.toISOString()}` : '') +
      (rb.percentageCompleteOnRollback !== undefined
        ? ` when the refresh was ${rb.percentageCompleteOnRollback}% complete`
        : '') +
      (rb.instancesToUpdateOnRollback !== undefined
        ? `, ${rb.instancesToUpdateOnRollback} instance(s) to restore`
        : '') +
      '.'
    : '';
  switch (refresh.status) {
    case TERMINAL_SUCCESS:
      return undefined;
    case 'Failed':
      return new RefreshFailedError(
        `${it} failed${at}${reason}. Instances already replaced keep the new configuration; roll back to restore the previous image.`,
        refresh,
      );
    case 'Cancelled':
    case 'Cancelling':
      return new RefreshFailedError(
        `${it} was cancelled${at}${reason}. Instances already replaced keep the new configuration.`,
        refresh,
      );
    case 'RollbackSuccessful':
      return new RefreshFailedError(
        `${it} failed and was rolled back: the group is on its previous configuration again.${rollbackDetail}`,
        refresh,
      );
    case 'RollbackFailed':
      return new RefreshFailedError(
        `${it} failed and so did its rollback${reason}. The group may be running a mix of configurations: check its ` +
          `instances.${rollbackDetail}`,
        refresh,
      );
    default:
      return new RefreshFailedError(`${it} ended with status ${refresh.status}${reason}.${rollbackDetail}`, refresh);
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** Called once when the refresh turns to RollbackInProgress (e.g. to move the boot tag back first). */
  onRollbackStarted?: (refresh: RefreshView) => Promise<void>;
  /** Called at each look while the refresh is InProgress; what it throws ends the wait. */
  onLook?: (refresh: RefreshView) => Promise<void>;
}

/** Polls the refresh until it ends (any terminal status), printing a line whenever its progress changes. */
export async function waitForRefresh(
  deps: AsgDeps,
  group: string,
  refreshId: string,
  options: WaitOptions,
): Promise<RefreshView> {
  let rollbackSeen = false;
  return poll({
    what: `Instance refresh ${refreshId} of ${group}`,
    timeoutMs: options.timeoutMs,
    ...pollSettings(deps),
    check: async () => {
      const refresh = await getRefresh(deps.autoscaling, group, refreshId);
      if (refresh.status === 'RollbackInProgress' && !rollbackSeen) {
        rollbackSeen = true;
        await options.onRollbackStarted?.(refresh);
      }
      if (!isActiveStatus(refresh.status)) return { done: true, value: refresh };
      if (refresh.status === 'InProgress') await options.onLook?.(refresh);
      return { done: false, progress: describeProgress(refresh) };
    },
  });
}

/** Deals with a refresh that is already running on the group, as on-busy says. */
export async function clearTheWay(deps: AsgDeps, group: string, onBusy: OnBusy, timeoutMs: number): Promise<void> {
  const active = await activeRefresh(deps.autoscaling, group);
  if (!active) return;
  const what = `instance refresh ${active.id} (${describeProgress(active)})`;
  if (onBusy === 'fail') {
    throw new DeployError(
      `The Auto Scaling group ${group} already has an active ${what}, and on-busy is "fail". Wait for it to end, ` +
        'or set on-busy to "wait" or "cancel".',
    );
  }
  if (onBusy === 'cancel' && active.status === 'RollbackInProgress') {
    // Cancelling a rollback stops it where it is, leaving the group on a mix of old and new instances.
    deps.logger.warning(
      `The active ${what} of ${group} is rolling back. on-busy is "cancel", but cancelling a rollback would leave ` +
        'the group running a mix of configurations, so this step waits for the rollback to end instead.',
    );
  } else if (onBusy === 'cancel' && active.status !== 'Cancelling') {
    deps.logger.warning(`Cancelling the active ${what} of ${group}, as on-busy is "cancel".`);
    await cancelRefresh(deps.autoscaling, group);
  } else {
    deps.logger.info(`Waiting for the active ${what} of ${group} to end before starting a new one.`);
  }
  const ended = await waitForRefresh(deps, group, active.id, { timeoutMs });
  deps.logger.info(`The earlier instance refresh ${active.id} ended: ${describeProgress(ended)}.`);
}

/** Starts a refresh; when another job slips one in first, deals with it as on-busy says and tries again. */
export async function startWhenFree(
  deps: AsgDeps,
  request: StartInstanceRefreshCommandInput,
  onBusy: OnBusy,
  timeoutMs: number,
): Promise<string> {
  const group = request.AutoScalingGroupName ?? '';
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRefresh(deps.autoscaling, request);
    } catch (error) {
      if (!(error instanceof RefreshInProgressError) || onBusy === 'fail' || attempt >= 3) throw error;
      await clearTheWay(deps, group, onBusy, timeoutMs);
    }
  }
}

/** After a successful refresh: every target of the group's target groups is healthy, or the unhealthy ones, listed. */
export async function verifyTargetGroups(deps: AsgDeps, group: GroupInfo, timeoutMs: number): Promise<TargetState[]> {
  if (!deps.elbv2) throw new DeployError('Verifying target groups needs an Elastic Load Balancing v2 client.');
  const elbv2 = deps.elbv2;
  let last: TargetState[] = [];
  let unhealthyLooks = 0;
  try {
    return await poll({
      what: `Target health of ${group.name}`,
      timeoutMs,
      ...pollSettings(deps),
      check: async () => {
        last = await targetHealth(elbv2, group.targetGroupArns);
        const bad = last.filter((t) => t.state !== 'healthy');
        if (last.length > 0 && bad.length === 0) return { done: true, value: last };
        // A target just registered is `initial`, and draining ones leave: only persistent unhealthiness is a verdict.
        unhealthyLooks = bad.some((t) => t.state === 'unhealthy') ? unhealthyLooks + 1 : 0;
        if (unhealthyLooks >= 3) throw targetError(group, bad);
        return { done: false, progress: `${last.length - bad.length} of ${last.length} targets healthy` };
      },
    });
  } catch (error) {
    if (error instanceof PollTimeoutError) {
      throw targetError(
        group,
        last.filter((t) => t.state !== 'healthy'),
      );
    }
    throw error;
  }
}

function targetError(group: GroupInfo, bad: TargetState[]): DeployError {
  if (bad.length === 0) {
    return new DeployError(`The target groups of ${group.name} have no registered targets after the refresh.`);
  }
  return new DeployError(
    `The instance refresh of ${group.name} finished, but ${bad.length} load balancer target(s) are not healthy: ` +
      `${bad.map(describeTarget).join('; ')}. Check the application's health check path and logs on those instances.`,
  );
}

export interface AsgDeployOptions {
  groupName: string;
  /** With `digest`: the boot tag is moved to it before the refresh. Without: read only, for previous-image. */
  bootTag?: BootTag;
  digest?: string;
  preferences: RefreshPreferences;
  launchTemplateVersion?: string;
  onBusy: OnBusy;
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
  const { groupName, bootTag, logger } = { ...options, logger: deps.logger };
  const started = deps.clock.now();
  const remaining = () => Math.max(1_000, options.timeoutMs - (deps.clock.now() - started));
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
    refreshId = await startWhenFree(deps, request, options.onBusy, remaining());
  } catch (error) {
    if (!tagMoved || !bootTag) throw error;
    // No refresh runs, but the group's next launch (a scale-out, a replaced instance) would pull the unverified image.
    throw await restoreBootTag(bootTag, previousDigest, options.digest, error);
  }
  logger.info(`Started instance refresh ${refreshId} of ${groupName}.`);
  // AWS moves the group to the DesiredConfiguration when the refresh succeeds: a later rollback must move it back.
  const previousTemplateVersion = request.DesiredConfiguration ? group.launchTemplate?.version : undefined;
  options.onStarted?.(refreshId, previousDigest, previousTemplateVersion);
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
 * The wait ended without the refresh ending (job cancelled, timeout, or a hard error): cancel the refresh this run
 * started if asked to, and say what state everything is left in. Never leaves a refresh running unreported.
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
  const why = deps.signal?.aborted
    ? 'The job was cancelled'
    : error instanceof PollTimeoutError
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

export interface AsgRollbackOptions {
  groupName: string;
  /** The boot tag to move back to `previousDigest` before any instance is relaunched. */
  bootTag?: BootTag;
  previousDigest?: string;
  /** Preferences of a new refresh, if one is needed (SkipMatching is always off: every instance must re-pull). */
  preferences: RefreshPreferences;
  /**
   * The launch template version to go back to (the deploy's previousTemplateVersion). A new refresh then carries it
   * as its DesiredConfiguration, so the group itself returns to it, not only the boot tag.
   */
  launchTemplateVersion?: string;
  timeoutMs: number;
  /** A URL through the load balancer (e.g. `<lb>/version`) that must answer healthily, with `expectedVersion` if set. */
  verify?: { url: string; expectedVersion?: string; intervalMs?: number };
  /** undefined: verify when the group has target groups. */
  verifyTargetGroups?: boolean;
}

export interface AsgRollbackResult {
  /** `native`: RollbackInstanceRefresh of the running refresh; `refresh`: a new refresh to the previous image. */
  method: 'native' | 'refresh';
  refreshId: string;
  status: string;
  tagMoved: boolean;
  targets?: TargetState[];
  health?: HealthResult;
}

const NATIVE_ROLLBACK_FROM = new Set(['Pending', 'InProgress', 'Baking']);

/**
 * Rolls an ASG back. The boot tag goes back to the previous digest first, so whatever launches next pulls the old
 * image. Then, while a refresh with a DesiredConfiguration is still running, AWS's own RollbackInstanceRefresh;
 * otherwise (no DesiredConfiguration, $Latest/$Default, or nothing running) a new refresh replaces every instance.
 * Waits for it, checks target health, and probes the load balancer until the old version answers on every instance.
 */
export async function rollbackAsg(deps: AsgDeps, options: AsgRollbackOptions): Promise<AsgRollbackResult> {
  const { groupName, bootTag } = options;
  const logger = deps.logger;
  const started = deps.clock.now();
  const remaining = () => Math.max(1_000, options.timeoutMs - (deps.clock.now() - started));
  const group = await describeGroup(deps.autoscaling, groupName);

  let tagMoved = false;
  if (bootTag && options.previousDigest) {
    const current = await bootTag.current();
    if (current !== options.previousDigest) {
      await bootTag.moveTo(options.previousDigest);
      tagMoved = true;
      logger.info(`Moved the boot tag ${bootTag.repository}:${bootTag.tag} back to ${options.previousDigest}.`);
    }
  }

  let method: AsgRollbackResult['method'] = 'refresh';
  let refreshId: string | undefined;
  const active = await activeRefresh(deps.autoscaling, groupName);
  if (active?.status === 'RollbackInProgress') {
    logger.info(`Instance refresh ${active.id} of ${groupName} is already rolling back; waiting for it.`);
    method = 'native';
    refreshId = active.id;
  } else if (active?.hasDesiredConfiguration && NATIVE_ROLLBACK_FROM.has(active.status)) {
    try {
      await rollbackRefresh(deps.autoscaling, groupName);
      method = 'native';
      refreshId = active.id;
      logger.info(`Rolling back instance refresh ${active.id} of ${groupName} (RollbackInstanceRefresh).`);
    } catch (error) {
      if (!(error instanceof RollbackRefusedError)) throw error;
      logger.warning(`${error.message}. Replacing the instances with a new refresh instead.`);
    }
  }
  if (method === 'refresh') {
    if (active) await clearTheWay(deps, groupName, 'cancel', remaining());
    const request = refreshRequest(
      group,
      { ...options.preferences, skipMatching: false, autoRollback: false },
      options.launchTemplateVersion,
    );
    refreshId = await startWhenFree(deps, request, 'cancel', remaining());
    logger.info(
      `Started instance refresh ${refreshId} of ${groupName} to relaunch every instance on the previous image.`,
    );
  }

  const id = refreshId as string;
  const refresh = await waitForRefresh(deps, groupName, id, { timeoutMs: remaining() });
  const expected = method === 'native' ? 'RollbackSuccessful' : TERMINAL_SUCCESS;
  if (refresh.status !== expected) {
    throw new DeployError(
      `The rollback of ${groupName} did not complete: instance refresh ${id} ended ${describeProgress(refresh)}.` +
        (refresh.rollback?.reason ? ` Rollback reason: ${refresh.rollback.reason}.` : ''),
    );
  }
  const result: AsgRollbackResult = { method, refreshId: id, status: refresh.status, tagMoved };
  if ((options.verifyTargetGroups ?? group.targetGroupArns.length > 0) && group.targetGroupArns.length > 0) {
    result.targets = await verifyTargetGroups(deps, group, Math.min(remaining(), 10 * 60_000));
  }
  if (options.verify) {
    // Round robin: twice the group's size in a row means every instance answered at least once.
    result.health = await waitUntilHealthy({
      url: options.verify.url,
      ...(options.verify.expectedVersion ? { expectedVersion: options.verify.expectedVersion } : {}),
      consecutiveSuccesses: Math.max(3, 2 * group.desiredCapacity),
      intervalMs: options.verify.intervalMs ?? 1_000,
      timeoutMs: Math.min(remaining(), 5 * 60_000),
      clock: deps.clock,
      logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  }
  logger.info(
    `${groupName} is rolled back (${method === 'native' ? 'RollbackInstanceRefresh' : 'new refresh'} ${id}).`,
  );
  return result;
}
