import type { ECSClient } from '@aws-sdk/client-ecs';
import { describeServiceDeployment, stopServiceDeployment } from '../../aws/ecs';
import type { RecordCancellation } from '../../core/record';
import { ACTIVE_STATUSES, type DeploymentTracker, ROLLING_BACK } from './deployment';
import type { EcsStarted } from './state';

/** A cancelled job's grace is 10 s from SIGINT to SIGKILL: each call here is cut at 3 s. */
const CANCELLED_CALL_MS = 3_000;

/**
 * The deployment a cancelled run must stop: the one it followed, or (cancelled right after its UpdateService, before
 * the first look) the one ECS lists for its revision, looked up within the grace period.
 */
export async function deploymentToStop(tracker: DeploymentTracker, started: EcsStarted): Promise<string | undefined> {
  if (started.ended) return undefined;
  if (started.deploymentArn) return started.deploymentArn;
  if (!started.rollout || !started.since) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, CANCELLED_CALL_MS, undefined);
  });
  try {
    const found = await Promise.race([tracker.find(started.rollout, started.since).catch(() => undefined), cut]);
    return found?.serviceDeploymentArn;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After a cancel: a deployment this job started that has not ended is stopped with ECS's rollback (ECS then puts
 * the previous revision back by itself, with nothing of ours left to watch), unless cancel-on-abort is false.
 */
export async function stopAbandoned(
  client: ECSClient,
  options: { deploymentArn: string | undefined; label: string; cancelOnAbort: boolean; startedUpdate: boolean },
): Promise<RecordCancellation & { changed: boolean }> {
  const { deploymentArn: arn, label } = options;
  if (!arn) {
    return {
      changed: false,
      runsNow: [
        options.startedUpdate
          ? `${label}: the UpdateService was sent, but ECS had not listed its deployment yet; it goes on in AWS.`
          : `${label}: nothing was deployed; it runs what it ran before.`,
      ],
    };
  }
  const bounded = () => ({ abortSignal: AbortSignal.timeout(CANCELLED_CALL_MS) });
  const now = await describeServiceDeployment(client, arn, bounded()).catch(() => undefined);
  const status = now?.status;
  if (!status) return { changed: false, runsNow: [`${label}: the state of ${arn} could not be read.`] };
  if (!ACTIVE_STATUSES.includes(status) || ROLLING_BACK.includes(status) || status === 'STOP_REQUESTED') {
    return { changed: false, runsNow: [`${label}: its deployment ${arn} is ${status}.`] };
  }
  if (!options.cancelOnAbort) {
    return {
      changed: false,
      runsNow: [`${label}: its deployment ${arn} is ${status} and goes on in AWS (cancel-on-abort is false).`],
    };
  }
  try {
    await stopServiceDeployment(client, arn, 'ROLLBACK', bounded());
    return {
      changed: true,
      runsNow: [
        `${label}: its deployment ${arn} was ${status}; stopped with ROLLBACK, so ECS puts the previous revision back.`,
      ],
    };
  } catch (error) {
    return {
      changed: false,
      runsNow: [`${label}: its deployment ${arn} is ${status}; stopping it failed: ${(error as Error).message}`],
    };
  }
}
