import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { autoScalingClient, cancelRefresh, describeProgress, getRefresh, isActiveStatus } from '../../aws/autoscaling';
import { STATE } from '../refresh-asg/main';
import type { ActionDeps } from '../runtime';

/**
 * The post step of refresh-asg (runs always). The main step settles its refresh itself, even on SIGTERM; this catches
 * what it could not: a main step killed outright (SIGKILL after the runner's grace period, a runner crash). Then, with
 * cancel-on-abort, the refresh it started is cancelled, and either way the log says what was left running.
 */
export async function post(deps: ActionDeps, client?: AutoScalingClient): Promise<void> {
  const refreshId = deps.getState(STATE.refreshId);
  const group = deps.getState(STATE.asgName);
  if (!refreshId || !group || deps.getState(STATE.settled) === 'true') return;
  const autoscaling = client ?? autoScalingClient(deps.getState(STATE.region) || deps.env.AWS_REGION || '', deps.env);
  const refresh = await getRefresh(autoscaling, group, refreshId).catch((error: unknown) => {
    deps.logger.warning(`Could not look at instance refresh ${refreshId} of ${group}: ${(error as Error).message}`);
    return undefined;
  });
  if (refresh && !isActiveStatus(refresh.status)) {
    deps.logger.info(`Instance refresh ${refreshId} of ${group} ended: ${describeProgress(refresh)}.`);
    return;
  }
  const state = refresh ? describeProgress(refresh) : 'state unknown';
  if (deps.getState(STATE.cancelOnAbort) !== 'true') {
    deps.logger.warning(
      `The refresh-asg step ended early and left instance refresh ${refreshId} of ${group} running (${state}); ` +
        'cancel-on-abort is false.',
    );
    return;
  }
  const cancelled = await cancelRefresh(autoscaling, group);
  deps.logger.warning(
    cancelled
      ? `The refresh-asg step ended early: cancelled instance refresh ${refreshId} of ${group} (it was ${state}).`
      : `The refresh-asg step ended early; instance refresh ${refreshId} of ${group} had already ended.`,
  );
}
