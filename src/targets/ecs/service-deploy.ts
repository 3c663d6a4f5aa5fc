import type { DeploymentConfiguration, Service } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  describeEcsService,
  describeTaskDefinition,
  registerTaskDefinition,
  updateServiceTaskDefinition,
} from '../../aws/ecs';
import { DeployError } from '../../core/errors';
import { type DeployRecord, endPhase, recordFailure, startPhase } from '../../core/record';
import type { ImageByDigest, TargetDeployResult } from '../target';
import { makeWay } from './busy';
import type { DeploymentTracker, EcsDeps } from './deployment';
import { followRollout } from './rollout';
import type { EcsSettings } from './settings';
import { type EcsStarted, STATE } from './state';
import { checkTargetHealth } from './target-health';
import { newRevisionInput, pickContainer, revisionName } from './task-definition';

export const RESOURCE = 'ECS service';

export interface EcsRun {
  deps: EcsDeps;
  tracker: DeploymentTracker;
  elbv2: () => ElasticLoadBalancingV2Client;
  save: (name: string, value: string) => void;
}

/** The cluster's name in a cluster ARN (`…:cluster/prod`). */
export function clusterName(arn: string | undefined, fallback: string): string {
  return arn ? arn.slice(arn.lastIndexOf('/') + 1) : fallback;
}

/** Refuses, with the reason, a service this toolkit cannot deploy by UpdateService. */
export function requireDeployable(service: Service, label: string): void {
  const controller = service.deploymentController?.type ?? 'ECS';
  if (controller === 'CODE_DEPLOY') {
    throw new DeployError(
      `${label} uses the CODE_DEPLOY deployment controller: its deployments are made by CodeDeploy (an AppSpec and ` +
        'aws deploy create-deployment), and UpdateService cannot change its task definition. Nothing was changed. ' +
        'Move the service to the ECS controller (ECS now runs blue/green itself: strategy BLUE_GREEN) to deploy it here.',
    );
  }
  if (controller !== 'ECS') {
    throw new DeployError(
      `${label} uses the ${controller} deployment controller: its task sets are managed by another tool, not by ` +
        'UpdateService. Nothing was changed; this action deploys services on the ECS deployment controller.',
    );
  }
  if (service.status !== 'ACTIVE') {
    throw new DeployError(
      `${label} is ${service.status ?? 'not active'} (ServiceNotActiveException): a draining or inactive service ` +
        'cannot be deployed. Nothing was changed.',
    );
  }
}

function digestOf(image: string | undefined): string | undefined {
  return image ? /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1] : undefined;
}

/**
 * Registers a revision of the service's task definition (or of the given file) with the image by digest, updates the
 * service to it and follows its service deployment to the end, then checks its load balancer targets. Never throws
 * for a failed deploy: the result carries the failure, and the record says the same.
 */
export async function deployService(
  run: EcsRun,
  settings: EcsSettings,
  image: ImageByDigest,
  record: DeployRecord,
  timeoutMs: number,
  started: EcsStarted,
): Promise<TargetDeployResult> {
  const { deps, tracker } = run;
  const label = `${RESOURCE} ${settings.service} (cluster ${settings.cluster})`;
  const outputs: Record<string, string> = { status: 'NOT_STARTED' };
  const result = (extra: Partial<TargetDeployResult>): TargetDeployResult => ({
    ...(started.previousImage
      ? {
          previous: {
            image: started.previousImage,
            ...(digestOf(started.previousImage) ? { digest: digestOf(started.previousImage) as string } : {}),
          },
        }
      : {}),
    needsRollback: false,
    outputs,
    ...extra,
  });
  const phase = startPhase(record, 'deploy', deps.clock);
  const failed = (error: unknown, extra: Partial<TargetDeployResult> = {}): TargetDeployResult => {
    const failure =
      error instanceof DeployError
        ? error
        : new DeployError((error as Error)?.message ?? String(error), { cause: error });
    endPhase(phase, 'failed', deps.clock, failure.message);
    if (!deps.signal?.aborted)
      recordFailure(record, record.outcome === 'in-progress' ? 'failed' : record.outcome, failure.message);
    return result({ failure, ...(deps.signal?.aborted ? { cancelled: true } : {}), ...extra });
  };

  let service: Service;
  try {
    service = await describeEcsService(deps.client, settings.cluster, settings.service);
    const cluster = clusterName(service.clusterArn, settings.cluster);
    record.target = { kind: 'ecs', id: service.serviceArn ?? settings.service, resource: RESOURCE, cluster };
    requireDeployable(service, label);
    // What runs now is read after any deployment we waited for: that one may have changed it.
    if (await makeWay(deps, tracker, { onBusy: settings.onBusy ?? 'wait', timeoutMs, label }))
      service = await describeEcsService(deps.client, settings.cluster, settings.service);
    const currentArn = service.taskDefinition;
    if (!currentArn) throw new DeployError(`${label} has no task definition.`);
    const current = await describeTaskDefinition(deps.client, currentArn);
    const source = settings.taskDefinitionFile?.json ?? current.taskDefinition;
    const where = settings.taskDefinitionFile ? settings.taskDefinitionFile.path : revisionName(currentArn);
    const container = pickContainer(source as Parameters<typeof pickContainer>[0], settings.container, where);
    const name = container.name as string;
    const runningImage = current.taskDefinition.containerDefinitions?.find((c) => c.name === name)?.image;
    started.previousTaskDefinitionArn = currentArn;
    outputs['previous-task-definition-arn'] = currentArn;
    if (runningImage && runningImage !== image.uri) {
      started.previousImage = runningImage;
      const digest = digestOf(runningImage);
      record.previous = {
        ...record.previous,
        image: runningImage,
        ...(digest ? { digest } : {}),
        revision: currentArn,
      };
    } else if (runningImage === image.uri && record.previous?.image) {
      // A re-run finds its own image deployed: the record of the first run keeps the real previous image.
      started.previousImage = record.previous.image;
    }

    const registered = await registerTaskDefinition(
      deps.client,
      newRevisionInput(source, {
        container: name,
        image: image.uri,
        ...(settings.containerEnvironment ? { environment: settings.containerEnvironment } : {}),
        // A file's own tags win; a revision of what runs keeps its tags.
        ...(settings.taskDefinitionFile ? {} : { tags: current.tags }),
      }),
    );
    const ours = registered.taskDefinitionArn as string;
    outputs['task-definition-arn'] = ours;
    deps.logger.info(`Registered ${revisionName(ours)}: container ${name} runs ${image.uri}.`);

    started.taskDefinitionArn = ours;
    started.since = new Date();
    run.save(STATE.cluster, settings.cluster);
    run.save(STATE.service, settings.service);
    run.save(STATE.label, label);
    run.save(STATE.cancelOnAbort, String(settings.cancelOnAbort ?? true));
    const configuration = withDeploymentAlarms(service.deploymentConfiguration, settings.deploymentAlarms);
    if (configuration)
      deps.logger.info(
        `The service's deployment alarms now include ${settings.deploymentAlarms!.join(', ')}: ECS rolls this ` +
          'deployment back by itself when one goes into ALARM during it.',
      );
    await updateServiceTaskDefinition(deps.client, settings.cluster, settings.service, ours, configuration);
    started.rollout = { taskDefinitionArn: ours };
    // Only now does the service deploy it: a refused UpdateService leaves the record without this revision.
    record.target.revision = ours;
    outputs.status = 'PENDING';
    deps.logger.info(`UpdateService: ${label} deploys ${revisionName(ours)} (it ran ${revisionName(currentArn)}).`);
  } catch (error) {
    return failed(error);
  }

  const end = await followRollout(tracker, {
    ours: { taskDefinitionArn: started.taskDefinitionArn },
    since: started.since,
    timeoutMs,
    label,
    record,
    ...(deps.signal ? { signal: deps.signal } : {}),
    onFound: (arn) => {
      started.deploymentArn = arn;
      outputs['service-deployment-arn'] = arn;
      run.save(STATE.deploymentArn, arn);
    },
  });
  if (end.state) outputs.status = end.state.status;
  if (end.cancelled) return failed(end.failure, { cancelled: true });
  // A deployment we gave up waiting for (timed out, unreadable) goes on: a rollback stops it with ECS's own.
  started.ended = end.state !== undefined;
  run.save(STATE.settled, 'true');
  if (end.failure) {
    record.outcome = end.outcome;
    return failed(end.failure, { needsRollback: end.needsRollback });
  }

  const targetGroups = (service.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a);
  try {
    const health = targetGroups.length
      ? await checkTargetHealth(deps, run.elbv2(), targetGroups, label)
      : 'no load balancer target groups to check';
    endPhase(
      phase,
      'succeeded',
      deps.clock,
      `${revisionName(started.taskDefinitionArn)} ${end.state?.status}; ${health}`,
    );
    deps.logger.info(`${label} runs ${revisionName(started.taskDefinitionArn)}: ${health}.`);
    return result({});
  } catch (error) {
    return failed(error, { needsRollback: !deps.signal?.aborted });
  }
}

/**
 * The service's deployment configuration with `names` among its deployment alarms (enable and rollback on), sent in
 * full so nothing else changes; undefined when there is nothing to add (UpdateService then leaves it alone).
 */
export function withDeploymentAlarms(
  current: DeploymentConfiguration | undefined,
  names: readonly string[] | undefined,
): DeploymentConfiguration | undefined {
  if (!names?.length) return undefined;
  const alarms = current?.alarms;
  const have = alarms?.alarmNames ?? [];
  const missing = names.filter((n) => !have.includes(n));
  if (missing.length === 0 && alarms?.enable && alarms.rollback) return undefined;
  return { ...(current ?? {}), alarms: { alarmNames: [...have, ...missing], enable: true, rollback: true } };
}
