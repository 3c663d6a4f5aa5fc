import type { DeployError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { RollbackRequest, Target } from '../targets/target';

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
