import {
  describeEcsService,
  describeServiceDeployment,
  describeTaskDefinition,
  registerTaskDefinition,
  stopServiceDeployment,
  updateServiceTaskDefinition,
} from '../../aws/ecs';
import { DeployError } from '../../core/errors';
import { inPhase, recordFailure, recordOperation } from '../../core/record';
import type { RollbackRequest } from '../target';
import { ACTIVE_STATUSES } from './deployment';
import { followRollout, OPERATION_KIND } from './rollout';
import type { EcsRun } from './service-deploy';
import { RESOURCE } from './service-deploy';
import type { EcsSettings } from './settings';
import type { EcsStarted } from './state';
import { checkTargetHealth } from './target-health';
import { newRevisionInput, pickContainer, revisionName } from './task-definition';
import { verifyRollback } from './verify';

/**
 * Puts the service back on `request.image` and checks it answers. While our own deployment is still in progress
 * that is ECS's StopServiceDeployment ROLLBACK; after it ended, an UpdateService back to the revision that ran
 * before (the task definition this job replaced), or, for a rollback to an image this job did not replace, a new
 * revision of what runs now with only that image changed. Sets the record's outcome; never throws.
 */
export async function rollbackService(
  run: EcsRun,
  settings: EcsSettings,
  request: RollbackRequest,
  started: EcsStarted,
): Promise<DeployError | undefined> {
  const { deps, tracker } = run;
  const { record } = request;
  const label = `${RESOURCE} ${settings.service} (cluster ${settings.cluster})`;
  try {
    await inPhase(record, 'rollback', deps.clock, async () => {
      const ours = started.deploymentArn;
      if (ours && !started.ended) {
        const now = await describeServiceDeployment(deps.client, ours);
        if (ACTIVE_STATUSES.includes(now.status ?? 'PENDING')) {
          await undoInProgress(run, label, request, ours, now.status ?? 'PENDING');
          return finishRollback(run, settings, request, label);
        }
      }
      const back = await revisionToGoBackTo(run, settings, request, started, label);
      const since = new Date();
      await updateServiceTaskDefinition(deps.client, settings.cluster, settings.service, back);
      deps.logger.info(`UpdateService: ${label} goes back to ${revisionName(back)}.`);
      const end = await followRollout(tracker, {
        ours: { taskDefinitionArn: back },
        since,
        timeoutMs: request.timeoutMs,
        label: `${label} back to ${revisionName(back)}`,
        record,
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      if (end.failure) throw end.failure;
      return finishRollback(run, settings, request, label);
    });
    record.outcome = 'rolled-back';
    return undefined;
  } catch (error) {
    const failure =
      error instanceof DeployError
        ? error
        : new DeployError(`The rollback of ${label} failed: ${(error as Error)?.message ?? String(error)}`, {
            cause: error,
          });
    recordFailure(record, 'rollback-failed', failure.message);
    return failure;
  }
}

/** ECS's own rollback of a deployment still in progress: quicker, and it knows what ran before. */
export async function undoInProgress(
  run: Pick<EcsRun, 'deps' | 'tracker'>,
  label: string,
  request: RollbackRequest,
  arn: string,
  status: string,
): Promise<void> {
  const { deps, tracker } = run;
  if (status !== 'ROLLBACK_REQUESTED' && status !== 'ROLLBACK_IN_PROGRESS') {
    deps.logger.info(`${arn} is still ${status}: StopServiceDeployment ROLLBACK.`);
    await stopServiceDeployment(deps.client, arn, 'ROLLBACK');
  }
  const state = await tracker.follow({
    ours: { taskDefinitionArn: request.record.target?.revision ?? '' },
    since: new Date(),
    arn,
    timeoutMs: request.timeoutMs,
    what: `the rollback of ${label}`,
  });
  recordOperation(request.record, OPERATION_KIND, arn, state.status);
  if (state.status !== 'ROLLBACK_SUCCESSFUL') {
    throw new DeployError(
      `ECS's rollback of ${arn} ended ${state.status}${state.reason ? `: ${state.reason}` : ''}. Check the service's ` +
        'events in the ECS console.',
    );
  }
}

/**
 * The revision that ran before this job's deploy when that is what is asked for; otherwise a new revision of what
 * runs now with the requested image (a manual rollback changes the image only, never the rest of the configuration).
 */
async function revisionToGoBackTo(
  run: EcsRun,
  settings: EcsSettings,
  request: RollbackRequest,
  started: EcsStarted,
  label: string,
): Promise<string> {
  const { deps } = run;
  const previous = request.undoing?.outputs['previous-task-definition-arn'] ?? started.previousTaskDefinitionArn;
  if (previous && started.previousImage === request.image.uri) return previous;
  const service = await describeEcsService(deps.client, settings.cluster, settings.service);
  if (!service.taskDefinition) throw new DeployError(`${label} has no task definition.`);
  const current = await describeTaskDefinition(deps.client, service.taskDefinition);
  const container = pickContainer(current.taskDefinition, settings.container, revisionName(service.taskDefinition));
  const registered = await registerTaskDefinition(
    deps.client,
    newRevisionInput(current.taskDefinition, {
      container: container.name as string,
      image: request.image.uri,
      tags: current.tags,
    }),
  );
  deps.logger.info(
    `Registered ${revisionName(registered.taskDefinitionArn)}: ${revisionName(service.taskDefinition)} with container ` +
      `${container.name} back on ${request.image.uri}.`,
  );
  return registered.taskDefinitionArn as string;
}

async function finishRollback(
  run: EcsRun,
  settings: EcsSettings,
  request: RollbackRequest,
  label: string,
): Promise<void> {
  const service = await describeEcsService(run.deps.client, settings.cluster, settings.service);
  const targetGroups = (service.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a);
  if (targetGroups.length) await checkTargetHealth(run.deps, run.elbv2(), targetGroups, label);
  if (request.verify) await verifyRollback(run.deps, request.record, request.verify, undefined, label);
  run.deps.logger.info(`${label} is back on ${request.image.uri}.`);
}
