import type { ECRClient } from '@aws-sdk/client-ecr';
import { ecrClient, findImage, promoteImage } from '../../aws/ecr';
import { ConfigurationError, DeployError } from '../../core/errors';
import type { PollDelays } from '../../core/poller';
import {
  type DeployRecord,
  inPhase,
  type RecordCancellation,
  recordCancelled,
  serializeRecord,
} from '../../core/record';
import { commitContextFromEnv, commitOf, commitTag, environmentTag } from '../../core/tags';
import { validateCommitSha } from '../../core/validate';
import { describeSelector } from '../../deploy/bake';
import { ensureAwake } from '../../deploy/paused';
import { markVerified, readPointers } from '../../deploy/pointers';
import { undoDeploy } from '../../deploy/rollback';
import { verifyNewVersion } from '../../deploy/verify';
import type { Docker } from '../../docker/docker';
import type { GitHubClient } from '../../github/client';
import { openTarget, POST_STATE } from '../../targets';
import type { ImageByDigest, Target, TargetDeployResult } from '../../targets/target';
import { maskAccountIds } from '../account-mask';
import { bakeStep } from '../bake-step';
import { execute as buildPush } from '../build-push/execute';
import { innerStep, targetContext } from '../compose';
import { execute as report } from '../report/main';
import type { ActionDeps } from '../runtime';
import type { PipelineInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface PipelineServices {
  ecr?: ECRClient;
  docker?: Docker;
  cwd?: string;
  /** The platform's SDK clients, by the names its target.ts documents. */
  clients?: Record<string, unknown>;
  github?: GitHubClient;
  pollDelays?: PollDelays;
}

/**
 * How long the report may take once the job is cancelled: the runner sends SIGTERM 7.5 s after SIGINT and kills
 * the step 2.5 s later, so the report gets its own short deadline instead of the aborted signal.
 */
export const CANCELLED_REPORT_MS = 5_000;

/** build-push → deploy → verify → roll back on failure → report, sharing one deploy record. */
export async function execute(
  deps: ActionDeps,
  inputs: PipelineInputs,
  services: PipelineServices = {},
): Promise<void> {
  // Before anything is logged: the ARNs of the target name the account; the build masks its registry's.
  maskAccountIds(deps, inputs.build.maskAwsAccountId, JSON.stringify(inputs.target));
  const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
  const context = targetContext(deps, inputs.region, ecr, services);
  const target = await openTarget(inputs.target, context);
  if (inputs.dryRun) return plan(deps, inputs, ecr, target);

  // Before anything is built: a paused target would not run the new version (on-paused says what to do).
  await ensureAwake(target.scheduler, inputs.onPaused, inputs.timeoutMinutes * 60_000, deps.logger);
  // The alarms are read before anything is built or deployed: a missing one fails here, and the ones already in
  // ALARM are not held against this version.
  const baking = bakeStep(deps, inputs.bake, inputs.region, services);
  await baking.baseline();

  // The post step (action.yml `post:`) loads this platform to finish what a killed main step left.
  deps.saveState(POST_STATE.targetKind, target.kind);
  const built = await deps.logger.group(`build and push ${inputs.repository}`, () =>
    buildPush(innerStep(deps), inputs.build, {
      ecr,
      ...(services.docker ? { docker: services.docker } : {}),
      ...(services.cwd ? { cwd: services.cwd } : {}),
    }),
  );
  const record = built.record;
  record.environment = inputs.environment;
  if (built.error || !built.value?.digest) return finish(deps, inputs, target, record, built.error);
  const image: ImageByDigest = {
    uri: built.value.uri,
    digest: built.value.digest,
    repository: inputs.repository,
    commit: record.commit,
  };
  deps.setOutput('image', image.uri);
  deps.setOutput('digest', image.digest);

  const timeoutMs = inputs.timeoutMinutes * 60_000;
  const deployed = await deps.logger.group(`deploy to ${target.label}`, () => target.deploy(image, record, timeoutMs));
  if (deployed.previous) deps.setOutput('previous-image', deployed.previous.image);
  if (deployed.serviceUrl) deps.setOutput('service-url', deployed.serviceUrl);

  if (deployed.failure) {
    if (deployed.cancelled || deps.signal.aborted) return finish(deps, inputs, target, record, deployed.failure);
    // The platform rolls a failed deployment back by itself where it can; a deploy that left a mix of versions
    // is ours to undo.
    if (deployed.needsRollback && inputs.rollbackOnFailure && deployed.previous) {
      await rollbackTo(deps, inputs, target, record, deployed, `the deploy failed: ${deployed.failure.message}`);
    }
    return finish(deps, inputs, target, record, deployed.failure);
  }

  // The platform's part is done; the deploy is not until the new version answers.
  record.outcome = 'in-progress';
  const healthUrl = inputs.healthUrl ?? `${deployed.serviceUrl ?? ''}${target.defaultHealthPath ?? '/health'}`;
  try {
    await deps.logger.group('verify the new version', () =>
      verifyNewVersion(deps, record, {
        healthUrl,
        versionUrl: inputs.versionUrl ?? `${new URL(healthUrl).origin}/version`,
        ...((inputs.expectedVersion ?? record.commit)
          ? { expectedVersion: inputs.expectedVersion ?? record.commit }
          : {}),
        expectedStatus: inputs.expectedStatus,
        timeoutMs: inputs.healthTimeoutMs,
        intervalMs: inputs.healthIntervalMs,
        consecutiveSuccesses: inputs.consecutiveSuccesses,
      }),
    );
  } catch (error) {
    if (deps.signal.aborted) {
      // A cancelled job is not a failed check: no rollback is started that nothing would watch.
      return finish(deps, inputs, target, record, error);
    }
    if (inputs.rollbackOnFailure && deployed.previous) {
      await rollbackTo(deps, inputs, target, record, deployed, (error as Error).message);
    } else {
      record.outcome = 'failed';
    }
    return finish(deps, inputs, target, record, error);
  }

  // Verified; with a bake, the alarms are watched a while before the version counts as good (and moves the pointers).
  try {
    await baking.watch(record);
  } catch (error) {
    if (deps.signal.aborted) return finish(deps, inputs, target, record, error);
    if (inputs.rollbackOnFailure && deployed.previous) {
      await rollbackTo(deps, inputs, target, record, deployed, (error as Error).message);
    } else {
      record.outcome = 'failed';
    }
    return finish(deps, inputs, target, record, error);
  }

  record.outcome = 'succeeded';
  await inPhase(record, 'promote', deps.clock, () => promote(deps, inputs, ecr, image.digest)).catch((error: unknown) =>
    deps.logger.warning((error as Error).message),
  );
  return finish(deps, inputs, target, record);
}

/** Moves the environment's pointer tags and its own tag (and `latest`, for latest-environment) to the verified image. */
async function promote(deps: ActionDeps, inputs: PipelineInputs, ecr: ECRClient, digest: string): Promise<void> {
  await markVerified(ecr, {
    repository: inputs.repository,
    environment: inputs.environment,
    service: inputs.report.service,
    digest,
    logger: deps.logger,
  });
  const tags = [environmentTag(inputs.environment), ...(inputs.movesLatest ? ['latest'] : [])];
  await promoteImage(ecr, { repository: inputs.repository, source: digest, tags, logger: deps.logger });
  deps.logger.info(
    `Verified: moved ${tags.map((tag) => `${inputs.repository}:${tag}`).join(' and ')} to ${digest}` +
      (inputs.movesLatest
        ? ` (${inputs.environment} is latest-environment).`
        : `; latest not moved (${inputs.latestEnvironment ? `latest-environment is ${inputs.latestEnvironment}` : 'no latest-environment is set'}).`),
  );
}

/** Rolls the target back to the image it ran before this deploy, and checks that image answers again. */
async function rollbackTo(
  deps: ActionDeps,
  inputs: PipelineInputs,
  target: Target,
  record: DeployRecord,
  deployed: TargetDeployResult,
  reason: string,
): Promise<void> {
  const previous = deployed.previous as NonNullable<TargetDeployResult['previous']>;
  await undoDeploy(
    target,
    { ...deployed, previous },
    record,
    { ...inputs, repository: inputs.repository, timeoutMs: inputs.timeoutMinutes * 60_000 },
    reason,
    deps.logger,
  );
}

/** Reports (never fatal), writes the outputs, and fails the step when the deploy did not succeed. */
async function finish(
  deps: ActionDeps,
  inputs: PipelineInputs,
  target: Target,
  record: DeployRecord,
  error?: unknown,
): Promise<void> {
  const cancelled = deps.signal.aborted;
  if (error && cancelled && record.outcome !== 'succeeded') await settleCancelled(deps, inputs, target, record, error);
  if (error && record.outcome === 'in-progress') record.outcome = 'failed';
  if (error && !record.error) record.error = (error as Error).message;
  deps.setOutput('outcome', record.outcome);
  deps.setOutput('record', serializeRecord(record));
  // After a cancellation the job's signal is aborted: the report gets a short deadline of its own.
  const reportDeps = cancelled ? { ...deps, signal: AbortSignal.timeout(CANCELLED_REPORT_MS) } : deps;
  try {
    await deps.logger.group('report', () =>
      report(innerStep(reportDeps, { summary: true }), { ...inputs.report, record }),
    );
  } catch (reportError) {
    // What GitHub refuses is only a warning (a report must not turn a good deploy red); a report that cannot run at
    // all because of its inputs is a failure, never a silent exit 0.
    if (reportError instanceof ConfigurationError) throw reportError;
    deps.logger.warning(`Could not report: ${(reportError as Error).message}`);
  }
  if (!error) {
    deps.logger.info(`Deployed ${record.image?.uri ?? ''} to ${inputs.environment}: ${record.outcome}.`);
    return;
  }
  const what =
    record.outcome === 'rolled-back'
      ? `rolled back to ${record.previous?.image ?? 'the previous image'}`
      : record.outcome;
  throw new DeployError(`The deploy to ${inputs.environment} did not succeed (${what}): ${(error as Error).message}`, {
    cause: error,
  });
}

/**
 * The job was cancelled: the target stops what its deploy started and says what runs now (the ASG target has done
 * so already when the cancel came during its refresh); the record says `cancelled`, and the log the one command that
 * finishes the rollback. No rollback is started here: nothing would be left to watch it.
 */
async function settleCancelled(
  deps: ActionDeps,
  inputs: PipelineInputs,
  target: Target,
  record: DeployRecord,
  error: unknown,
): Promise<void> {
  if (record.outcome !== 'cancelled') {
    const settled: RecordCancellation = await target.settleCancelled(record).catch((settleError: unknown) => ({
      runsNow: [`Could not read what runs now: ${(settleError as Error).message}`],
    }));
    const deployed = record.phases.some((phase) => phase.name === 'deploy');
    const finish = settled.finish ?? (deployed ? rollbackCommand(inputs, target) : undefined);
    recordCancelled(record, { runsNow: settled.runsNow, ...(finish ? { finish } : {}) }, (error as Error).message);
    deps.logger.warning(
      `The job was cancelled: ${settled.runsNow.join(' ')}` +
        (finish
          ? ` Nothing was rolled back by this run. To finish the rollback, run: ${finish}`
          : ' Nothing was deployed.'),
    );
  }
}

/** The CLI command that rolls the environment back to its previous verified image. */
function rollbackCommand(inputs: PipelineInputs, target: Target): string {
  const names = Object.entries(target.identity).map(([name, value]) => `--${name} ${value}`);
  return [
    'npx aws-deploy-kit rollback',
    `--environment ${inputs.environment}`,
    ...(inputs.report.service.isDefault ? [] : [`--service ${inputs.report.service.name}`]),
    `--target ${target.kind}`,
    ...names,
    `--repository ${inputs.repository}`,
    `--region ${inputs.region}`,
  ].join(' ');
}

/** --dry-run: what would be built or reused, pushed, deployed, and the rollback target. Changes nothing. */
async function plan(deps: ActionDeps, inputs: PipelineInputs, ecr: ECRClient, target: Target): Promise<void> {
  const log = deps.logger;
  const commit = inputs.commit ? validateCommitSha('commit', inputs.commit) : commitOf(commitContextFromEnv(deps.env));
  const existing = await findImage(ecr, inputs.repository, commitTag(commit));
  log.info(`Plan for ${inputs.environment} (dry run: nothing is changed)`);
  log.info(`  commit   ${commit}`);
  log.info(
    existing
      ? `  image    reuse ${inputs.repository}:${commitTag(commit)} (${existing.digest}): nothing is built`
      : `  image    build and push ${inputs.repository}:${commitTag(commit)}`,
  );
  const deploy = await target.planDeploy(inputs.repository);
  maskAccountIds(deps, inputs.build.maskAwsAccountId, deploy.line, deploy.running);
  log.info(`  deploy   ${deploy.line}`);
  if (inputs.bake.bakeSeconds > 0)
    log.info(
      `  bake     ${inputs.bake.bakeSeconds} s after the verification, watching ${describeSelector(inputs.bake.alarms)}: one going into ALARM rolls back`,
    );
  log.info(
    `  running  ${deploy.running ?? '(nothing yet)'}: the automatic rollback target if the new version fails its checks`,
  );
  const moved = [environmentTag(inputs.environment), ...(inputs.movesLatest ? ['latest'] : [])];
  log.info(
    `  verified move ${moved.map((tag) => `${inputs.repository}:${tag}`).join(' and ')} to the image` +
      (inputs.movesLatest ? '' : ' (latest is not moved: this environment is not latest-environment)'),
  );
  const pointers = await readPointers(ecr, inputs.repository, inputs.environment, inputs.report.service);
  const manual = pointers.previous ?? pointers.current;
  log.info(
    `  rollback a manual rollback now would go to ${manual ? `${manual.commit ?? '(no sha tag)'} ${manual.digest}` : '(no verified deploy recorded in ECR yet)'}`,
  );
  deps.setOutput('outcome', 'planned');
}
