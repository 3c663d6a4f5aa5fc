import type { ECRClient } from '@aws-sdk/client-ecr';
import { appRunnerClient, describeService } from '../../aws/apprunner';
import { autoScalingClient } from '../../aws/autoscaling';
import { ecrClient, findImage, promoteImage } from '../../aws/ecr';
import { elbv2Client } from '../../aws/elbv2';
import { ConfigurationError, DeployError } from '../../core/errors';
import { redactUrl, waitUntilHealthy } from '../../core/health';
import { type DeployRecord, inPhase, newRecord, parseRecord, serializeRecord } from '../../core/record';
import { commitContextFromEnv, commitOf, commitTag, environmentTag } from '../../core/tags';
import { validateCommitSha } from '../../core/validate';
import { markVerified, readPointers } from '../../deploy/pointers';
import { serviceUrlOf } from '../../targets/apprunner/image-reference';
import { rollbackAppRunner } from '../../targets/apprunner/rollback';
import { ecrBootTag } from '../../targets/asg/boot-tag';
import type { AsgDeps } from '../../targets/asg/refresh';
import { rollbackAsg } from '../../targets/asg/rollback';
import { parseBuildPushInputs } from '../build-push/inputs';
import { run as buildPush } from '../build-push/main';
import { runStep } from '../compose';
import { parseDeployAppRunnerInputs } from '../deploy-apprunner/inputs';
import { run as deployAppRunner } from '../deploy-apprunner/main';
import { parseRefreshAsgInputs } from '../refresh-asg/inputs';
import { run as refreshAsg } from '../refresh-asg/main';
import { parseReportInputs } from '../report/inputs';
import { run as report } from '../report/main';
import type { ActionDeps } from '../runtime';
import { type PipelineInputs, parsePipelineInputs } from './inputs';

/**
 * The all-in-one action: build-push → deploy (App Runner or instance refresh) → verify → roll back on failure → report,
 * sharing one deploy record. Each phase runs the single action's own code; the verification and rollback use the same
 * src/core modules as the health-check and rollback actions.
 */
export async function run(deps: ActionDeps): Promise<void> {
  const inputs = parsePipelineInputs(deps.getInput, deps.env);
  const buildInputs = {
    ...inputs.passThrough,
    repository: inputs.repository,
    region: inputs.region,
    // Only sha-<commit> and the user's tags here: the environment tag (and `latest`, for latest-environment only)
    // move after the new version is verified. A service that tracks one of them must still name the old image if we
    // roll back.
    tags: inputs.passThrough.tags,
  };
  const refreshInputs = {
    ...inputs.passThrough,
    'asg-name': inputs.asgName,
    repository: inputs.repository,
    'boot-tag': inputs.bootTag,
    region: inputs.region,
    'timeout-minutes': String(inputs.timeoutMinutes),
  };
  // The single actions' own parsers check what the pipeline hands on, so a bad refresh preference fails now, not
  // after the image was built and pushed.
  const reader = (values: Record<string, string | undefined>) => (name: string) => values[name] ?? '';
  parseBuildPushInputs(reader(buildInputs), deps.env);
  // Each later phase gets the record the build makes; a stand-in of the same shape checks the rest now (a dry run
  // from a laptop has no GITHUB_SHA for refresh-asg to start a record from).
  const standIn = newRecord('0000000', { environment: inputs.environment });
  if (inputs.target === 'asg')
    parseRefreshAsgInputs(reader({ ...refreshInputs, record: serializeRecord(standIn) }), deps.env);
  else parseDeployAppRunnerInputs(reader(deployInputs(inputs, placeholderImage(inputs), '')), deps.env);
  parseReportInputs(reader(reportInputs(inputs, standIn)));
  if (inputs.dryRun) return plan(deps, inputs);

  const section = (title: string) => deps.logger.info(`\n━━ ${title} ━━`);
  const ecr = ecrClient(inputs.region, deps.env);

  section(`build and push ${inputs.repository}`);
  const built = await runStep(deps, buildPush, buildInputs);
  let record = recordOf(built.outputs);
  if (!record) throw built.error;
  record.environment = inputs.environment;
  if (built.error) return finish(deps, inputs, record, built.error);
  const image = built.outputs.image ?? '';
  const digest = built.outputs.digest ?? '';
  deps.setOutput('image', image);
  deps.setOutput('digest', digest);

  section(`deploy to ${inputs.target === 'apprunner' ? inputs.serviceArn : `Auto Scaling group ${inputs.asgName}`}`);
  const deployed =
    inputs.target === 'apprunner'
      ? await runStep(deps, deployAppRunner, deployInputs(inputs, image, serializeRecord(record)))
      : await runStep(deps, refreshAsg, { ...refreshInputs, image, record: serializeRecord(record) });
  record = recordOf(deployed.outputs) ?? record;
  const previous = deployed.outputs['previous-image'] || undefined;
  // Set when the deploy named a launch-template-version: the group must go back to its old version too.
  const previousTemplate = deployed.outputs['previous-launch-template-version'] || undefined;
  if (previous) deps.setOutput('previous-image', previous);
  const serviceUrl = deployed.outputs['service-url'];
  if (serviceUrl) deps.setOutput('service-url', serviceUrl);

  if (deployed.error) {
    // App Runner rolls a failed deployment back by itself, and deployAsg puts the boot tag back when AWS's AutoRollback
    // runs; a refresh that just failed leaves a mixed group, which we roll back ourselves.
    if (inputs.target === 'asg' && record.outcome === 'failed' && inputs.rollbackOnFailure && previous) {
      await rollback(
        deps,
        inputs,
        ecr,
        record,
        previous,
        `the instance refresh failed: ${(deployed.error as Error).message}`,
        previousTemplate,
      );
    }
    return finish(deps, inputs, record, deployed.error);
  }

  section('verify the new version');
  const healthUrl = inputs.healthUrl ?? `${serviceUrl}/health`;
  const versionUrl = inputs.versionUrl ?? `${new URL(healthUrl).origin}/version`;
  const expectedVersion = inputs.expectedVersion ?? record.commit;
  try {
    await inPhase(record, 'verify', deps.clock, async () => {
      const probe = {
        clock: deps.clock,
        signal: deps.signal,
        logger: deps.logger,
        timeoutMs: inputs.healthTimeoutMs,
        intervalMs: inputs.healthIntervalMs,
        consecutiveSuccesses: inputs.consecutiveSuccesses,
      };
      const health = await waitUntilHealthy({ ...probe, url: healthUrl, expectedStatus: inputs.expectedStatus });
      record.health = {
        url: redactUrl(healthUrl),
        healthy: true,
        attempts: health.attempts,
        ...(health.lastStatus ? { lastStatus: health.lastStatus } : {}),
      };
      if (expectedVersion) {
        const version = await waitUntilHealthy({ ...probe, url: versionUrl, expectedVersion });
        record.health.attempts += version.attempts;
        record.health.detail = `${redactUrl(versionUrl)} serves ${expectedVersion}`;
      }
    });
  } catch (error) {
    record.health = { url: redactUrl(healthUrl), healthy: false, attempts: 0, detail: (error as Error).message };
    if (deps.signal.aborted) {
      // A cancelled job is not a failed check: a rollback now could not be watched and would be reported as failed.
      record.outcome = 'failed';
      deps.logger.warning(
        `The job was cancelled during verification: ${inputs.environment} keeps the new image; nothing was rolled back.`,
      );
    } else if (inputs.rollbackOnFailure && previous) {
      await rollback(deps, inputs, ecr, record, previous, (error as Error).message, previousTemplate);
    } else {
      record.outcome = 'failed';
    }
    return finish(deps, inputs, record, error);
  }

  record.outcome = 'succeeded';
  await inPhase(record, 'promote', deps.clock, async () => {
    await markVerified(ecr, {
      repository: inputs.repository,
      environment: inputs.environment,
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
  }).catch((error: unknown) => deps.logger.warning((error as Error).message));
  return finish(deps, inputs, record);
}

/** What the deploy-apprunner phase is given. */
function deployInputs(inputs: PipelineInputs, image: string, record: string): Record<string, string | undefined> {
  return {
    'service-arn': inputs.serviceArn,
    image,
    region: inputs.region,
    ...(record ? { record } : {}),
    'timeout-minutes': String(inputs.timeoutMinutes),
    'rollback-on-failure': 'false',
  };
}

/** An image of the right shape, to check the deploy phase's inputs before the real one is built. */
function placeholderImage(inputs: PipelineInputs): string {
  return `123456789012.dkr.ecr.${inputs.region}.amazonaws.com/${inputs.repository}@sha256:${'0'.repeat(64)}`;
}

/** What the report phase is given. */
function reportInputs(inputs: PipelineInputs, record: DeployRecord): Record<string, string | undefined> {
  return {
    record: serializeRecord(record),
    environment: inputs.environment,
    'github-token': inputs.githubToken,
    comment: String(inputs.comment),
    summary: String(inputs.summary),
  };
}

function recordOf(outputs: Record<string, string>): DeployRecord | undefined {
  return outputs.record ? parseRecord('record', outputs.record) : undefined;
}

/** Rolls the target back to `previous` and verifies it; sets the record's outcome to rolled-back or rollback-failed. */
async function rollback(
  deps: ActionDeps,
  inputs: PipelineInputs,
  ecr: ECRClient,
  record: DeployRecord,
  previous: string,
  reason: string,
  previousTemplate?: string,
): Promise<void> {
  deps.logger.info(`\n━━ roll back to ${previous} ━━`);
  deps.logger.warning(`Rolling back: ${reason}`);
  const timeoutMs = inputs.timeoutMinutes * 60_000;
  if (inputs.target === 'apprunner') {
    // A path is resolved against the service URL by the App Runner core.
    const verify = {
      url: inputs.healthUrl ?? '/health',
      expectedStatus: inputs.expectedStatus,
      intervalMs: inputs.healthIntervalMs,
      consecutiveSuccesses: inputs.consecutiveSuccesses,
      timeoutMs: inputs.healthTimeoutMs,
    };
    const client = appRunnerClient(inputs.region, deps.env);
    const result = await rollbackAppRunner(
      { client, clock: deps.clock, logger: deps.logger, signal: deps.signal },
      { serviceArn: inputs.serviceArn ?? '', image: previous, timeoutMs, onBusy: 'wait', record, verify, reason },
    );
    if (result.failure) deps.logger.error(result.failure.message);
    return;
  }
  const asg: AsgDeps = {
    autoscaling: autoScalingClient(inputs.region, deps.env),
    elbv2: elbv2Client(inputs.region, deps.env),
    clock: deps.clock,
    logger: deps.logger,
    signal: deps.signal,
  };
  try {
    await inPhase(record, 'rollback', deps.clock, () =>
      rollbackAsg(asg, {
        groupName: inputs.asgName ?? '',
        bootTag: ecrBootTag(ecr, inputs.repository, inputs.bootTag, deps.logger),
        previousDigest: previous,
        preferences: { minHealthyPercentage: Number(inputs.passThrough['min-healthy-percentage'] ?? 90) },
        ...(previousTemplate ? { launchTemplateVersion: previousTemplate } : {}),
        timeoutMs,
        verify: { url: inputs.healthUrl ?? '', intervalMs: inputs.healthIntervalMs },
      }),
    );
    record.outcome = 'rolled-back';
  } catch (error) {
    record.outcome = 'rollback-failed';
    deps.logger.error(`The rollback failed too: ${(error as Error).message}`);
  }
}

/** Reports (never fatal), writes the outputs, and fails the step when the deploy did not succeed. */
async function finish(deps: ActionDeps, inputs: PipelineInputs, record: DeployRecord, error?: unknown): Promise<void> {
  if (error && record.outcome === 'in-progress') record.outcome = 'failed';
  if (error && !record.error) record.error = (error as Error).message;
  deps.setOutput('outcome', record.outcome);
  deps.setOutput('record', serializeRecord(record));
  deps.logger.info('\n━━ report ━━');
  const reported = await runStep(deps, report, reportInputs(inputs, record), { summary: true });
  // What GitHub refuses is only a warning (a report must not turn a good deploy red); a report that cannot run at all
  // because of its inputs is a failure, never a silent exit 0.
  if (reported.error instanceof ConfigurationError) throw reported.error;
  if (reported.error) deps.logger.warning(`Could not report: ${(reported.error as Error).message}`);
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

/** --dry-run: what would be built or reused, pushed, deployed, and the rollback target. Changes nothing. */
async function plan(deps: ActionDeps, inputs: PipelineInputs): Promise<void> {
  const log = deps.logger;
  const explicit = inputs.passThrough.commit;
  const commit = explicit ? validateCommitSha('commit', explicit) : commitOf(commitContextFromEnv(deps.env));
  const ecr = ecrClient(inputs.region, deps.env);
  const existing = await findImage(ecr, inputs.repository, commitTag(commit));
  log.info(`Plan for ${inputs.environment} (dry run: nothing is changed)`);
  log.info(`  commit   ${commit}`);
  log.info(
    existing
      ? `  image    reuse ${inputs.repository}:${commitTag(commit)} (${existing.digest}): nothing is built`
      : `  image    build and push ${inputs.repository}:${commitTag(commit)}`,
  );
  let running: string | undefined;
  if (inputs.target === 'apprunner') {
    const service = await describeService(appRunnerClient(inputs.region, deps.env), inputs.serviceArn ?? '');
    running = service.imageIdentifier;
    log.info(`  deploy   UpdateService ${service.name} (${serviceUrlOf(service.url)}) to the image by digest`);
  } else {
    running = (await findImage(ecr, inputs.repository, inputs.bootTag))?.digest;
    log.info(
      `  deploy   move ${inputs.repository}:${inputs.bootTag} to the image, then an instance refresh of ${inputs.asgName}`,
    );
  }
  log.info(
    `  running  ${running ?? '(nothing yet)'}: the automatic rollback target if the new version fails its checks`,
  );
  const moved = [environmentTag(inputs.environment), ...(inputs.movesLatest ? ['latest'] : [])];
  log.info(
    `  verified move ${moved.map((tag) => `${inputs.repository}:${tag}`).join(' and ')} to the image` +
      (inputs.movesLatest ? '' : ' (latest is not moved: this environment is not latest-environment)'),
  );
  const pointers = await readPointers(ecr, inputs.repository, inputs.environment);
  const manual = pointers.previous ?? pointers.current;
  log.info(
    `  rollback a manual rollback now would go to ${manual ? `${manual.commit ?? '(no sha tag)'} ${manual.digest}` : '(no verified deploy recorded in ECR yet)'}`,
  );
  deps.setOutput('outcome', 'planned');
}
