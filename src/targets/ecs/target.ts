import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { findImage } from '../../aws/ecr';
import { describeEcsService, describeTaskDefinition, ecsClient } from '../../aws/ecs';
import { elbv2Client } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { parseImageReference } from '../../core/image-reference';
import { recordOperation } from '../../core/record';
import { commitFromTags } from '../../core/tags';
import type { AbandonedRun, CurrentState, PostStepDeps, Target, TargetContext } from '../target';
import { deploymentToStop, stopAbandoned } from './cancel';
import { DeploymentTracker, ECS_POLL_DELAYS, type EcsDeps } from './deployment';
import { rollbackService } from './rollback';
import { OPERATION_KIND } from './rollout';
import { ecsScheduler } from './schedule';
import { deployService, type EcsRun, RESOURCE } from './service-deploy';
import type { EcsSettings } from './settings';
import { type EcsStarted, STATE } from './state';
import { pickContainer, revisionName } from './task-definition';

export type { EcsSettings } from './settings';

/** The clients this platform takes from `TargetContext.clients` (tests inject them). */
export const CLIENTS = { ecs: 'ecs', elbv2: 'elbv2' } as const;

export function ecsDeps(context: TargetContext): EcsDeps {
  return {
    client: (context.clients?.[CLIENTS.ecs] as ECSClient | undefined) ?? ecsClient(context.region, context.env),
    clock: context.clock,
    logger: context.logger,
    ...(context.signal ? { signal: context.signal } : {}),
    pollDelays: context.pollDelays ?? ECS_POLL_DELAYS,
  };
}

/** An ECS service on the ECS deployment controller: a new task definition revision by digest, followed to its end. */
export function createTarget(settings: EcsSettings, context: TargetContext): Target {
  const deps = ecsDeps(context);
  const tracker = new DeploymentTracker(deps, settings.cluster, settings.service);
  let elbv2: ElasticLoadBalancingV2Client | undefined;
  const run: EcsRun = {
    deps,
    tracker,
    // Only a service behind a load balancer needs ELBv2: loaded when first asked for.
    elbv2: () => {
      elbv2 ??=
        (context.clients?.[CLIENTS.elbv2] as ElasticLoadBalancingV2Client | undefined) ??
        elbv2Client(context.region, context.env);
      return elbv2;
    },
    save: (name, value) => context.saveState?.(name, value),
  };
  run.save(STATE.region, context.region);
  let started: EcsStarted = {};
  const label = `${RESOURCE} ${settings.service} (cluster ${settings.cluster})`;
  return {
    kind: 'ecs',
    operationKind: OPERATION_KIND,
    resource: RESOURCE,
    label,
    identity: { cluster: settings.cluster, 'ecs-service': settings.service },
    current: (repository) => current(deps, settings, repository, context),
    deploy: async (image, record, timeoutMs) => {
      started = {};
      return deployService(run, settings, image, record, timeoutMs, started);
    },
    rollback: (request) => rollbackService(run, settings, request, started),
    settleCancelled: async (record) => {
      const arn = await deploymentToStop(tracker, started);
      const settled = await stopAbandoned(deps.client, {
        deploymentArn: arn,
        label,
        cancelOnAbort: settings.cancelOnAbort ?? true,
        startedUpdate: started.since !== undefined && !started.ended,
      });
      run.save(STATE.settled, 'true');
      // ECS rolls it back from here; the record names the deployment even when the cancel came before our first look.
      if (arn && settled.changed) recordOperation(record, OPERATION_KIND, arn, 'ROLLBACK_REQUESTED');
      return { runsNow: settled.runsNow };
    },
    scheduler: ecsScheduler(
      deps,
      async () => ({ cluster: settings.cluster, service: settings.service, label }),
      () => run.elbv2(),
    ),
    planDeploy: async () => {
      const service = await describeEcsService(deps.client, settings.cluster, settings.service);
      const running = service.taskDefinition
        ? await describeTaskDefinition(deps.client, service.taskDefinition)
            .then(
              (d) => pickContainer(d.taskDefinition, settings.container, revisionName(service.taskDefinition)).image,
            )
            .catch(() => undefined)
        : undefined;
      return {
        ...(running ? { running } : {}),
        line:
          `register a revision of ${settings.taskDefinitionFile ? settings.taskDefinitionFile.path : revisionName(service.taskDefinition)} ` +
          `with the image by digest, then UpdateService ${settings.service} in ${settings.cluster}`,
      };
    },
  };
}

/** What the service runs now: its task definition's container image, resolved to a digest and a commit by ECR. */
async function current(
  deps: EcsDeps,
  settings: EcsSettings,
  repository: string,
  context: TargetContext,
): Promise<CurrentState> {
  const service = await describeEcsService(deps.client, settings.cluster, settings.service);
  const arn = service.taskDefinition;
  if (!arn) throw new DeployError(`The ECS service ${settings.service} has no task definition.`);
  const { taskDefinition } = await describeTaskDefinition(deps.client, arn);
  const container = pickContainer(taskDefinition, settings.container, revisionName(arn));
  const imageText = container.image ?? '';
  let reference: ReturnType<typeof parseImageReference>;
  try {
    reference = parseImageReference('image', imageText);
  } catch {
    throw new DeployError(`The ECS service ${settings.service} runs ${imageText || '(no image)'}, not an ECR image.`);
  }
  if (reference.repository !== repository) {
    throw new DeployError(
      `The ECS service ${settings.service} runs ${imageText}, from the repository ${reference.repository}, but ` +
        `repository is ${repository}. Nothing was changed. Set repository to ${reference.repository} if that is ` +
        "where this environment's images live.",
    );
  }
  const image = await findImage(context.ecr, repository, reference.digest ?? (reference.tag as string));
  const digest = reference.digest ?? image?.digest;
  const commit = image ? commitFromTags(image.tags) : undefined;
  return {
    running: { reference: imageText, ...(digest ? { digest } : {}), ...(commit ? { commit } : {}) },
    id: service.serviceArn ?? settings.service,
    name: service.serviceName ?? settings.service,
    label: `${RESOURCE} ${service.serviceName ?? settings.service}`,
    detail: `task definition ${revisionName(arn)}, container ${container.name}`,
  };
}

/** The post step's share: a deployment a killed main step started and did not see end is stopped with ROLLBACK. */
export async function settleAbandoned(deps: PostStepDeps, client?: ECSClient): Promise<AbandonedRun | undefined> {
  const arn = deps.getState(STATE.deploymentArn);
  const service = deps.getState(STATE.service);
  if (!service || deps.getState(STATE.settled) === 'true') return undefined;
  const label = deps.getState(STATE.label) || `${RESOURCE} ${service}`;
  const region = deps.getState(STATE.region) || deps.env.AWS_REGION || '';
  const settled = await stopAbandoned(client ?? ecsClient(region, deps.env), {
    deploymentArn: arn || undefined,
    label,
    cancelOnAbort: deps.getState(STATE.cancelOnAbort) !== 'false',
    startedUpdate: true,
  });
  deps.saveState(STATE.settled, 'true');
  return {
    what: `ECS deployment of ${label}`,
    summary: settled.runsNow.join(' '),
    changed: settled.changed,
    cancellation: { runsNow: settled.runsNow },
  };
}
