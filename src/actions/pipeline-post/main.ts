import { reportAbandoned } from '../../deploy/cancellation';
import type { Docker } from '../../docker/docker';
import { POST_STATE, settleAbandoned } from '../../targets';
import { maskInPostStep } from '../account-mask';
import { logOutOfRegistry } from '../build-push/registry-logout';
import type { ActionDeps } from '../runtime';

/** Replaceable parts, for tests. */
export interface PipelinePostServices {
  docker?: Docker;
}

/**
 * The post step of the all-in-one action (runs always). Its main step settles a cancelled deploy itself on SIGINT;
 * this catches what it could not, when it was killed outright (SIGKILL after the runner's grace period, a runner
 * crash): the platform the main step deployed to stops what was started and puts back what can be put back, and the
 * log and job summary say what runs now and the command that finishes the rollback. Nothing when all was settled.
 * Then, whatever happened, docker is logged out of the ECR registry the build logged in to.
 */
export async function post(deps: ActionDeps, services: PipelinePostServices = {}): Promise<void> {
  maskInPostStep(deps);
  try {
    const kind = deps.getState(POST_STATE.targetKind);
    if (!kind) return;
    const found = await settleAbandoned(kind, deps);
    if (found) await reportAbandoned(deps, 'deploy', found);
  } finally {
    await logOutOfRegistry(deps, services.docker);
  }
}
