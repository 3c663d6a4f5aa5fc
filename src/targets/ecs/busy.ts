import { stopServiceDeployment } from '../../aws/ecs';
import { DeployError } from '../../core/errors';
import { poll } from '../../core/poller';
import { type DeploymentTracker, type EcsDeps, ROLLING_BACK } from './deployment';
import type { EcsOnBusy } from './settings';

/**
 * Makes way for a new deployment of a service that has one in progress: waits for it (`wait`), refuses before
 * anything is changed (`fail`), or stops it with ECS's rollback (`stop`), never stopping a rollback already running
 * (that one is waited out). Returns once no deployment of the service is in progress: true when it had to wait.
 */
export async function makeWay(
  deps: EcsDeps,
  tracker: DeploymentTracker,
  options: { onBusy: EcsOnBusy; timeoutMs: number; label: string },
): Promise<boolean> {
  const active = await tracker.active();
  if (active.length === 0) return false;
  const list = active.map((d) => d.arn ?? d.progress).join(', ');
  if (options.onBusy === 'fail') {
    throw new DeployError(
      `${options.label} has a deployment in progress (${list}). on-busy is fail, so nothing was changed: wait for ` +
        'it to end, or set on-busy to wait (or stop, to roll it back).',
    );
  }
  if (options.onBusy === 'stop') {
    if (!tracker.hasDeploymentsApi) {
      throw new DeployError(
        `${options.label} has a deployment in progress, and on-busy stop needs ECS's service deployments API, ` +
          'which this endpoint does not have. Nothing was changed: set on-busy to wait or fail.',
      );
    }
    for (const deployment of active) {
      if (!deployment.arn || ROLLING_BACK.includes(deployment.status) || deployment.status === 'STOP_REQUESTED') {
        deps.logger.info(`${deployment.arn ?? 'A deployment'} is ${deployment.status}: waiting for it to end.`);
        continue;
      }
      deps.logger.warning(`on-busy is stop: rolling back the deployment in progress ${deployment.arn}.`);
      await stopServiceDeployment(deps.client, deployment.arn, 'ROLLBACK');
    }
  } else {
    deps.logger.info(`${options.label} has a deployment in progress (${list}): waiting for it to end (on-busy wait).`);
  }
  await poll<void>({
    what: `the deployment in progress on ${options.label}`,
    timeoutMs: options.timeoutMs,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.pollDelays ?? {}),
    check: async () => {
      const still = await tracker.active();
      return still.length === 0
        ? { done: true, value: undefined }
        : { done: false, progress: still.map((d) => d.progress).join('; ') };
    },
  });
  return true;
}
