import { describeService, operationState } from '../../aws/apprunner';
import { DeployError } from '../../core/errors';
import { inPhase } from '../../core/record';
import { parseImageReference, requireServiceUrl, serviceUrlOf } from './image-reference';
import {
  fail,
  newRun,
  OperationTimeout,
  recordOperation,
  startOwnOperation,
  verify,
  waitForOperation,
} from './operation';
import type { AppRunnerDeployResult, AppRunnerDeps, RollbackAppRunnerOptions } from './types';

/**
 * Deploys `image` (the previous good one, by digest) again and checks that it answers. The record's outcome is
 * `rolled-back` when that worked and `rollback-failed` when it did not. Never throws for a failed rollback.
 */
export async function rollbackAppRunner(
  deps: AppRunnerDeps,
  options: RollbackAppRunnerOptions,
): Promise<AppRunnerDeployResult> {
  const { client, logger, clock } = deps;
  const record = options.record;
  const run = newRun(deps, options);
  const result: AppRunnerDeployResult = { status: 'NOT_STARTED', serviceUrl: '', record };
  try {
    const image = parseImageReference('image', options.image);
    if (!image.digest) {
      logger.warning(
        `Rolling back to ${image.identifier}, a tag: it may have moved since it was deployed. Roll back by digest ` +
          'to be sure of what comes back.',
      );
    }
    await inPhase(record, 'rollback', clock, async () => {
      logger.info(
        `Rolling ${options.serviceArn} back to ${image.identifier}${options.reason ? `: ${options.reason}` : ''}.`,
      );
      const service = await describeService(client, options.serviceArn);
      result.serviceUrl = serviceUrlOf(service.url);
      requireServiceUrl(service, options.verify);
      const { operationId, before } = await startOwnOperation(run, service, image);
      if (before.imageIdentifier) result.previousImage = before.imageIdentifier;
      result.operationId = operationId;
      recordOperation(record, operationId, 'PENDING');
      const op = await waitForOperation(run, service.name, operationId).catch((error: unknown) => {
        if (error instanceof OperationTimeout) result.status = error.lastStatus;
        throw error;
      });
      result.status = op.status;
      recordOperation(record, operationId, op.status);
      if (operationState(op.status) !== 'succeeded') {
        throw new DeployError(
          `The rollback deployment (operation ${operationId}) ended ${op.status}; check the service in the App ` +
            'Runner console.',
        );
      }
      if (options.verify) {
        result.health = await verify(deps, record, options.verify, result.serviceUrl);
      }
    });
    record.outcome = 'rolled-back';
    logger.info(`Rolled back to ${image.identifier}.`);
    return result;
  } catch (error) {
    result.failure = fail(record, 'rollback-failed', error);
    return result;
  }
}
