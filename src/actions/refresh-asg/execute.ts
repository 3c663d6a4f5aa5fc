import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ecrClient } from '../../aws/ecr';
import { facts, quote } from '../../core/markdown';
import type { PollDelays } from '../../core/poller';
import { recordImageOf, serializeRecord } from '../../core/record';
import { cancelledSummary } from '../../deploy/cancellation';
import { ensureAwake } from '../../deploy/paused';
import { AsgCancelledError } from '../../targets/asg/cancel';
import type { AsgDeployResult } from '../../targets/asg/deploy';
import { asgScheduler } from '../../targets/asg/schedule';
import { asgClients, CLIENTS, nothingReplaced, refreshGroup } from '../../targets/asg/target';
import { maskAccountIds } from '../account-mask';
import { targetContext } from '../compose';
import type { ActionDeps } from '../runtime';
import type { RefreshAsgInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface RefreshAsgServices {
  autoscaling?: AutoScalingClient;
  elbv2?: ElasticLoadBalancingV2Client;
  ecr?: ECRClient;
  /** Delays between looks at the refresh (tests shorten them); DEFAULT_POLL_DELAYS otherwise. */
  pollDelays?: PollDelays;
}

/**
 * One instance refresh (the boot tag moved first when an image is given), followed to its end; its post step
 * finishes what a killed main step left (see src/targets/asg/state.ts).
 */
export async function execute(
  deps: ActionDeps,
  inputs: RefreshAsgInputs,
  services: RefreshAsgServices = {},
): Promise<void> {
  maskAccountIds(deps, inputs.maskAwsAccountId, inputs.image?.uri, serializeRecord(inputs.record));
  const context = targetContext(deps, inputs.region, services.ecr ?? ecrClient(inputs.region, deps.env), {
    clients: {
      ...(services.autoscaling ? { [CLIENTS.autoscaling]: services.autoscaling } : {}),
      ...(services.elbv2 ? { [CLIENTS.elbv2]: services.elbv2 } : {}),
    },
    ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
  });
  const clients = asgClients(context);
  // A paused group has no instance to refresh: the refresh would succeed and replace nothing.
  await ensureAwake(
    asgScheduler(
      {
        ...clients,
        clock: deps.clock,
        logger: deps.logger,
        signal: deps.signal,
        ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
      },
      inputs.asgName,
    ),
    inputs.onPaused,
    inputs.timeoutMs,
    deps.logger,
  );
  const record = inputs.record;
  if (!record.image && inputs.image) record.image = recordImageOf(inputs.image, false);
  let result: AsgDeployResult;
  try {
    result = await refreshGroup(
      context,
      clients,
      {
        ...inputs,
        ...(inputs.repository ? { repository: inputs.repository } : {}),
      },
      inputs.image,
      record,
      {
        onStarted: (refreshId, previousDigest, previousTemplateVersion) => {
          deps.setOutput('refresh-id', refreshId);
          if (previousTemplateVersion) deps.setOutput('previous-launch-template-version', previousTemplateVersion);
          if (previousDigest) deps.setOutput('previous-image', previousDigest);
        },
      },
    );
  } catch (error) {
    if (error instanceof AsgCancelledError) {
      deps.setOutput('status', error.settled.refresh?.status ?? 'Cancelled');
      deps.setOutput('record', serializeRecord(record));
      await deps
        .writeSummary(cancelledSummary(`Auto Scaling refresh of ${inputs.asgName}`, error.settled))
        .catch(() => undefined);
      throw error;
    }
    deps.setOutput('status', deps.signal.aborted ? 'Cancelled' : 'Unknown');
    deps.setOutput('record', serializeRecord(record));
    throw error;
  }
  deps.setOutput('status', result.status);
  deps.setOutput('record', serializeRecord(record));
  if (!inputs.wait) {
    deps.logger.info(
      `wait is false: instance refresh ${result.refreshId} keeps running after this step. Follow it with ` +
        `aws autoscaling describe-instance-refreshes --auto-scaling-group-name ${inputs.asgName}.`,
    );
  }
  await deps.writeSummary(summary(inputs, result)).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
  if (result.failure) throw result.failure;
}

function summary(inputs: RefreshAsgInputs, result: AsgDeployResult): string {
  const r = result.refresh;
  const rows: [string, string][] = [
    ['Auto Scaling group', inputs.asgName],
    ['Image', inputs.image?.uri ?? '(boot tag not moved)'],
    ['Boot tag', inputs.repository ? `${inputs.repository}:${inputs.bootTag}` : '(unknown repository)'],
    ['Previous image', result.previousDigest ?? '(unknown)'],
    [
      'Instance refresh',
      `${result.refreshId} ${result.status}${r?.percentageComplete !== undefined ? ` (${r.percentageComplete}%)` : ''}`,
    ],
    ...(r?.statusReason ? [['Reason', r.statusReason] as [string, string]] : []),
    ...(result.replaced !== undefined
      ? [
          [
            'Instances replaced',
            result.replaced === 0 ? `0 (${nothingReplaced(result)})` : String(result.replaced),
          ] as [string, string],
        ]
      : []),
    ...(result.targets ? [['Targets', `${result.targets.length} healthy`] as [string, string]] : []),
    ['Outcome', result.outcome],
  ];
  const error = result.failure ? `\n${quote(result.failure.message)}\n` : '';
  return `### Auto Scaling refresh: ${result.outcome}\n\n${facts(rows)}\n${error}`;
}
