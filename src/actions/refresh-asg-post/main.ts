import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { autoScalingClient } from '../../aws/autoscaling';
import { ecrClient } from '../../aws/ecr';
import { cancelledSummary } from '../../deploy/cancellation';
import { STATE, settledSomething, settleFromState } from '../../targets/asg/state';
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
  const region = deps.getState(STATE.region) || deps.env.AWS_REGION || '';
  const settled = await settleFromState({
    getState: (name) => deps.getState(name),
    saveState: (name, value) => deps.saveState(name, value),
    autoscaling: () => services.autoscaling ?? autoScalingClient(region, deps.env),
    ecr: () => services.ecr ?? ecrClient(region, deps.env),
    clock: deps.clock,
    logger: deps.logger,
  });
  if (!settled) return;
  if (!settledSomething(settled)) {
    deps.logger.info(`The refresh-asg step ended early: ${settled.summary}`);
    return;
  }
  deps.logger.warning(`The refresh-asg step ended early: ${settled.summary}`);
  await deps
    .writeSummary(cancelledSummary(`Auto Scaling refresh of ${deps.getState(STATE.asgName)}`, settled))
    .catch((error: unknown) => deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`));
}
