import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeService } from '../../aws/apprunner';
import { describeGroup } from '../../aws/autoscaling';
import { findImage } from '../../aws/ecr';
import type { Clock } from '../../core/clock';
import { ConfigurationError, DeployError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { type DeployRecord, inPhase } from '../../core/record';
import { commitFromTags } from '../../deploy/pointers';
import type { RunningImage } from '../../deploy/rollback-plan';
import { parseImageReference, serviceUrlOf } from '../../targets/apprunner/image-reference';
import { rollbackAppRunner } from '../../targets/apprunner/rollback';
import { ecrBootTag } from '../../targets/asg/boot-tag';
import { rollbackAsg } from '../../targets/asg/rollback';
import type { RollbackInputs } from './inputs';

export interface TargetClients {
  ecr: ECRClient;
  apprunner?: AppRunnerClient;
  autoscaling?: AutoScalingClient;
  elbv2?: ElasticLoadBalancingV2Client;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  /** Poll delays (tests shorten them). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export interface CurrentState {
  running: RunningImage;
  /** ARN or group name, for the record. */
  id: string;
  /** A human name: the service name or the group name. */
  name: string;
  /** The App Runner service URL; undefined for an ASG. */
  url?: string;
}

async function commitOf(clients: TargetClients, repository: string, digest: string): Promise<string | undefined> {
  return commitFromTags((await findImage(clients.ecr, repository, digest))?.tags ?? []);
}

/** What the target runs now: App Runner's image identifier, or the digest the ASG's boot tag names. */
export async function readCurrent(clients: TargetClients, inputs: RollbackInputs): Promise<CurrentState> {
  const { repository } = inputs;
  if (inputs.target.kind === 'apprunner') {
    const service = await describeService(clients.apprunner as AppRunnerClient, inputs.target.serviceArn);
    if (!service.imageIdentifier) {
      throw new DeployError(
        `The App Runner service ${service.name} is not deployed from an image (source-code service?): the ` +
          'rollback action redeploys ECR images only.',
      );
    }
    let reference: ReturnType<typeof parseImageReference>;
    try {
      reference = parseImageReference('image', service.imageIdentifier);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      throw new DeployError(
        `The App Runner service ${service.name} runs ${service.imageIdentifier}, not an ECR image.`,
      );
    }
    if (reference.repository !== repository) {
      throw new DeployError(
        `The App Runner service ${service.name} runs ${service.imageIdentifier}, from the repository ` +
          `${reference.repository}, but repository is ${repository}. Nothing was changed. Set repository to ` +
          `${reference.repository} if that is where this environment's images live.`,
      );
    }
    const digest = reference.digest ?? (await findImage(clients.ecr, repository, reference.tag as string))?.digest;
    const commit = digest ? await commitOf(clients, repository, digest) : undefined;
    const url = serviceUrlOf(service.url);
    return {
      running: { reference: service.imageIdentifier, ...(digest ? { digest } : {}), ...(commit ? { commit } : {}) },
      id: service.arn,
      name: service.name,
      ...(url ? { url } : {}),
    };
  }
  const group = await describeGroup(clients.autoscaling as AutoScalingClient, inputs.target.asgName);
  const image = await findImage(clients.ecr, repository, inputs.bootTag);
  const commit = image ? commitFromTags(image.tags) : undefined;
  return {
    running: {
      reference: `${repository}:${inputs.bootTag}`,
      ...(image ? { digest: image.digest } : {}),
      ...(commit ? { commit } : {}),
    },
    id: group.name,
    name: group.name,
  };
}

/**
 * Deploys `image` (a digest URI) to the target and checks it, recording a `rollback` phase. Sets the record's outcome
 * (`succeeded` or `rollback-failed`) and error; returns the failure instead of throwing it, so outputs still get written.
 */
export async function deployTarget(
  clients: TargetClients,
  inputs: RollbackInputs,
  record: DeployRecord,
  image: { uri: string; digest: string; commit: string },
  reason: string,
): Promise<DeployError | undefined> {
  const expectedVersion =
    inputs.expectedVersion?.kind === 'sha'
      ? image.commit
      : inputs.expectedVersion?.kind === 'literal'
        ? inputs.expectedVersion.value
        : undefined;
  const { clock, logger, signal } = clients;
  if (inputs.target.kind === 'apprunner') {
    const result = await rollbackAppRunner(
      { client: clients.apprunner as AppRunnerClient, clock, logger, ...(signal ? { signal } : {}) },
      {
        serviceArn: inputs.target.serviceArn,
        image: image.uri,
        timeoutMs: inputs.timeoutMs,
        onBusy: 'wait',
        record,
        reason,
        ...(inputs.health ? { verify: { ...inputs.health, ...(expectedVersion ? { expectedVersion } : {}) } } : {}),
        ...(clients.minDelayMs !== undefined ? { minDelayMs: clients.minDelayMs } : {}),
        ...(clients.maxDelayMs !== undefined ? { maxDelayMs: clients.maxDelayMs } : {}),
      },
    );
    // rollbackAppRunner speaks of a failed deploy that was rolled back; here the rollback is the deploy.
    if (!result.failure) record.outcome = 'succeeded';
    return result.failure;
  }

  const { asgName } = inputs.target;
  try {
    await inPhase(record, 'rollback', clock, async () => {
      const result = await rollbackAsg(
        {
          autoscaling: clients.autoscaling as AutoScalingClient,
          ...(clients.elbv2 ? { elbv2: clients.elbv2 } : {}),
          clock,
          logger,
          ...(signal ? { signal } : {}),
          ...(clients.minDelayMs !== undefined && clients.maxDelayMs !== undefined
            ? { pollDelays: { minDelayMs: clients.minDelayMs, maxDelayMs: clients.maxDelayMs } }
            : {}),
        },
        {
          groupName: asgName,
          bootTag: ecrBootTag(clients.ecr, inputs.repository, inputs.bootTag, logger),
          previousDigest: image.digest,
          preferences: { minHealthyPercentage: 90 },
          timeoutMs: inputs.timeoutMs,
          ...(inputs.health
            ? {
                verify: {
                  url: inputs.health.url,
                  ...(expectedVersion ? { expectedVersion } : {}),
                  ...(inputs.health.intervalMs !== undefined ? { intervalMs: inputs.health.intervalMs } : {}),
                },
              }
            : {}),
        },
      );
      record.operations.push({ kind: 'instance-refresh', id: result.refreshId, status: result.status });
      if (result.health) {
        record.health = {
          url: result.health.url,
          healthy: result.health.healthy,
          attempts: result.health.attempts,
          ...(result.health.lastStatus !== undefined ? { lastStatus: result.health.lastStatus } : {}),
        };
      }
    });
    record.outcome = 'succeeded';
    return undefined;
  } catch (error) {
    const failure =
      error instanceof DeployError
        ? error
        : new DeployError(`The rollback of ${asgName} failed: ${(error as Error)?.message ?? String(error)}`, {
            cause: error,
          });
    record.outcome = 'rollback-failed';
    record.error = failure.message;
    return failure;
  }
}
