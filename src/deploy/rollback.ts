import type { DeployError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { DeployRecord } from '../core/record';
import type { RollbackRequest, Target, TargetDeployResult } from '../targets/target';

/**
 * The one rollback path, for the all-in-one action (a deploy that failed its checks) and the rollback action (a
 * manual rollback): the target puts the image back, by digest, and checks it answers. When a deploy of this job is
 * being undone, the record's health stays the new version's: that is what failed.
 */
export async function rollBack(
  target: Target,
  request: RollbackRequest,
  logger: Logger,
): Promise<DeployError | undefined> {
  logger.info(`Rolling ${target.label} back to ${request.image.uri}: ${request.reason}.`);
  const failedHealth = request.undoing ? request.record.health : undefined;
  const failure = await target.rollback(request);
  if (failedHealth) request.record.health = failedHealth;
  return failure;
}

/** How a rollback of a deploy of this job is checked: the deploy's own verification settings. */
export interface UndoSettings {
  repository: string;
  timeoutMs: number;
  /** A URL, or a path (resolved against the service URL by targets that have one); undefined: the target's default. */
  healthUrl?: string;
  expectedStatus: number;
  healthIntervalMs: number;
  consecutiveSuccesses: number;
  healthTimeoutMs: number;
}

/**
 * Rolls a deploy of this job back to the image the target ran before it (`deployed.previous`), and checks that image
 * answers again; a failure of the rollback itself is logged (the record's outcome says it too).
 */
export async function undoDeploy(
  target: Target,
  deployed: TargetDeployResult & { previous: NonNullable<TargetDeployResult['previous']> },
  record: DeployRecord,
  settings: UndoSettings,
  reason: string,
  logger: Logger,
): Promise<void> {
  const previous = deployed.previous;
  const failure = await logger.group(`roll back to ${previous.image}`, () => {
    logger.warning(`Rolling back: ${reason}`);
    return rollBack(
      target,
      {
        image: {
          uri: previous.image,
          digest: previous.digest ?? '',
          repository: settings.repository,
          ...(record.previous?.commit ? { commit: record.previous.commit } : {}),
        },
        record,
        timeoutMs: settings.timeoutMs,
        reason,
        undoing: deployed,
        verify: {
          url: settings.healthUrl ?? target.defaultHealthPath ?? '/health',
          expectedStatus: settings.expectedStatus,
          intervalMs: settings.healthIntervalMs,
          consecutiveSuccesses: settings.consecutiveSuccesses,
          timeoutMs: settings.healthTimeoutMs,
        },
      },
      logger,
    );
  });
  if (failure) logger.error(`The rollback failed too: ${failure.message}`);
}
