import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { reportAbandoned } from '../../deploy/cancellation';
import { settleAbandoned } from '../../targets/asg/target';
import { maskInPostStep } from '../account-mask';
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
  maskInPostStep(deps);
  const found = await settleAbandoned(deps, services);
  if (found) await reportAbandoned(deps, 'refresh-asg', found);
}
