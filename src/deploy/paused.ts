import { DeployError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Scheduler } from '../targets/target';

/** What a deploy does with a target the schedule paused: fail before changing anything, or resume it first. */
export type OnPaused = 'fail' | 'resume';

export const ON_PAUSED_CHOICES = ['fail', 'resume'] as const;

/**
 * Before a deploy: a paused target (our paused- tags and nothing running, or App Runner's PAUSED) would take the new
 * version without running it, and its health check could only fail. Says so, and fails or resumes it first.
 */
export async function ensureAwake(
  scheduler: Scheduler | undefined,
  onPaused: OnPaused,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  if (!scheduler) return;
  const state = await scheduler.inspect('deploy');
  if (!state.paused) return;
  if (state.paused === 'ours' && !state.stopped) {
    logger.warning(
      `${state.label} carries aws-deploy-kit:paused- tags but runs (${state.now}): deploying; the next scheduled ` +
        'resume restores the counts the tags saved.',
    );
    return;
  }
  const since = state.pausedAt ? ` since ${state.pausedAt}` : '';
  const how =
    state.paused === 'ours'
      ? `paused by the schedule action${since} (${state.now}; tags aws-deploy-kit:paused-*)`
      : `paused (${state.now}), not by aws-deploy-kit`;
  if (onPaused === 'fail') {
    throw new DeployError(
      `${state.label} is ${how}: a deploy would not run there. Nothing was changed. Resume it first (the schedule ` +
        'action with mode: resume), or set on-paused: resume to resume it before deploying.',
    );
  }
  logger.info(`${state.label} is ${how}; on-paused is resume: resuming it before the deploy.`);
  const resumed = await logger.group(`resume ${state.label}`, () => scheduler.resume(state, timeoutMs));
  logger.info(`Resumed ${state.label}: ${resumed.restored}.`);
}
