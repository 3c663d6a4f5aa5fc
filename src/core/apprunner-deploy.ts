import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
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
} from '../aws/apprunner';
import type { Clock } from './clock';
import { ConfigurationError, DeployError } from './errors';
import { HealthCheckError, type HealthCheckOptions, type HealthResult, redactUrl, waitUntilHealthy } from './health';
import type { Logger } from './logger';
import { formatDuration, PollTimeoutError, poll } from './poller';
import type { DeployRecord, Outcome } from './record';
import { inPhase } from './record';
import { repositoryNameSource } from './validate';

export interface AppRunnerDeps {
  client: AppRunnerClient;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  random?: () => number;
}

export type OnBusy = 'wait' | 'fail';

/** The health check run after App Runner reports success. `url` may be a path ("/version") on the service URL. */
export type VerifyOptions = Omit<HealthCheckOptions, 'clock' | 'signal' | 'logger'>;

export interface DeployAppRunnerOptions {
  serviceArn: string;
  /** `<registry>/<repository>@sha256:…` (pinned) or `<registry>/<repository>:<tag>`. */
  image: string;
  /** Bounds waiting for a busy service plus waiting for our own operation. */
  timeoutMs: number;
  onBusy: OnBusy;
  /** false: return once the deployment has started. */
  wait: boolean;
  record: DeployRecord;
  verify?: VerifyOptions;
  /** Roll back to the previous image when `verify` fails after App Runner reported success. */
  rollbackOnFailure?: boolean;
  /** Poll delays for the operation; defaults 2 s and 10 s. */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface AppRunnerDeployResult {
  operationId?: string;
  /** Last status seen of our operation (SUCCEEDED, ROLLBACK_SUCCEEDED, IN_PROGRESS…). */
  status: string;
  serviceUrl: string;
  previousImage?: string;
  health?: HealthResult;
  record: DeployRecord;
  /** Set when the step must fail; the record's outcome and error say the same. */
  failure?: DeployError;
}

export interface RollbackAppRunnerOptions {
  serviceArn: string;
  /** The image to go back to: by digest, so that a moved tag cannot bring anything else. */
  image: string;
  timeoutMs: number;
  onBusy: OnBusy;
  record: DeployRecord;
  /** Checks that the old version answers again. */
  verify?: VerifyOptions;
  /** Why the rollback happens, for the log. */
  reason?: string;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** What App Runner is given: `<registry>/<repository>@<digest>` when a digest is known, else `…:<tag>`. */
  identifier: string;
}

const imagePattern = new RegExp(
  `^([a-z0-9.-]+(?::\\d+)?)\\/(${repositoryNameSource})(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

/** Parses an image URI as App Runner takes it; a digest wins over a tag, since it is what gets pinned. */
export function parseImageReference(input: string, value: string): ImageReference {
  const match = imagePattern.exec(value.trim());
  if (!match || (!match[3] && !match[4])) {
    throw new ConfigurationError(
      input,
      value,
      'an image URI with a registry and a digest or a tag, e.g. ' +
        '"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:…" (the build-push output) or "…/web:v1"',
    );
  }
  const [, registry = '', repository = '', tag, digest] = match;
  return {
    registry,
    repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    identifier: digest ? `${registry}/${repository}@${digest}` : `${registry}/${repository}:${tag}`,
  };
}

const loopback = /^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?$/;

/**
 * App Runner gives a bare host name, served over HTTPS. The local sandbox serves on a loopback port over plain HTTP;
 * App Runner never gives a loopback host, so that is the one case served as http://.
 */
export function serviceUrlOf(host: string): string {
  if (host === '') return '';
  if (/^https?:\/\//.test(host)) return host;
  return `${loopback.test(host) ? 'http' : 'https'}://${host}`;
}

/** A health URL given as a path ("/version") is on the service URL. */
export function resolveHealthUrl(url: string, serviceUrl: string): string {
  if (!url.startsWith('/')) return url;
  if (!serviceUrl) throw new DeployError(noServiceUrl(url));
  return new URL(url, serviceUrl).href;
}

function noServiceUrl(path: string, service?: AppRunnerService): string {
  const who = service ? `the App Runner service ${service.name}` : 'the App Runner service';
  const why =
    service && !service.publiclyAccessible
      ? ' It is a private service (reachable only through its VPC interface endpoint), and App Runner gives it no URL.'
      : ' App Runner gives it no URL (a private service reachable only through a VPC endpoint may have none).';
  return (
    `Cannot check ${path}: it is a path on the service's URL, and ${who} has none.${why} Set health-url to a full ` +
    'URL this runner can reach (for example through your VPC endpoint or a custom domain).'
  );
}

/** Fails before anything is deployed when the health check is a path on a URL the service does not have. */
function requireServiceUrl(service: AppRunnerService, verify: VerifyOptions | undefined): void {
  if (!verify?.url.startsWith('/') || service.url !== '') return;
  throw new DeployError(noServiceUrl(verify.url, service));
}

/** Shared state of one deploy or rollback: the deadline, the record, what was seen. */
interface Run {
  deps: AppRunnerDeps;
  serviceArn: string;
  onBusy: OnBusy;
  deadline: number;
  timeoutMs: number;
  minDelayMs: number;
  maxDelayMs: number;
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
async function whenIdle(run: Run, service: AppRunnerService): Promise<AppRunnerService> {
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
      minDelayMs: run.minDelayMs,
      maxDelayMs: run.maxDelayMs,
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
async function startOwnOperation(
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
    minDelayMs: run.minDelayMs,
    maxDelayMs: run.maxDelayMs,
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
async function waitForOperation(run: Run, serviceName: string, operationId: string): Promise<AppRunnerOperation> {
  const { client, logger } = run.deps;
  let last: AppRunnerOperation | undefined;
  let toldRollback = false;
  try {
    return await poll({
      what: `App Runner operation ${operationId} on ${serviceName}`,
      timeoutMs: remaining(run),
      minDelayMs: run.minDelayMs,
      maxDelayMs: run.maxDelayMs,
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

class OperationTimeout extends DeployError {
  constructor(
    message: string,
    readonly lastStatus: string,
  ) {
    super(message);
  }
}

function newRun(
  deps: AppRunnerDeps,
  options: { serviceArn: string; onBusy: OnBusy; timeoutMs: number },
  delays: {
    minDelayMs?: number | undefined;
    maxDelayMs?: number | undefined;
  },
): Run {
  return {
    deps,
    serviceArn: options.serviceArn,
    onBusy: options.onBusy,
    timeoutMs: options.timeoutMs,
    deadline: deps.clock.now() + options.timeoutMs,
    minDelayMs: delays.minDelayMs ?? 2_000,
    maxDelayMs: delays.maxDelayMs ?? 10_000,
  };
}

function recordOperation(record: DeployRecord, id: string, status: string): void {
  const existing = record.operations.find((op) => op.kind === 'apprunner-operation' && op.id === id);
  if (existing) existing.status = status;
  else record.operations.push({ kind: 'apprunner-operation', id, status });
}

function fail(record: DeployRecord, outcome: Outcome, error: unknown): DeployError {
  const failure = error instanceof DeployError ? error : new DeployError(String((error as Error)?.message ?? error));
  record.outcome = outcome;
  record.error = failure.message;
  return failure;
}

async function verify(
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
    record.health = { url: redactUrl(url), healthy: true, attempts: health.attempts, ...statusOf(health) };
    return health;
  } catch (error) {
    if (error instanceof HealthCheckError) {
      record.health = {
        url: redactUrl(url),
        healthy: false,
        attempts: error.result.attempts,
        ...statusOf(error.result),
        detail: error.message,
      };
    }
    throw error;
  }
}

function statusOf(health: HealthResult): { lastStatus?: number } {
  return health.lastStatus === undefined ? {} : { lastStatus: health.lastStatus };
}

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
  const run = newRun(deps, options, options);
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
      record.target = { kind: 'apprunner', id: service.arn, ...(result.serviceUrl ? { url: result.serviceUrl } : {}) };
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
    const failedHealth = record.health;
    const rollback = await rollbackAppRunner(deps, {
      serviceArn: options.serviceArn,
      image: target,
      timeoutMs: options.timeoutMs,
      onBusy: 'wait',
      record,
      reason: 'the health check failed after App Runner reported success',
      ...(options.verify.url ? { verify: rollbackCheck(options.verify, record) } : {}),
      ...(options.minDelayMs !== undefined ? { minDelayMs: options.minDelayMs } : {}),
      ...(options.maxDelayMs !== undefined ? { maxDelayMs: options.maxDelayMs } : {}),
    });
    // The record's health is the new version's: that is what failed.
    if (failedHealth) record.health = failedHealth;
    const back = rollback.failure
      ? `Rolling back to ${target} FAILED too: ${rollback.failure.message}`
      : `Rolled back to ${target} (operation ${rollback.operationId}), and it answers again.`;
    result.failure = fail(
      record,
      rollback.failure ? 'rollback-failed' : 'rolled-back',
      new DeployError(`App Runner deployed ${image.identifier}, but the health check failed. ${healthProblem} ${back}`),
    );
    return result;
  }
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
function rollbackCheck(check: VerifyOptions, record: DeployRecord): VerifyOptions {
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
  const run = newRun(deps, options, options);
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
