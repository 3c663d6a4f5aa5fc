import { DeployError } from '../../core/errors';
import { PollTimeoutError } from '../../core/poller';
import { type DeployRecord, type Outcome, recordOperation } from '../../core/record';
import type { DeploymentState, DeploymentTracker, RolloutOf } from './deployment';

/** The record's operation kind for an ECS service deployment. */
export const OPERATION_KIND = 'service-deployment';

/** How a followed rollout ended, in the terms of a deploy. */
export interface RolloutEnd {
  state?: DeploymentState;
  arn?: string;
  /** Undefined when ECS reports the deployment SUCCESSFUL. */
  failure?: DeployError;
  /** The record's outcome when it failed: ECS's own rollback is `rolled-back`, never a success. */
  outcome: Outcome;
  /** The service may run a mix of revisions (stopped, timed out): ours to undo. */
  needsRollback: boolean;
  cancelled?: boolean;
}

/**
 * Follows the deployment of `ours` to its end and says what that means for the deploy: SUCCESSFUL is the only
 * success; ECS's own rollback (circuit breaker, alarms) fails the deploy with ECS's reason in words.
 */
export async function followRollout(
  tracker: DeploymentTracker,
  options: {
    ours: RolloutOf;
    since: Date;
    timeoutMs: number;
    label: string;
    record: DeployRecord;
    signal?: AbortSignal;
    onFound?: (arn: string) => void;
  },
): Promise<RolloutEnd> {
  let arn: string | undefined;
  try {
    const state = await tracker.follow({
      ours: options.ours,
      since: options.since,
      timeoutMs: options.timeoutMs,
      what: `the deployment of ${options.label}`,
      onFound: (found) => {
        arn = found;
        recordOperation(options.record, OPERATION_KIND, found, 'PENDING');
        options.onFound?.(found);
      },
    });
    if (state.arn) recordOperation(options.record, OPERATION_KIND, state.arn, state.status);
    const end = { state, ...(arn ? { arn } : {}) };
    const why = state.reason ? `: ${state.reason}` : '';
    switch (state.verdict) {
      case 'succeeded':
        return { ...end, outcome: 'in-progress', needsRollback: false };
      case 'rolled-back':
        return {
          ...end,
          outcome: 'rolled-back',
          needsRollback: false,
          failure: new DeployError(
            `ECS rolled the deployment of ${options.label} back (${state.status})${why}. The service runs the ` +
              'previous revision again; the new one did not become healthy.',
          ),
        };
      case 'rollback-failed':
        return {
          ...end,
          outcome: 'rollback-failed',
          needsRollback: false,
          failure: new DeployError(
            `The deployment of ${options.label} failed and ECS's rollback FAILED too (${state.status})${why}. Check ` +
              "the service's events in the ECS console.",
          ),
        };
      default:
        return {
          ...end,
          outcome: 'failed',
          needsRollback: true,
          failure: new DeployError(`The deployment of ${options.label} ended ${state.status}${why}.`),
        };
    }
  } catch (error) {
    if (options.signal?.aborted) {
      return {
        ...(arn ? { arn } : {}),
        outcome: 'failed',
        needsRollback: false,
        cancelled: true,
        failure: error instanceof DeployError ? error : new DeployError(String((error as Error)?.message ?? error)),
      };
    }
    const timedOut = error instanceof PollTimeoutError;
    if (arn && timedOut) recordOperation(options.record, OPERATION_KIND, arn, 'IN_PROGRESS');
    return {
      ...(arn ? { arn } : {}),
      outcome: 'failed',
      // Still running (timed out) or unknown: a rollback puts the previous revision back for sure.
      needsRollback: true,
      failure:
        error instanceof DeployError
          ? error
          : new DeployError(`Could not follow the deployment of ${options.label}: ${(error as Error).message}`, {
              cause: error,
            }),
    };
  }
}
