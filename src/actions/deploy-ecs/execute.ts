import type { ECRClient } from '@aws-sdk/client-ecr';
import { ecrClient } from '../../aws/ecr';
import { describeBake } from '../../core/bake-summary';
import { DeployError } from '../../core/errors';
import { facts, quote } from '../../core/markdown';
import type { PollDelays } from '../../core/poller';
import { type DeployRecord, recordCancelled, recordImageOf, serializeRecord } from '../../core/record';
import { cancelledSummary } from '../../deploy/cancellation';
import { ensureAwake } from '../../deploy/paused';
import { undoDeploy } from '../../deploy/rollback';
import { expectedVersionFor, verifyNewVersion } from '../../deploy/verify';
import { openTarget, POST_STATE } from '../../targets';
import type { Target, TargetDeployResult } from '../../targets/target';
import { maskAccountIds } from '../account-mask';
import { bakeStep } from '../bake-step';
import { targetContext } from '../compose';
import type { ActionDeps } from '../runtime';
import type { DeployEcsInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface DeployEcsServices {
  ecr?: ECRClient;
  /** The ECS SDK clients, by the names src/targets/ecs documents. */
  clients?: Record<string, unknown>;
  pollDelays?: PollDelays;
  /** The target itself (tests): used instead of the one the registry opens. */
  target?: Target;
}

/** The ECS outputs the target's deploy result carries, under the same names as this action's outputs. */
const TARGET_OUTPUTS = [
  'task-definition-arn',
  'previous-task-definition-arn',
  'service-deployment-arn',
  'status',
] as const;

/**
 * One ECS (or ECS Express Mode) deploy by digest, followed to its end by the target; then the platform-neutral
 * verification at health-url, and a rollback to what ran before when that fails (or when the deploy left a mix).
 */
export async function execute(
  deps: ActionDeps,
  inputs: DeployEcsInputs,
  services: DeployEcsServices = {},
): Promise<void> {
  maskAccountIds(
    deps,
    inputs.maskAwsAccountId,
    JSON.stringify(inputs.target),
    inputs.image.uri,
    serializeRecord(inputs.record),
  );
  const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
  const target =
    services.target ?? (await openTarget(inputs.target, targetContext(deps, inputs.region, ecr, services)));
  const record = inputs.record;
  if (inputs.environment) record.environment = inputs.environment;
  if (!record.image) record.image = recordImageOf(inputs.image, false);
  const image = { ...inputs.image, commit: record.commit };

  // A paused service would take the new revision with no task to run it (on-paused says what to do).
  await ensureAwake(target.scheduler, inputs.onPaused, inputs.timeoutMs, deps.logger);
  // Read before anything is deployed: a missing alarm fails here; those already in ALARM are set aside.
  const baking = bakeStep(deps, inputs.bake, inputs.region, services);
  await baking.baseline();

  // The post step loads this platform to finish what a main step killed outright left running.
  deps.saveState(POST_STATE.targetKind, target.kind);
  const deployed = await deps.logger.group(`deploy to ${target.label}`, () =>
    target.deploy(image, record, inputs.timeoutMs),
  );
  let failure: Error | undefined = deployed.failure;
  if (!failure && !deps.signal.aborted) {
    record.outcome = 'in-progress';
    failure = await verify(deps, inputs, target, record, deployed);
    if (!failure && !deps.signal.aborted)
      failure = await baking.watch(record).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    if (failure && !deps.signal.aborted) await undo(deps, inputs, target, record, deployed, failure.message);
    else if (!failure) record.outcome = 'succeeded';
  } else if (failure && !deployed.cancelled && !deps.signal.aborted && deployed.needsRollback) {
    // ECS rolls a failed deployment back by itself when its circuit breaker or alarms say so; a deploy that left
    // the service on a mix of revisions is ours to undo.
    await undo(deps, inputs, target, record, deployed, `the deploy failed: ${failure.message}`);
  }
  if (deps.signal.aborted && record.outcome !== 'succeeded' && record.outcome !== 'cancelled') {
    await settleCancelled(deps, target, record, failure);
  }
  if (failure && record.outcome === 'in-progress') record.outcome = 'failed';
  if (failure && !record.error) record.error = failure.message;

  for (const name of TARGET_OUTPUTS) deps.setOutput(name, deployed.outputs[name] ?? '');
  deps.setOutput('service-url', deployed.serviceUrl ?? '');
  deps.setOutput('previous-image', deployed.previous?.image ?? '');
  deps.setOutput('outcome', record.outcome);
  deps.setOutput('record', serializeRecord(record));
  const markdown =
    record.outcome === 'cancelled' && record.cancellation
      ? cancelledSummary(`Deploy to ${target.label}`, record.cancellation)
      : summary(inputs, target, deployed, record);
  await deps.writeSummary(markdown).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
  if (failure) {
    const what =
      record.outcome === 'rolled-back'
        ? `rolled back to ${record.previous?.image ?? deployed.previous?.image ?? 'the previous image'}`
        : record.outcome;
    throw new DeployError(`The deploy to ${target.label} did not succeed (${what}): ${failure.message}`, {
      cause: failure,
    });
  }
  deps.logger.info(`Deployed ${image.uri} to ${target.label}: ${record.outcome}.`);
}

/** The health URL: as given, or a path on the URL the platform serves the service at. */
function healthUrlOf(inputs: DeployEcsInputs, target: Target, deployed: TargetDeployResult): string {
  const given = inputs.healthUrl ?? target.defaultHealthPath ?? '/health';
  return given.startsWith('/') ? `${deployed.serviceUrl ?? ''}${given}` : given;
}

async function verify(
  deps: ActionDeps,
  inputs: DeployEcsInputs,
  target: Target,
  record: DeployRecord,
  deployed: TargetDeployResult,
): Promise<Error | undefined> {
  const healthUrl = healthUrlOf(inputs, target, deployed);
  const expectedVersion = expectedVersionFor(inputs.expectedVersion, record.commit);
  try {
    await deps.logger.group('verify the new version', () =>
      verifyNewVersion(deps, record, {
        healthUrl,
        versionUrl: inputs.versionUrl ?? `${new URL(healthUrl).origin}/version`,
        ...(expectedVersion ? { expectedVersion } : {}),
        expectedStatus: inputs.expectedStatus,
        timeoutMs: inputs.healthTimeoutMs,
        intervalMs: inputs.healthIntervalMs,
        consecutiveSuccesses: inputs.consecutiveSuccesses,
      }),
    );
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** Rolls back to what ran before this deploy (rollback-on-failure), and checks it answers again. */
async function undo(
  deps: ActionDeps,
  inputs: DeployEcsInputs,
  target: Target,
  record: DeployRecord,
  deployed: TargetDeployResult,
  reason: string,
): Promise<void> {
  const previous = deployed.previous;
  if (!inputs.rollbackOnFailure || !previous) {
    if (previous) deps.logger.warning(`rollback-on-failure is false: ${target.label} is left as it is.`);
    record.outcome = 'failed';
    return;
  }
  await undoDeploy(
    target,
    { ...deployed, previous },
    record,
    { ...inputs, repository: inputs.image.repository },
    reason,
    deps.logger,
  );
}

/** The job was cancelled: the target stops what its deploy started; no rollback is started that nothing would watch. */
async function settleCancelled(
  deps: ActionDeps,
  target: Target,
  record: DeployRecord,
  failure: Error | undefined,
): Promise<void> {
  const settled = await target.settleCancelled(record).catch((error: unknown) => ({
    runsNow: [`Could not read what runs now: ${(error as Error).message}`],
  }));
  const message = failure?.message ?? 'The job was cancelled.';
  recordCancelled(record, settled, message);
  deps.logger.warning(
    `The job was cancelled: ${settled.runsNow.join(' ')}` +
      ('finish' in settled && settled.finish ? ` To finish the rollback, run: ${settled.finish}` : ''),
  );
}

function summary(inputs: DeployEcsInputs, target: Target, deployed: TargetDeployResult, record: DeployRecord): string {
  const out = deployed.outputs;
  const optional = (label: string, value: string | undefined): [string, string][] => (value ? [[label, value]] : []);
  const rows: [string, string][] = [
    [target.resource, target.label],
    ['Image', inputs.image.uri],
    ['Previous image', deployed.previous?.image ?? '(unknown)'],
    ...optional('Task definition', out['task-definition-arn']),
    ...optional('Previous task definition', out['previous-task-definition-arn']),
    ...optional(
      'Service deployment',
      out['service-deployment-arn'] ? `${out['service-deployment-arn']} ${out.status ?? ''}`.trim() : undefined,
    ),
    ...optional('Service URL', deployed.serviceUrl),
    ...optional(
      'Health',
      record.health
        ? `${record.health.healthy ? 'healthy' : 'unhealthy'} after ${record.health.attempts} attempt(s)`
        : undefined,
    ),
    ...optional('Bake', describeBake(record)),
    ['Outcome', record.outcome],
  ];
  return `### ECS deploy: ${record.outcome}\n\n${facts(rows)}\n${record.error ? `\n${quote(record.error)}\n` : ''}`;
}
