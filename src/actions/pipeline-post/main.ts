import { reportAbandoned } from '../../deploy/cancellation';
import { POST_STATE, settleAbandoned } from '../../targets';
import type { ActionDeps } from '../runtime';

/**
 * The post step of the all-in-one action (runs always). Its main step settles a cancelled deploy itself on SIGINT;
 * this catches what it could not, when it was killed outright (SIGKILL after the runner's grace period, a runner
 * crash): the platform the main step deployed to stops what was started and puts back what can be put back, and the
 * log and job summary say what runs now and the command that finishes the rollback. Nothing when all was settled.
 */
export async function post(deps: ActionDeps): Promise<void> {
  const kind = deps.getState(POST_STATE.targetKind);
  if (!kind) return;
  const found = await settleAbandoned(kind, deps);
  if (found) await reportAbandoned(deps, 'deploy', found);
}
