import { type AppRunnerService, describeService, operationState } from '../../aws/apprunner';
import { DeployError } from '../../core/errors';
import { HealthCheckError } from '../../core/health';
import type { PollDelays } from '../../core/poller';
import type { DeployRecord, Outcome } from '../../core/record';
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
import { rollbackAppRunner } from './rollback';
import {
  type AppRunnerDeployResult,
  type AppRunnerDeps,
  type DeployAppRunnerOptions,
  RESOURCE,
  type VerifyOptions,
} from './types';

/**
 * Deploys `image` to an App Runner service and follows its own operation to the end: App Runner's silent rollback
 * fails the step, and so does a health check (`verify`) that fails afterwards, in which case the previous image is
 * deployed again by digest (`rollbackOnFailure`). Never throws for a failed deployment: the result carries the
 * failure and the record, so that the caller can still write its outputs.
 */
export async function deployAppRunner(
  deps: AppRunnerDeps,
  options: DeployAppRunnerOptions,
): Promise<AppRunnerDeployResult> {
  const { client, logger, clock } = deps;
  const record = options.record;
  const image = parseImageReference('image', options.image);
  const run = newRun(deps, options);
  const result: AppRunnerDeployResult = { status: 'NOT_STARTED', serviceUrl: '', record };
  if (!record.image && image.digest) {
    record.image = {
      registry: image.registry,
      repository: image.repository,
      uri: image.identifier,
      digest: image.digest,
      tags: image.tag ? [image.tag] : [],
      reused: false,
    };
  }

  let service: AppRunnerService;
  try {
    await inPhase(record, 'deploy', clock, async () => {
      service = await describeService(client, options.serviceArn);
      result.serviceUrl = serviceUrlOf(service.url);
      record.target = {
        kind: 'apprunner',
        id: service.arn,
        resource: RESOURCE,
        ...(result.serviceUrl ? { url: result.serviceUrl } : {}),
      };
      requireServiceUrl(service, options.verify);
      // CREATE_FAILED is not here: AWS documents UpdateService as the way to rebuild such a service.
      if (['DELETED', 'DELETE_FAILED'].includes(service.status)) {
        throw new DeployError(
          `Cannot deploy to the App Runner service ${service.name}: its status is ${service.status}.`,
        );
      }
      if (service.status === 'PAUSED') {
        logger.warning(`The App Runner service ${service.name} is PAUSED: it will not serve until it is resumed.`);
      }
      // What ran before is read after any operation we waited for, since that one may have changed it.
      const { operationId, before } = await startOwnOperation(run, service, image);
      service = before;
      // The image of a service that failed to be created never ran: it is no rollback target.
      if (before.status !== 'CREATE_FAILED')
        setPrevious(result, record, before.imageIdentifier, before.imageIdentifier === image.identifier);
      result.operationId = operationId;
      result.status = 'PENDING';
      recordOperation(record, operationId, 'PENDING');
      logger.info(`App Runner operation ${operationId} started on ${service.name}.`);
      if (!options.wait) return;

      const op = await waitForOperation(run, service.name, operationId).catch((error: unknown) => {
        if (error instanceof OperationTimeout) {
          result.status = error.lastStatus;
          recordOperation(record, operationId, error.lastStatus);
        }
        throw error;
      });
      result.status = op.status;
      recordOperation(record, operationId, op.status);
      const state = operationState(op.status);
      if (state !== 'succeeded') {
        const previous = result.previousImage;
        const ending =
          state === 'rollback-failed'
            ? ' and its rollback FAILED too: check the service in the App Runner console'
            : previous
              ? `; the service runs the previous image again: ${previous}`
              : '; no earlier revision was running, so the service serves nothing';
        throw new AppRunnerRolledBack(
          `App Runner rolled the deployment back: operation ${operationId} of ${image.identifier} ended ` +
            `${op.status}${ending}. The new revision most likely failed App Runner's health check; see the ` +
            "service's deployment logs.",
          state,
        );
      }
      logger.info(`App Runner operation ${operationId} SUCCEEDED: ${service.name} runs ${image.identifier}.`);
    });
  } catch (error) {
    const outcome: Outcome =
      error instanceof AppRunnerRolledBack && (error.state === 'rolled-back' || error.state === 'rollback-failed')
        ? error.state
        : 'failed';
    result.failure = fail(record, outcome, error);
    return result;
  }

  if (!options.wait) {
    return result;
  }
  if (!options.verify) {
    record.outcome = 'succeeded';
    return result;
  }

  try {
    result.health = await inPhase(record, 'verify', clock, () =>
      verify(deps, record, options.verify as VerifyOptions, result.serviceUrl),
    );
    record.outcome = 'succeeded';
    return result;
  } catch (error) {
    if (!(error instanceof HealthCheckError)) {
      result.failure = fail(record, 'failed', error);
      return result;
    }
    result.health = error.result;
    const healthProblem = error.message;
    const target = result.previousImage;
    if (options.rollbackOnFailure === false || !target || target === image.identifier) {
      const why =
        options.rollbackOnFailure === false
          ? 'rollback-on-failure is false, so the new image stays deployed'
          : 'there is no previous image to roll back to';
      result.failure = fail(
        record,
        'failed',
        new DeployError(
          `App Runner deployed ${image.identifier}, but the health check failed (${why}). ${healthProblem}`,
        ),
      );
      return result;
    }
    result.failure = await rollBackTo(
      deps,
      { ...options, verify: options.verify.url ? options.verify : undefined },
      target,
      'the health check failed after App Runner reported success',
      `App Runner deployed ${image.identifier}, but the health check failed. ${healthProblem}`,
    );
    return result;
  }
}

/**
 * Deploys `previous` again after the new version failed a check (its health check, or the bake's alarm), and fails
 * the record `rolled-back` (or `rollback-failed`) with `what` and how the rollback went. The record's health stays
 * the new version's: that is what failed.
 */
export async function rollBackTo(
  deps: AppRunnerDeps,
  options: {
    serviceArn: string;
    timeoutMs: number;
    record: DeployRecord;
    verify?: VerifyOptions | undefined;
    pollDelays?: PollDelays | undefined;
  },
  previous: string,
  reason: string,
  what: string,
): Promise<DeployError> {
  const { record } = options;
  const failedHealth = record.health;
  const rollback = await rollbackAppRunner(deps, {
    serviceArn: options.serviceArn,
    image: previous,
    timeoutMs: options.timeoutMs,
    onBusy: 'wait',
    record,
    reason,
    ...(options.verify ? { verify: rollbackCheck(options.verify, record) } : {}),
    ...(options.pollDelays ? { pollDelays: options.pollDelays } : {}),
  });
  if (failedHealth) record.health = failedHealth;
  const back = rollback.failure
    ? `Rolling back to ${previous} FAILED too: ${rollback.failure.message}`
    : `Rolled back to ${previous} (operation ${rollback.operationId}), and it answers again.`;
  return fail(record, rollback.failure ? 'rollback-failed' : 'rolled-back', new DeployError(`${what} ${back}`));
}

class AppRunnerRolledBack extends DeployError {
  constructor(
    message: string,
    readonly state: string,
  ) {
    super(message);
  }
}

/**
 * The old version is checked like the new one, except for what only the new one serves: the expected version is
 * the previous commit when the record knows it, and the body pattern is dropped.
 */
export function rollbackCheck(check: VerifyOptions, record: DeployRecord): VerifyOptions {
  const { expectedBody: _body, expectedVersion: _version, ...rest } = check;
  return { ...rest, ...(record.previous?.commit ? { expectedVersion: record.previous.commit } : {}) };
}

function setPrevious(
  result: AppRunnerDeployResult,
  record: DeployRecord,
  identifier: string | undefined,
  alreadyOurs: boolean,
): void {
  if (!identifier) return;
  result.previousImage = identifier;
  // A re-run finds its own image deployed: the record from the first run keeps the real previous image.
  if (alreadyOurs && record.previous?.image) {
    result.previousImage = record.previous.image;
    return;
  }
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(identifier)?.[1];
  record.previous = { ...record.previous, image: identifier, ...(digest ? { digest } : {}) };
}
