import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { autoScalingClient } from '../../aws/autoscaling';
import { ecrClient } from '../../aws/ecr';
import { ecrBootTag } from '../../targets/asg/boot-tag';
import { type AsgStarted, settleCancelled } from '../../targets/asg/cancel';
import { cancelledSummary, STATE } from '../refresh-asg/main';
import type { ActionDeps } from '../runtime';

/** Replaceable parts, for tests. */
export interface RefreshAsgPostServices {
  autoscaling?: AutoScalingClient;
  ecr?: ECRClient;
}

/**
 * The post step of refresh-asg (runs always). The main step settles its refresh itself, even on SIGTERM; this catches
 * what it could not: a main step killed outright (SIGKILL after the runner's grace period, a runner crash). It does
 * what the main step would have: with cancel-on-abort, cancels the refresh it started, moves the boot tag back to the
 * previous image, and says what runs now and the command that finishes the rollback, in the log and the summary.
 */
export async function post(deps: ActionDeps, services: RefreshAsgPostServices = {}): Promise<void> {
  const refreshId = deps.getState(STATE.refreshId) || undefined;
  const group = deps.getState(STATE.asgName);
  const tagMoved = deps.getState(STATE.bootTagMoved) === 'true';
  if (!group || (!refreshId && !tagMoved) || deps.getState(STATE.settled) === 'true') return;
  const region = deps.getState(STATE.region) || deps.env.AWS_REGION || '';
  const autoscaling = services.autoscaling ?? autoScalingClient(region, deps.env);
  const repository = deps.getState(STATE.repository);
  const tag = deps.getState(STATE.bootTag);
  const digest = deps.getState(STATE.digest);
  const previousDigest = deps.getState(STATE.previousDigest);
  const environment = deps.getState(STATE.environment);
  const minHealthy = Number(deps.getState(STATE.minHealthy));
  const started: AsgStarted = {
    groupName: group,
    region,
    cancelRefresh: deps.getState(STATE.cancelOnAbort) === 'true',
    minHealthyPercentage: Number.isInteger(minHealthy) && minHealthy >= 0 ? minHealthy : 90,
    ...(refreshId ? { refreshId } : {}),
    ...(tagMoved && repository && tag && digest
      ? {
          bootTag: ecrBootTag(services.ecr ?? ecrClient(region, deps.env), repository, tag, deps.logger),
          digest,
          ...(previousDigest ? { previousDigest } : {}),
        }
      : {}),
    ...(environment ? { environment } : {}),
  };
  const settled = await settleCancelled({ autoscaling, clock: deps.clock, logger: deps.logger }, started);
  deps.saveState(STATE.settled, 'true');
  const changed = settled.state === 'cancelled' || settled.bootTag === 'restored';
  if (!changed && settled.state === 'completed' && !settled.finish) {
    deps.logger.info(`The refresh-asg step ended early: ${settled.summary}`);
    return;
  }
  deps.logger.warning(`The refresh-asg step ended early: ${settled.summary}`);
  await deps.writeSummary(cancelledSummary(group, settled)).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
}
