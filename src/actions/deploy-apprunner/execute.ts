import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
import { appRunnerClient } from '../../aws/apprunner';
import { facts, quote } from '../../core/markdown';
import type { PollDelays } from '../../core/poller';
import { serializeRecord } from '../../core/record';
import { ensureAwake } from '../../deploy/paused';
import { deployAppRunner } from '../../targets/apprunner/deploy';
import { appRunnerScheduler } from '../../targets/apprunner/schedule';
import type { AppRunnerDeployResult } from '../../targets/apprunner/types';
import { maskAccountIds } from '../account-mask';
import type { ActionDeps } from '../runtime';
import type { DeployAppRunnerInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface DeployAppRunnerServices {
  client?: AppRunnerClient;
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
  writeOutputs(deps, result);
  await deps.writeSummary(summary(inputs.image, result)).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
  if (result.failure) throw result.failure;
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
    ['Outcome', record.outcome],
  ];
  return `### App Runner deploy: ${record.outcome}\n\n${facts(rows)}\n${record.error ? `\n${quote(record.error)}\n` : ''}`;
}
