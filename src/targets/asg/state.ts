import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Clock } from '../../core/clock';
import type { Logger } from '../../core/logger';
import { ecrBootTag } from './boot-tag';
import { type AsgSettled, type AsgStarted, settleCancelled } from './cancel';
import { DEFAULT_MIN_HEALTHY_PERCENTAGE } from './refresh';

/**
 * What a step that refreshes a group saves for its post step (GitHub's `saveState`/`getState`), so that the post step
 * can finish what a main step killed outright (SIGKILL, a runner crash) left: the refresh it started, the boot tag
 * it moved. refresh-asg and the all-in-one action save the same keys and share the post step's code.
 */
export const STATE = {
  refreshId: 'refresh-id',
  asgName: 'asg-name',
  region: 'region',
  cancelOnAbort: 'cancel-on-abort',
  /** 'true' once the refresh ended, was cancelled, or was deliberately left running (wait: false). */
  settled: 'settled',
  /** The boot tag (`repository`, `boot-tag`), and the digest it is moved to. */
  repository: 'repository',
  bootTag: 'boot-tag',
  digest: 'digest',
  /** 'true' from just before the boot tag moves; `previous-digest` is where it goes back to ('' for nowhere). */
  bootTagMoved: 'boot-tag-moved',
  previousDigest: 'previous-digest',
  /** For the command that finishes a rollback. */
  minHealthy: 'min-healthy-percentage',
  environment: 'environment',
} as const;

export interface SettleFromStateDeps {
  getState(name: string): string;
  saveState(name: string, value: string): void;
  autoscaling: () => AutoScalingClient;
  ecr: () => ECRClient;
  clock: Clock;
  logger: Logger;
}

/**
 * The post step's half of "whichever runs first does it, once": nothing when the main step settled its run (or
 * started nothing); otherwise what the main step would have done on SIGINT (settleCancelled), then marks it settled.
 */
export async function settleFromState(deps: SettleFromStateDeps): Promise<AsgSettled | undefined> {
  const get = deps.getState;
  const refreshId = get(STATE.refreshId) || undefined;
  const group = get(STATE.asgName);
  const tagMoved = get(STATE.bootTagMoved) === 'true';
  if (!group || (!refreshId && !tagMoved) || get(STATE.settled) === 'true') return undefined;
  const repository = get(STATE.repository);
  const tag = get(STATE.bootTag);
  const digest = get(STATE.digest);
  const previousDigest = get(STATE.previousDigest);
  const environment = get(STATE.environment);
  const minHealthy = Number(get(STATE.minHealthy));
  const started: AsgStarted = {
    groupName: group,
    region: get(STATE.region),
    cancelRefresh: get(STATE.cancelOnAbort) === 'true',
    minHealthyPercentage:
      get(STATE.minHealthy) !== '' && Number.isInteger(minHealthy) && minHealthy >= 0
        ? minHealthy
        : DEFAULT_MIN_HEALTHY_PERCENTAGE,
    ...(refreshId ? { refreshId } : {}),
    ...(tagMoved && repository && tag && digest
      ? {
          bootTag: ecrBootTag(deps.ecr(), repository, tag, deps.logger),
          digest,
          ...(previousDigest ? { previousDigest } : {}),
        }
      : {}),
    ...(environment ? { environment } : {}),
  };
  const settled = await settleCancelled(
    { autoscaling: deps.autoscaling(), clock: deps.clock, logger: deps.logger },
    started,
  );
  deps.saveState(STATE.settled, 'true');
  return settled;
}

/** Whether a post step's settling changed anything or left something to do (worth a warning and a summary). */
export function settledSomething(settled: AsgSettled): boolean {
  const changed = settled.state === 'cancelled' || settled.bootTag === 'restored';
  return changed || settled.state !== 'completed' || settled.finish !== undefined;
}
