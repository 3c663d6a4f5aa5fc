import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
import { appRunnerClient, describeService } from '../../aws/apprunner';
import { findImage } from '../../aws/ecr';
import { ConfigurationError, DeployError } from '../../core/errors';
import type { DeployRecord } from '../../core/record';
import { commitFromTags } from '../../core/tags';
import type {
  CurrentState,
  ImageByDigest,
  RollbackRequest,
  Target,
  TargetContext,
  TargetDeployResult,
} from '../target';
import { deployAppRunner } from './deploy';
import { parseImageReference, serviceUrlOf } from './image-reference';
import { OPERATION_KIND } from './operation';
import { rollbackAppRunner } from './rollback';
import { appRunnerScheduler } from './schedule';
import { type AppRunnerDeps, type AppRunnerOnBusy, RESOURCE } from './types';

/** What the inputs say about an App Runner target. */
export interface AppRunnerSettings {
  serviceArn: string;
  /** Default `wait`. */
  onBusy?: AppRunnerOnBusy;
}

/** The client this platform takes from `TargetContext.clients` (tests inject it). */
export const CLIENT = 'apprunner';

/** How long a cancelled run looks at what the service runs: the runner kills the step 10 s after its SIGINT. */
const CANCELLED_LOOK_MS = 3_000;

/** An App Runner service as a deploy target: UpdateService to an image by digest, followed to its end. */
export function createTarget(settings: AppRunnerSettings, context: TargetContext): Target {
  const client =
    (context.clients?.[CLIENT] as AppRunnerClient | undefined) ?? appRunnerClient(context.region, context.env);
  const deps: AppRunnerDeps = {
    client,
    clock: context.clock,
    logger: context.logger,
    ...(context.signal ? { signal: context.signal } : {}),
  };
  const delays = context.pollDelays ? { pollDelays: context.pollDelays } : {};
  return {
    kind: 'apprunner',
    operationKind: OPERATION_KIND,
    resource: RESOURCE,
    label: `${RESOURCE} ${settings.serviceArn}`,
    defaultHealthPath: '/health',
    identity: { 'service-arn': settings.serviceArn },
    current: (repository) => current(client, context, settings, repository),
    scheduler: appRunnerScheduler(deps, settings.serviceArn, context.pollDelays),
    deploy: async (image: ImageByDigest, record: DeployRecord, timeoutMs: number): Promise<TargetDeployResult> => {
      const result = await deployAppRunner(deps, {
        serviceArn: settings.serviceArn,
        image: image.uri,
        timeoutMs,
        onBusy: settings.onBusy ?? 'wait',
        wait: true,
        record,
        // App Runner rolls a failed deployment back by itself; a failed health check is the caller's to act on.
        rollbackOnFailure: false,
        ...delays,
      });
      const outputs: Record<string, string> = { status: result.status };
      if (result.operationId) outputs['operation-id'] = result.operationId;
      return {
        ...(result.previousImage ? { previous: previousOf(result.previousImage) } : {}),
        ...(result.serviceUrl ? { serviceUrl: result.serviceUrl } : {}),
        ...(result.failure ? { failure: result.failure } : {}),
        needsRollback: false,
        ...(context.signal?.aborted ? { cancelled: true } : {}),
        outputs,
      };
    },
    rollback: async (request: RollbackRequest) => {
      const result = await rollbackAppRunner(deps, {
        serviceArn: settings.serviceArn,
        image: request.image.uri,
        timeoutMs: request.timeoutMs,
        onBusy: 'wait',
        record: request.record,
        reason: request.reason,
        ...(request.verify ? { verify: request.verify } : {}),
        ...delays,
      });
      return result.failure;
    },
    // App Runner has no call that stops a deployment: it runs to its end (or its own rollback) by itself.
    settleCancelled: async () => {
      // Within a cancelled job's grace period: one look, cut at 3 s.
      const service = await describeService(client, settings.serviceArn, {
        abortSignal: AbortSignal.timeout(CANCELLED_LOOK_MS),
      }).catch(() => undefined);
      return {
        runsNow: [
          service
            ? `${RESOURCE} ${service.name} runs ${service.imageIdentifier ?? '(no image)'} (status ${service.status}; an operation in progress goes on in AWS).`
            : `${RESOURCE} ${settings.serviceArn}: what it runs could not be read.`,
        ],
      };
    },
    planDeploy: async () => {
      const service = await describeService(client, settings.serviceArn);
      return {
        ...(service.imageIdentifier ? { running: service.imageIdentifier } : {}),
        line: `UpdateService ${service.name} (${serviceUrlOf(service.url)}) to the image by digest`,
      };
    },
  };
}

function previousOf(identifier: string): { image: string; digest?: string } {
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(identifier)?.[1];
  return { image: identifier, ...(digest ? { digest } : {}) };
}

/** The service's image identifier, resolved to a digest and a commit through ECR. */
async function current(
  client: AppRunnerClient,
  context: TargetContext,
  settings: AppRunnerSettings,
  repository: string,
): Promise<CurrentState> {
  const service = await describeService(client, settings.serviceArn);
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
    throw new DeployError(`The App Runner service ${service.name} runs ${service.imageIdentifier}, not an ECR image.`);
  }
  if (reference.repository !== repository) {
    throw new DeployError(
      `The App Runner service ${service.name} runs ${service.imageIdentifier}, from the repository ` +
        `${reference.repository}, but repository is ${repository}. Nothing was changed. Set repository to ` +
        `${reference.repository} if that is where this environment's images live.`,
    );
  }
  // One DescribeImages: by the digest the service is pinned to, else by its tag (which gives the digest too).
  const image = await findImage(context.ecr, repository, reference.digest ?? (reference.tag as string));
  const digest = reference.digest ?? image?.digest;
  const commit = image ? commitFromTags(image.tags) : undefined;
  const url = serviceUrlOf(service.url);
  return {
    running: { reference: service.imageIdentifier, ...(digest ? { digest } : {}), ...(commit ? { commit } : {}) },
    id: service.arn,
    name: service.name,
    label: `${RESOURCE} ${service.name}`,
    ...(url ? { url } : {}),
  };
}
