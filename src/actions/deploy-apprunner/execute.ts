import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { appRunnerClient } from '../../aws/apprunner';
import { describeBake } from '../../core/bake-summary';
import { facts, quote } from '../../core/markdown';
import type { PollDelays } from '../../core/poller';
import { serializeRecord } from '../../core/record';
import { ensureAwake } from '../../deploy/paused';
import { deployAppRunner, rollBackTo } from '../../targets/apprunner/deploy';
import { fail } from '../../targets/apprunner/operation';
import { appRunnerScheduler } from '../../targets/apprunner/schedule';
import type { AppRunnerDeployResult, AppRunnerDeps } from '../../targets/apprunner/types';
import { maskAccountIds } from '../account-mask';
import { type BakeStep, bakeStep } from '../bake-step';
import type { ActionDeps } from '../runtime';
import type { DeployAppRunnerInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface DeployAppRunnerServices {
  client?: AppRunnerClient;
  /** The bake's CloudWatch client (tests). */
  cloudwatch?: CloudWatchClient;
  /** Poll delays of the operation (tests shorten them); DEFAULT_POLL_DELAYS otherwise. */
  pollDelays?: PollDelays;
}

export async function execute(
  deps: ActionDeps,
  inputs: DeployAppRunnerInputs,
  services: DeployAppRunnerServices = {},
): Promise<void> {
  maskAccountIds(deps, inputs.maskAwsAccountId, inputs.serviceArn, inputs.image, serializeRecord(inputs.record));
  const client = services.client ?? appRunnerClient(inputs.region, deps.env);
  const appRunnerDeps = { client, clock: deps.clock, logger: deps.logger, signal: deps.signal };
  // A paused service takes a new image without running it: ResumeService would deploy it, not this step.
  await ensureAwake(
    appRunnerScheduler(appRunnerDeps, inputs.serviceArn, services.pollDelays),
    inputs.onPaused,
    inputs.timeoutMs,
    deps.logger,
  );
  // Read before anything is deployed: a missing alarm fails here; those already in ALARM are set aside.
  const baking = bakeStep(deps, inputs.bake, inputs.region, {
    ...(services.cloudwatch ? { clients: { cloudwatch: services.cloudwatch } } : {}),
    ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
  });
  await baking.baseline();
  const result = await deployAppRunner(appRunnerDeps, {
    serviceArn: inputs.serviceArn,
    image: inputs.image,
    timeoutMs: inputs.timeoutMs,
    onBusy: inputs.onBusy,
    wait: inputs.wait,
    record: inputs.record,
    rollbackOnFailure: inputs.rollbackOnFailure,
    ...(inputs.verify ? { verify: inputs.verify } : {}),
    ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
  });
  if (!result.failure && result.record.outcome === 'succeeded' && baking.enabled) {
    await bakeOrRollBack(deps, appRunnerDeps, inputs, result, baking, services.pollDelays);
  }
  writeOutputs(deps, result);
  await deps.writeSummary(summary(inputs.image, result)).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
  if (result.failure) throw result.failure;
}

/**
 * The bake after App Runner's success and the verification; an alarm that fires rolls the service back to what it
 * ran before (by the same App Runner rollback as a failed health check), unless rollback-on-failure is false.
 */
async function bakeOrRollBack(
  deps: ActionDeps,
  appRunnerDeps: AppRunnerDeps,
  inputs: DeployAppRunnerInputs,
  result: AppRunnerDeployResult,
  baking: BakeStep,
  pollDelays: PollDelays | undefined,
): Promise<void> {
  const record = result.record;
  record.outcome = 'in-progress';
  try {
    await baking.watch(record);
    record.outcome = 'succeeded';
    return;
  } catch (error) {
    const previous = result.previousImage;
    if (deps.signal.aborted || !inputs.rollbackOnFailure || !previous || previous === inputs.image) {
      result.failure = fail(record, 'failed', error);
      return;
    }
    result.failure = await rollBackTo(
      appRunnerDeps,
      { ...inputs, record, pollDelays },
      previous,
      (error as Error).message,
      (error as Error).message,
    );
  }
}

function writeOutputs(deps: ActionDeps, result: AppRunnerDeployResult): void {
  deps.setOutput('operation-id', result.operationId ?? '');
  deps.setOutput('service-url', result.serviceUrl);
  deps.setOutput('previous-image', result.previousImage ?? '');
  deps.setOutput('status', result.status);
  deps.setOutput('record', serializeRecord(result.record));
}

function summary(image: string, result: AppRunnerDeployResult): string {
  const record = result.record;
  const rows: [string, string][] = [
    ['Service', record.target?.id ?? ''],
    ['Image', image],
    ['Previous image', result.previousImage ?? '(none)'],
    ['Operation', `${result.operationId ?? '(none)'} ${result.status}`],
    ['Service URL', result.serviceUrl],
    ...(record.health
      ? [
          [
            'Health',
            `${record.health.healthy ? 'healthy' : 'unhealthy'} after ${record.health.attempts} attempt(s)`,
          ] as [string, string],
        ]
      : []),
    ...(describeBake(record) ? [['Bake', describeBake(record)!] as [string, string]] : []),
    ['Outcome', record.outcome],
  ];
  return `### App Runner deploy: ${record.outcome}\n\n${facts(rows)}\n${record.error ? `\n${quote(record.error)}\n` : ''}`;
}
