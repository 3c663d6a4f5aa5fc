import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { autoScalingClient, describeGroup } from '../../aws/autoscaling';
import { ecrClient, findImage } from '../../aws/ecr';
import { elbv2Client } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import {
  type DeployRecord,
  endPhase,
  inPhase,
  recordCancelled,
  recordFailure,
  recordHealth,
  recordOperation,
  startPhase,
} from '../../core/record';
import { commitFromTags } from '../../core/tags';
import type {
  AbandonedRun,
  CurrentState,
  ImageByDigest,
  PostStepDeps,
  RollbackRequest,
  Target,
  TargetContext,
  TargetDeployResult,
} from '../target';
import { type BootTag, ecrBootTag } from './boot-tag';
import { AsgCancelledError, settleCancelled } from './cancel';
import { type AsgDeployResult, deployAsg } from './deploy';
import { type AsgOnBusy, DEFAULT_MIN_HEALTHY_PERCENTAGE, type RefreshPreferences } from './refresh';
import { rollbackAsg } from './rollback';
import { asgScheduler } from './schedule';
import { STATE, settledSomething, settleFromState } from './state';

/** What the inputs say about an Auto Scaling group target. */
export interface AsgSettings {
  asgName: string;
  /** The tag the instances pull at boot, in the image's repository. */
  bootTag: string;
  /** Default: AWS's defaults (MinHealthyPercentage 90). */
  preferences?: RefreshPreferences;
  launchTemplateVersion?: string;
  /** Default `wait`. */
  onBusy?: AsgOnBusy;
  /** Cancel the refresh this step started when the job is cancelled; default true. */
  cancelOnAbort?: boolean;
  /** undefined: verify when the group has target groups. */
  verifyTargetGroups?: boolean;
}

/** The clients this platform takes from `TargetContext.clients` (tests inject them). */
export const CLIENTS = { autoscaling: 'autoscaling', elbv2: 'elbv2' } as const;

export const OPERATION_KIND = 'instance-refresh';

const RESOURCE = 'Auto Scaling group';

export function groupLabel(name: string): string {
  return `${RESOURCE} ${name}`;
}

/** Hooks of the refresh-asg action: its state for the post step, its outputs as soon as they are known. */
export interface RefreshHooks {
  onStarted?: (refreshId: string, previousDigest: string | undefined, previousTemplateVersion?: string) => void;
}

export interface AsgClients {
  autoscaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
}

export function asgClients(context: TargetContext): AsgClients {
  return {
    autoscaling:
      (context.clients?.[CLIENTS.autoscaling] as AutoScalingClient | undefined) ??
      autoScalingClient(context.region, context.env),
    elbv2:
      (context.clients?.[CLIENTS.elbv2] as ElasticLoadBalancingV2Client | undefined) ??
      elbv2Client(context.region, context.env),
  };
}

function asgDeps(context: TargetContext, clients: AsgClients) {
  return {
    ...clients,
    clock: context.clock,
    logger: context.logger,
    ...(context.signal ? { signal: context.signal } : {}),
    ...(context.pollDelays ? { pollDelays: context.pollDelays } : {}),
  };
}

/** `<registry>/<repository>@<digest>` when the registry is known (from the image), else `<repository>@<digest>`. */
function imageUri(image: ImageByDigest | undefined, repository: string, digest: string): string {
  const registry = image ? image.uri.slice(0, image.uri.indexOf('/')) : undefined;
  return registry ? `${registry}/${repository}@${digest}` : `${repository}@${digest}`;
}

/**
 * One instance refresh as a phase of the record: moves the boot tag (when an image is given), refreshes, waits,
 * checks target health. The record gets the target, the previous image, the refresh and the outcome; what a post
 * step needs goes to `context.saveState` as it happens. Throws only when the wait itself ended early: cancelled (an
 * AsgCancelledError, the record `cancelled`, what was started stopped), timed out or broken (the record `failed`).
 */
export async function refreshGroup(
  context: TargetContext,
  clients: AsgClients,
  settings: AsgSettings & { wait: boolean; timeoutMs: number; repository?: string },
  image: ImageByDigest | undefined,
  record: DeployRecord,
  hooks: RefreshHooks = {},
): Promise<AsgDeployResult> {
  const repository = settings.repository ?? image?.repository;
  const bootTag: BootTag | undefined = repository
    ? ecrBootTag(context.ecr, repository, settings.bootTag, context.logger)
    : undefined;
  const preferences = settings.preferences ?? { minHealthyPercentage: DEFAULT_MIN_HEALTHY_PERCENTAGE };
  const cancelOnAbort = settings.cancelOnAbort ?? true;
  const save = (name: string, value: string) => context.saveState?.(name, value);
  save(STATE.asgName, settings.asgName);
  save(STATE.region, context.region);
  save(STATE.cancelOnAbort, String(cancelOnAbort));
  save(STATE.minHealthy, String(preferences.minHealthyPercentage));
  if (record.environment) save(STATE.environment, record.environment);
  record.target = { kind: 'asg', id: settings.asgName, resource: RESOURCE };
  const phase = startPhase(record, 'deploy', context.clock);
  let result: AsgDeployResult;
  try {
    result = await deployAsg(asgDeps(context, clients), {
      groupName: settings.asgName,
      ...(bootTag ? { bootTag } : {}),
      ...(image ? { digest: image.digest } : {}),
      preferences,
      ...(settings.launchTemplateVersion ? { launchTemplateVersion: settings.launchTemplateVersion } : {}),
      onBusy: settings.onBusy ?? 'wait',
      wait: settings.wait,
      timeoutMs: settings.timeoutMs,
      cancelOnAbort,
      region: context.region,
      ...(record.environment ? { environment: record.environment } : {}),
      ...(settings.verifyTargetGroups !== undefined ? { verifyTargetGroups: settings.verifyTargetGroups } : {}),
      onBootTagMoving: (previousDigest) => {
        save(STATE.repository, repository ?? '');
        save(STATE.bootTag, settings.bootTag);
        save(STATE.digest, image?.digest ?? '');
        save(STATE.previousDigest, previousDigest ?? '');
        save(STATE.bootTagMoved, 'true');
      },
      onStarted: (refreshId, previousDigest, previousTemplateVersion) => {
        save(STATE.refreshId, refreshId);
        if (previousDigest && repository) {
          record.previous = {
            ...record.previous,
            digest: previousDigest,
            image: imageUri(image, repository, previousDigest),
          };
        }
        recordOperation(record, OPERATION_KIND, refreshId, 'Pending');
        hooks.onStarted?.(refreshId, previousDigest, previousTemplateVersion);
      },
    });
  } catch (error) {
    // Settled here (cancelled, timed out or broken): the post step has nothing left to do.
    save(STATE.settled, 'true');
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof AsgCancelledError) {
      const { refresh } = error.settled;
      endPhase(phase, 'failed', context.clock, `cancelled: ${error.settled.runsNow.join('; ')}`);
      recordCancelled(record, error.settled, message);
      if (refresh) recordOperation(record, OPERATION_KIND, refresh.id, refresh.status);
      if (error.settled.finish) context.logger.warning(`To finish the rollback, run: ${error.settled.finish}`);
    } else {
      endPhase(phase, 'failed', context.clock, message);
      recordFailure(record, 'failed', message);
    }
    throw error;
  }
  save(STATE.settled, 'true');
  recordOperation(record, OPERATION_KIND, result.refreshId, result.status);
  record.outcome = result.outcome;
  if (result.failure) record.error = result.failure.message;
  endPhase(
    phase,
    result.failure ? 'failed' : 'succeeded',
    context.clock,
    result.failure?.message ?? nothingReplaced(result),
  );
  return result;
}

/** The record's and summary's note when skip-matching found every instance matching: nothing was rolled out. */
export function nothingReplaced(result: AsgDeployResult): string | undefined {
  return result.replaced === 0
    ? 'skip-matching: every instance already matched the launch template version, so no instance was replaced'
    : undefined;
}

/** An Auto Scaling group as a deploy target: the boot tag moves to the image, then an instance refresh. */
export function createTarget(settings: AsgSettings, context: TargetContext): Target {
  const clients = asgClients(context);
  // What the last deploy started, for settleCancelled.
  let started: { refreshId?: string; image?: ImageByDigest } = {};
  return {
    kind: 'asg',
    operationKind: OPERATION_KIND,
    resource: RESOURCE,
    label: groupLabel(settings.asgName),
    identity: { 'asg-name': settings.asgName, 'boot-tag': settings.bootTag },
    scheduler: asgScheduler(asgDeps(context, clients), settings.asgName),
    current: async (repository): Promise<CurrentState> => {
      const group = await describeGroup(clients.autoscaling, settings.asgName);
      const image = await findImage(context.ecr, repository, settings.bootTag);
      const commit = image ? commitFromTags(image.tags) : undefined;
      return {
        running: {
          reference: `${repository}:${settings.bootTag}`,
          ...(image ? { digest: image.digest } : {}),
          ...(commit ? { commit } : {}),
        },
        id: group.name,
        name: group.name,
        label: groupLabel(group.name),
        detail: `boot tag ${repository}:${settings.bootTag}`,
      };
    },
    deploy: async (image, record, timeoutMs): Promise<TargetDeployResult> => {
      const outputs: Record<string, string> = {};
      started = { image };
      const onStarted: RefreshHooks['onStarted'] = (refreshId, _previous, previousTemplateVersion) => {
        started.refreshId = refreshId;
        outputs['refresh-id'] = refreshId;
        if (previousTemplateVersion) outputs['previous-launch-template-version'] = previousTemplateVersion;
      };
      const previous = () =>
        record.previous?.image
          ? { image: record.previous.image, ...(record.previous.digest ? { digest: record.previous.digest } : {}) }
          : undefined;
      try {
        const result = await refreshGroup(context, clients, { ...settings, wait: true, timeoutMs }, image, record, {
          onStarted,
        });
        outputs.status = result.status;
        const before = previous();
        return {
          ...(before ? { previous: before } : {}),
          ...(result.failure ? { failure: result.failure } : {}),
          // AWS's AutoRollback (and the boot tag moved back with it) already undid a rolled-back refresh.
          needsRollback: record.outcome === 'failed',
          outputs,
        };
      } catch (error) {
        const before = previous();
        const cancelled = error instanceof AsgCancelledError || context.signal?.aborted === true;
        outputs.status =
          error instanceof AsgCancelledError
            ? (error.settled.refresh?.status ?? 'Cancelled')
            : cancelled
              ? 'Cancelled'
              : 'Unknown';
        return {
          ...(before ? { previous: before } : {}),
          failure: error instanceof DeployError ? error : new DeployError((error as Error).message, { cause: error }),
          needsRollback: !cancelled,
          ...(cancelled ? { cancelled } : {}),
          outputs,
        };
      }
    },
    rollback: async (request: RollbackRequest) => {
      const { record } = request;
      const templateVersion = request.undoing?.outputs['previous-launch-template-version'];
      const verify = request.verify;
      try {
        await inPhase(record, 'rollback', context.clock, async () => {
          const result = await rollbackAsg(asgDeps(context, clients), {
            groupName: settings.asgName,
            bootTag: ecrBootTag(context.ecr, request.image.repository, settings.bootTag, context.logger),
            previousDigest: request.image.digest,
            preferences: {
              minHealthyPercentage: settings.preferences?.minHealthyPercentage ?? DEFAULT_MIN_HEALTHY_PERCENTAGE,
            },
            ...(templateVersion ? { launchTemplateVersion: templateVersion } : {}),
            timeoutMs: request.timeoutMs,
            ...(verify
              ? {
                  verify: {
                    url: verify.url,
                    ...(verify.expectedVersion ? { expectedVersion: verify.expectedVersion } : {}),
                    ...(verify.intervalMs !== undefined ? { intervalMs: verify.intervalMs } : {}),
                  },
                }
              : {}),
          });
          recordOperation(record, OPERATION_KIND, result.refreshId, result.status);
          if (result.health) recordHealth(record, result.health);
        });
        record.outcome = 'rolled-back';
        return undefined;
      } catch (error) {
        const failure =
          error instanceof DeployError
            ? error
            : new DeployError(
                `The rollback of ${settings.asgName} failed: ${(error as Error)?.message ?? String(error)}`,
                {
                  cause: error,
                },
              );
        recordFailure(record, 'rollback-failed', failure.message);
        return failure;
      }
    },
    settleCancelled: async (record) => {
      const image = started.image;
      const settled = await settleCancelled(
        { autoscaling: clients.autoscaling, clock: context.clock, logger: context.logger },
        {
          groupName: settings.asgName,
          region: context.region,
          cancelRefresh: settings.cancelOnAbort ?? true,
          minHealthyPercentage: settings.preferences?.minHealthyPercentage ?? DEFAULT_MIN_HEALTHY_PERCENTAGE,
          ...(started.refreshId ? { refreshId: started.refreshId } : {}),
          ...(image && started.refreshId
            ? {
                bootTag: ecrBootTag(context.ecr, image.repository, settings.bootTag, context.logger),
                digest: image.digest,
                ...(record.previous?.digest ? { previousDigest: record.previous.digest } : {}),
              }
            : {}),
          ...(record.environment ? { environment: record.environment } : {}),
        },
      );
      return { runsNow: settled.runsNow, ...(settled.finish ? { finish: settled.finish } : {}) };
    },
    planDeploy: async (repository) => {
      const running = (await findImage(context.ecr, repository, settings.bootTag))?.digest;
      return {
        ...(running ? { running } : {}),
        line: `move ${repository}:${settings.bootTag} to the image, then an instance refresh of ${settings.asgName}`,
      };
    },
  };
}

/** The post step's share for a group: see src/targets/asg/state.ts. */
export async function settleAbandoned(
  deps: PostStepDeps,
  clients: { autoscaling?: AutoScalingClient; ecr?: ECRClient } = {},
): Promise<AbandonedRun | undefined> {
  const region = deps.getState(STATE.region) || deps.env.AWS_REGION || '';
  const settled = await settleFromState({
    getState: (name) => deps.getState(name),
    saveState: (name, value) => deps.saveState(name, value),
    autoscaling: () => clients.autoscaling ?? autoScalingClient(region, deps.env),
    ecr: () => clients.ecr ?? ecrClient(region, deps.env),
    clock: deps.clock,
    logger: deps.logger,
  });
  if (!settled) return undefined;
  return {
    what: `Auto Scaling refresh of ${deps.getState(STATE.asgName)}`,
    summary: settled.summary,
    changed: settledSomething(settled),
    cancellation: settled,
  };
}
