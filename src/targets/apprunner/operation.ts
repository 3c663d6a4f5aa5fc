import {
  type AppRunnerOperation,
  type AppRunnerService,
  describeService,
  findOperation,
  findOperationById,
  isInvalidState,
  isStartDeploymentRefused,
  operationState,
  startDeployment,
  updateServiceImage,
} from '../../aws/apprunner';
import { DeployError } from '../../core/errors';
import { HealthCheckError, type HealthResult, waitUntilHealthy } from '../../core/health';
import { DEFAULT_POLL_DELAYS, formatDuration, type PollDelays, PollTimeoutError, poll } from '../../core/poller';
import {
  type DeployRecord,
  type Outcome,
  recordFailure,
  recordHealth,
  recordOperation as recordOperationOf,
} from '../../core/record';
import { type ImageReference, resolveHealthUrl } from './image-reference';
import type { AppRunnerDeps, AppRunnerOnBusy, VerifyOptions } from './types';

/** Shared state of one deploy or rollback: the deadline, the record, what was seen. */
export interface Run {
  deps: AppRunnerDeps;
  serviceArn: string;
  onBusy: AppRunnerOnBusy;
  deadline: number;
  timeoutMs: number;
  delays: PollDelays;
}

function remaining(run: Run): number {
  return Math.max(0, run.deadline - run.deps.clock.now());
}

function describeOperation(op: AppRunnerOperation | undefined): string {
  return op ? `${op.type} operation ${op.id} (${op.status})` : 'an operation';
}

function pollCommon(run: Run) {
  return {
    clock: run.deps.clock,
    logger: run.deps.logger,
    ...(run.deps.signal ? { signal: run.deps.signal } : {}),
    ...(run.deps.random ? { random: run.deps.random } : {}),
  };
}

/** Waits until no operation runs on the service (or fails at once, per on-busy); returns the service as it is then. */
export async function whenIdle(run: Run, service: AppRunnerService): Promise<AppRunnerService> {
  if (service.status !== 'OPERATION_IN_PROGRESS') return service;
  const { client, logger } = run.deps;
  const running = await findOperation(client, run.serviceArn, (op) => operationState(op.status) === 'running');
  const what = describeOperation(running);
  if (run.onBusy === 'fail') {
    throw new DeployError(
      `The App Runner service ${service.name} is busy: ${what} is in progress, and on-busy is "fail". ` +
        'Re-run when it has finished, or set on-busy: wait to wait for it.',
    );
  }
  logger.info(`The App Runner service ${service.name} is busy with ${what}: waiting for it to finish first.`);
  try {
    return await poll({
      what: `${what} already running on ${service.name}`,
      timeoutMs: remaining(run),
      ...run.delays,
      ...pollCommon(run),
      check: async () => {
        const now = await describeService(client, run.serviceArn);
        return now.status === 'OPERATION_IN_PROGRESS'
          ? { done: false, progress: now.status }
          : { done: true, value: now };
      },
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
    throw new DeployError(
      `The App Runner service ${service.name} stayed busy with ${what} for ${formatDuration(run.timeoutMs)}, ` +
        'so this deployment was not started. Raise timeout-minutes, or find out why that operation takes so long.',
    );
  }
}

/**
 * Starts the deployment of `image` and returns its OperationId, handling a service that tracks a tag with automatic
 * deployments on: never both trigger a deployment and let the push trigger a second one (see docs/deploy-apprunner.md).
 */
export async function startOwnOperation(
  run: Run,
  initial: AppRunnerService,
  image: ImageReference,
): Promise<{ operationId: string; before: AppRunnerService }> {
  const { client, logger } = run.deps;
  let service = initial;
  const watchPush =
    !image.digest &&
    service.status !== 'CREATE_FAILED' &&
    service.autoDeploymentsEnabled &&
    service.imageIdentifier === image.identifier;
  if (watchPush) return { operationId: await watchPushDeployment(run, service, image), before: service };

  for (let attempt = 1; ; attempt++) {
    service = await whenIdle(run, service);
    // A digest cannot move, so there is nothing left to deploy automatically; a push of the old tag must not
    // replace the pinned image behind our back.
    const autoDeploy = image.digest ? false : service.autoDeploymentsEnabled;
    if (image.digest && service.autoDeploymentsEnabled) {
      logger.info(
        `The service had automatic deployments on; they are turned off in the same UpdateService, since it is ` +
          `pinned to the digest ${image.digest} now and a push of a tag must not replace it.`,
      );
    }
    // AWS documents UpdateService as the way to rebuild a service whose creation failed; StartDeployment
    // redeploys a running one only.
    const redeploy =
      service.status !== 'CREATE_FAILED' &&
      service.imageIdentifier === image.identifier &&
      autoDeploy === service.autoDeploymentsEnabled;
    try {
      if (redeploy) {
        logger.info(`The service is already configured with ${image.identifier}: redeploying it (StartDeployment).`);
        return { operationId: await startDeployment(client, service), before: service };
      }
      if (service.status === 'CREATE_FAILED') {
        logger.info(
          `${service.name} failed to be created (CREATE_FAILED): rebuilding it with UpdateService, as AWS documents.`,
        );
      }
      logger.info(`Updating ${service.name} from ${service.imageIdentifier ?? '(no image)'} to ${image.identifier}.`);
      return { operationId: await updateServiceImage(client, service, image.identifier, autoDeploy), before: service };
    } catch (error) {
      // Another operation started between our look and our update.
      const refused = redeploy ? isStartDeploymentRefused(error) : isInvalidState(error);
      if (!refused || run.onBusy === 'fail' || attempt >= 5 || remaining(run) === 0) throw error;
      const now = await describeService(client, run.serviceArn);
      // An InvalidRequestException is a race only when an operation is indeed running; else it is a real refusal.
      if (!isInvalidState(error) && now.status !== 'OPERATION_IN_PROGRESS') throw error;
      logger.info(
        `App Runner refused the ${redeploy ? 'deployment' : 'update'} because an operation started meanwhile; waiting for it.`,
      );
      service = now.status === 'OPERATION_IN_PROGRESS' ? now : { ...now, status: 'OPERATION_IN_PROGRESS' };
    }
  }
}

// How long to wait for App Runner to notice a push of the tracked tag before starting the deployment ourselves.
const PUSH_PICKUP_MS = 90_000;

async function watchPushDeployment(run: Run, service: AppRunnerService, image: ImageReference): Promise<string> {
  const { client, logger } = run.deps;
  logger.info(
    `${service.name} tracks ${image.identifier} with automatic deployments on: pushing that tag starts a ` +
      'deployment by itself, so this step watches that deployment instead of starting a second one.',
  );
  const firstPage = (match: (op: AppRunnerOperation) => boolean) => findOperation(client, run.serviceArn, match, 1);
  // The operations there before this step looked: a START_DEPLOYMENT that is not among them was started by the push,
  // even when it already ended between two looks. Missing a fast one would mean starting a second deployment.
  const page: AppRunnerOperation[] = [];
  await firstPage((op) => {
    page.push(op);
    return false;
  });
  const before = new Set(page.map((op) => op.id));
  const running = page.find((op) => operationState(op.status) === 'running');
  const isPushDeployment = (op: AppRunnerOperation) =>
    op.type === 'START_DEPLOYMENT' && (operationState(op.status) === 'running' || !before.has(op.id));
  const adopt = (op: AppRunnerOperation) => {
    logger.info(`Watching ${describeOperation(op)}, started by the push.`);
    return op.id;
  };

  if (service.status === 'OPERATION_IN_PROGRESS') {
    if (running && isPushDeployment(running)) return adopt(running);
    await whenIdle(run, service);
  }
  const pickupMs = Math.min(PUSH_PICKUP_MS, remaining(run));
  const found = await poll<AppRunnerOperation | undefined>({
    what: `the deployment started by the push of ${image.identifier}`,
    timeoutMs: pickupMs,
    ...run.delays,
    ...pollCommon(run),
    check: async () => {
      const op = await firstPage(isPushDeployment);
      return op ? { done: true, value: op } : { done: false, progress: 'not started yet' };
    },
  }).catch((error: unknown) => {
    if (error instanceof PollTimeoutError) return undefined;
    throw error;
  });
  if (found) return adopt(found);
  logger.info(
    `App Runner started no deployment of ${image.identifier} within ${formatDuration(pickupMs)} ` +
      '(the push may have been deployed already): starting one (StartDeployment).',
  );
  try {
    return await startDeployment(client, service);
  } catch (error) {
    if (!isStartDeploymentRefused(error)) throw error;
    // The push's deployment began in between: watch that one.
    const late = await firstPage(isPushDeployment);
    if (!late) throw error;
    return adopt(late);
  }
}

/** Waits for our operation to end; returns it. Throws a DeployError saying what the service runs on a timeout. */
export async function waitForOperation(
  run: Run,
  serviceName: string,
  operationId: string,
): Promise<AppRunnerOperation> {
  const { client, logger } = run.deps;
  let last: AppRunnerOperation | undefined;
  let toldRollback = false;
  try {
    return await poll({
      what: `App Runner operation ${operationId} on ${serviceName}`,
      timeoutMs: remaining(run),
      ...run.delays,
      ...pollCommon(run),
      check: async () => {
        const op = await findOperationById(client, run.serviceArn, operationId);
        // ListOperations can lag a moment behind the call that started the operation.
        if (!op) return { done: false, progress: 'not listed yet' };
        last = op;
        if (operationState(op.status) !== 'running') return { done: true, value: op };
        if (op.status === 'ROLLBACK_IN_PROGRESS' && !toldRollback) {
          toldRollback = true;
          logger.warning(`App Runner is rolling the deployment back (operation ${operationId}); waiting for it.`);
        }
        return { done: false, progress: op.status };
      },
    });
  } catch (error) {
    if (!(error instanceof PollTimeoutError)) throw error;
    const now = await describeService(client, run.serviceArn).catch(() => undefined);
    const running = now
      ? `The service now runs ${now.imageIdentifier ?? '(no image)'} (status ${now.status}).`
      : 'What the service runs now could not be read.';
    const rollingBack = last?.status === 'ROLLBACK_IN_PROGRESS' ? ' App Runner was rolling the deployment back.' : '';
    throw new OperationTimeout(
      `Gave up waiting for App Runner operation ${operationId} on ${serviceName} after ` +
        `${formatDuration(run.timeoutMs)}: its last status was ${last?.status ?? 'not listed yet'}.${rollingBack} ` +
        `${running} The operation goes on in AWS; raise timeout-minutes if deployments take this long.`,
      last?.status ?? 'UNKNOWN',
    );
  }
}

export class OperationTimeout extends DeployError {
  constructor(
    message: string,
    readonly lastStatus: string,
  ) {
    super(message);
  }
}

export function newRun(
  deps: AppRunnerDeps,
  options: { serviceArn: string; onBusy: AppRunnerOnBusy; timeoutMs: number; pollDelays?: PollDelays },
): Run {
  return {
    deps,
    serviceArn: options.serviceArn,
    onBusy: options.onBusy,
    timeoutMs: options.timeoutMs,
    deadline: deps.clock.now() + options.timeoutMs,
    delays: options.pollDelays ?? DEFAULT_POLL_DELAYS,
  };
}

/** The kind of the operations this platform records in `record.operations`. */
export const OPERATION_KIND = 'apprunner-operation';

export function recordOperation(record: DeployRecord, id: string, status: string): void {
  recordOperationOf(record, OPERATION_KIND, id, status);
}

export function fail(record: DeployRecord, outcome: Outcome, error: unknown): DeployError {
  const failure = error instanceof DeployError ? error : new DeployError(String((error as Error)?.message ?? error));
  recordFailure(record, outcome, failure.message);
  return failure;
}

export async function verify(
  deps: AppRunnerDeps,
  record: DeployRecord,
  options: VerifyOptions,
  serviceUrl: string,
): Promise<HealthResult> {
  const url = resolveHealthUrl(options.url, serviceUrl);
  try {
    const health = await waitUntilHealthy({
      ...options,
      url,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    recordHealth(record, { ...health, url });
    return health;
  } catch (error) {
    if (error instanceof HealthCheckError)
      recordHealth(record, { ...error.result, url, healthy: false }, error.message);
    throw error;
  }
}
