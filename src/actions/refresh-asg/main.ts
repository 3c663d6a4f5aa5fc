import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { autoScalingClient } from '../../aws/autoscaling';
import { ecrClient } from '../../aws/ecr';
import { elbv2Client } from '../../aws/elbv2';
import {
  type DeployRecord,
  endPhase,
  type RecordCancellation,
  recordCancelled,
  serializeRecord,
  startPhase,
} from '../../core/record';
import { type BootTag, ecrBootTag } from '../../targets/asg/boot-tag';
import { AsgCancelledError } from '../../targets/asg/cancel';
import { type AsgDeployResult, deployAsg } from '../../targets/asg/deploy';
import type { ActionDeps } from '../runtime';
import { parseRefreshAsgInputs, type RefreshAsgInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface RefreshAsgServices {
  autoscaling?: AutoScalingClient;
  elbv2?: ElasticLoadBalancingV2Client;
  ecr?: ECRClient;
  pollDelays?: { minDelayMs: number; maxDelayMs: number };
}

/** What the post step needs to find (and cancel) a refresh the main step left running. */
export const STATE = {
  refreshId: 'refresh-id',
  asgName: 'asg-name',
  region: 'region',
  cancelOnAbort: 'cancel-on-abort',
  /** 'true' once the refresh ended, was cancelled, or was deliberately left running (wait: false). */
  settled: 'settled',
  /** The boot tag (`repository`, `boot-tag`), and the digest it is moved to. */
  repository: 'repository',
  bootTag: 'boot-tag',
  digest: 'digest',
  /** 'true' from just before the boot tag moves; `previous-digest` is where it goes back to ('' for nowhere). */
  bootTagMoved: 'boot-tag-moved',
  previousDigest: 'previous-digest',
  /** For the command that finishes a rollback. */
  minHealthy: 'min-healthy-percentage',
  environment: 'environment',
} as const;

export async function run(deps: ActionDeps, services: RefreshAsgServices = {}): Promise<void> {
  const inputs = parseRefreshAsgInputs(deps.getInput, deps.env);
  const autoscaling = services.autoscaling ?? autoScalingClient(inputs.region, deps.env);
  const elbv2 = services.elbv2 ?? elbv2Client(inputs.region, deps.env);
  let bootTag: BootTag | undefined;
  if (inputs.repository) {
    const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
    bootTag = ecrBootTag(ecr, inputs.repository, inputs.bootTag, deps.logger);
  }
  const record = inputs.record;
  record.target = { kind: 'asg', id: inputs.asgName };
  if (!record.image && inputs.image) {
    record.image = {
      repository: inputs.image.repository,
      registry: inputs.image.uri.slice(0, inputs.image.uri.indexOf('/')),
      uri: inputs.image.uri,
      digest: inputs.image.digest,
      tags: [],
      reused: false,
    };
  }
  deps.saveState(STATE.asgName, inputs.asgName);
  deps.saveState(STATE.region, inputs.region);
  deps.saveState(STATE.cancelOnAbort, String(inputs.cancelOnAbort));
  deps.saveState(STATE.minHealthy, String(inputs.preferences.minHealthyPercentage));
  if (record.environment) deps.saveState(STATE.environment, record.environment);

  const phase = startPhase(record, 'deploy', deps.clock);
  let result: AsgDeployResult;
  try {
    result = await deployAsg(
      {
        autoscaling,
        elbv2,
        clock: deps.clock,
        logger: deps.logger,
        signal: deps.signal,
        ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
      },
      {
        groupName: inputs.asgName,
        ...(bootTag ? { bootTag } : {}),
        ...(inputs.image ? { digest: inputs.image.digest } : {}),
        preferences: inputs.preferences,
        ...(inputs.launchTemplateVersion ? { launchTemplateVersion: inputs.launchTemplateVersion } : {}),
        onBusy: inputs.onBusy,
        wait: inputs.wait,
        timeoutMs: inputs.timeoutMs,
        cancelOnAbort: inputs.cancelOnAbort,
        region: inputs.region,
        ...(record.environment ? { environment: record.environment } : {}),
        onBootTagMoving: (previousDigest) => {
          deps.saveState(STATE.repository, inputs.repository ?? '');
          deps.saveState(STATE.bootTag, inputs.bootTag);
          deps.saveState(STATE.digest, inputs.image?.digest ?? '');
          deps.saveState(STATE.previousDigest, previousDigest ?? '');
          deps.saveState(STATE.bootTagMoved, 'true');
        },
        ...(inputs.verifyTargetGroups !== undefined ? { verifyTargetGroups: inputs.verifyTargetGroups } : {}),
        onStarted: (refreshId, previousDigest, previousTemplateVersion) => {
          deps.saveState(STATE.refreshId, refreshId);
          deps.setOutput('refresh-id', refreshId);
          if (previousTemplateVersion) deps.setOutput('previous-launch-template-version', previousTemplateVersion);
          if (previousDigest) {
            deps.setOutput('previous-image', previousDigest);
            record.previous = {
              ...record.previous,
              digest: previousDigest,
              image: previousImage(inputs, previousDigest),
            };
          }
          record.operations.push({ kind: 'instance-refresh', id: refreshId, status: 'Pending' });
        },
      },
    );
  } catch (error) {
    // Cancelled, timed out or broken while a refresh may exist: the core has cancelled it (or said why not).
    deps.saveState(STATE.settled, 'true');
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof AsgCancelledError) {
      const { refresh } = error.settled;
      endPhase(phase, 'failed', deps.clock, `cancelled: ${error.settled.runsNow.join('; ')}`);
      recordCancelled(record, error.settled, message);
      const op = record.operations.find((o) => o.kind === 'instance-refresh' && o.id === refresh?.id);
      if (op && refresh) op.status = refresh.status;
      deps.setOutput('status', refresh?.status ?? 'Cancelled');
      deps.setOutput('record', serializeRecord(record));
      if (error.settled.finish) deps.logger.warning(`To finish the rollback, run: ${error.settled.finish}`);
      await deps.writeSummary(cancelledSummary(inputs.asgName, error.settled)).catch(() => undefined);
      throw error;
    }
    endPhase(phase, 'failed', deps.clock, message);
    record.outcome = 'failed';
    record.error = message;
    deps.setOutput('status', deps.signal.aborted ? 'Cancelled' : 'Unknown');
    deps.setOutput('record', serializeRecord(record));
    throw error;
  }
  deps.saveState(STATE.settled, 'true');
  finishRecord(record, result);
  endPhase(
    phase,
    result.failure ? 'failed' : 'succeeded',
    deps.clock,
    result.failure?.message ?? nothingReplaced(result),
  );
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

function previousImage(inputs: RefreshAsgInputs, digest: string): string {
  const registry = inputs.image ? inputs.image.uri.slice(0, inputs.image.uri.indexOf('/')) : undefined;
  return registry ? `${registry}/${inputs.repository}@${digest}` : `${inputs.repository}@${digest}`;
}

/** The record's and summary's note when skip-matching found every instance matching: nothing was rolled out. */
function nothingReplaced(result: AsgDeployResult): string | undefined {
  return result.replaced === 0
    ? 'skip-matching: every instance already matched the launch template version, so no instance was replaced'
    : undefined;
}

function finishRecord(record: DeployRecord, result: AsgDeployResult): void {
  const op = record.operations.find((o) => o.kind === 'instance-refresh' && o.id === result.refreshId);
  if (op) op.status = result.status;
  record.outcome = result.outcome;
  if (result.failure) record.error = result.failure.message;
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
  const table = rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`).join('\n');
  const error = result.failure ? `\n> ${result.failure.message.replace(/\n/g, ' ')}\n` : '';
  return `### Auto Scaling refresh: ${result.outcome}\n\n| | |\n|---|---|\n${table}\n${error}`;
}

/** The job summary of a cancelled run (main or post step): what runs now, and the command that finishes the rollback. */
export function cancelledSummary(group: string, cancellation: RecordCancellation): string {
  const lines = cancellation.runsNow.map((line) => `- ${line}`).join('\n');
  const finish = cancellation.finish
    ? `\nTo finish the rollback, run:\n\n\`\`\`sh\n${cancellation.finish}\n\`\`\`\n`
    : '\nNothing is left to roll back.\n';
  return `### Auto Scaling refresh of ${group}: cancelled\n\nWhat runs now:\n\n${lines}\n${finish}`;
}
