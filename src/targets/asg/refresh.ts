import type { AutoScalingClient, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  activeRefresh,
  cancelRefresh,
  describeProgress,
  type GroupInfo,
  getRefresh,
  isActiveStatus,
  RefreshInProgressError,
  type RefreshView,
  startRefresh,
} from '../../aws/autoscaling';
import type { Clock } from '../../core/clock';
import { DeployError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { DEFAULT_POLL_DELAYS, type PollDelays, poll } from '../../core/poller';
import type { Outcome } from '../../core/record';

/** Clients and context for every ASG operation. */
export interface AsgDeps {
  autoscaling: AutoScalingClient;
  /** Needed only to verify target groups. */
  elbv2?: ElasticLoadBalancingV2Client;
  clock: Clock;
  logger: Logger;
  /** Aborted when the job is cancelled. */
  signal?: AbortSignal;
  /** Delays between looks at a refresh; DEFAULT_POLL_DELAYS (2 s doubling up to 10 s) otherwise. */
  pollDelays?: PollDelays;
}

/** What every wait of this module shares: delays (DEFAULT_POLL_DELAYS unless set), clock, logger, cancellation. */
export function pollSettings(deps: AsgDeps) {
  return {
    ...(deps.pollDelays ?? DEFAULT_POLL_DELAYS),
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
}

export type AsgOnBusy = 'wait' | 'cancel' | 'fail';

/** The share of the group kept in service while a refresh replaces instances, unless set: AWS's own default. */
export const DEFAULT_MIN_HEALTHY_PERCENTAGE = 90;

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

export const TERMINAL_SUCCESS = 'Successful';

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
export async function clearTheWay(deps: AsgDeps, group: string, onBusy: AsgOnBusy, timeoutMs: number): Promise<void> {
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
  onBusy: AsgOnBusy,
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
