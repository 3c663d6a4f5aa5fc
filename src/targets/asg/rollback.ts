import {
  activeRefresh,
  describeGroup,
  describeProgress,
  RollbackRefusedError,
  rollbackRefresh,
} from '../../aws/autoscaling';
import type { TargetState } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { type HealthResult, waitUntilHealthy } from '../../core/health';
import type { BootTag } from './boot-tag';
import {
  type AsgDeps,
  clearTheWay,
  DEFAULT_MIN_HEALTHY_PERCENTAGE,
  type RefreshPreferences,
  refreshRequest,
  startWhenFree,
  TERMINAL_SUCCESS,
  waitForRefresh,
} from './refresh';
import { verifyTargetGroups } from './target-groups';

export interface AsgRollbackOptions {
  groupName: string;
  /** The boot tag to move back to `previousDigest` before any instance is relaunched. */
  bootTag?: BootTag;
  previousDigest?: string;
  /**
   * Preferences of a new refresh, if one is needed (SkipMatching is always off: every instance must re-pull);
   * min-healthy DEFAULT_MIN_HEALTHY_PERCENTAGE unless given.
   */
  preferences?: RefreshPreferences;
  /**
   * The launch template version to go back to (the deploy's previousTemplateVersion). A new refresh then carries it
   * as its DesiredConfiguration, so the group itself returns to it, not only the boot tag.
   */
  launchTemplateVersion?: string;
  timeoutMs: number;
  /** A URL through the load balancer (e.g. `<lb>/version`) that must answer healthily, with `expectedVersion` if set. */
  verify?: { url: string; expectedVersion?: string; intervalMs?: number };
  /** undefined: verify when the group has target groups. */
  verifyTargetGroups?: boolean;
}

export interface AsgRollbackResult {
  /** `native`: RollbackInstanceRefresh of the running refresh; `refresh`: a new refresh to the previous image. */
  method: 'native' | 'refresh';
  refreshId: string;
  status: string;
  tagMoved: boolean;
  targets?: TargetState[];
  health?: HealthResult;
}

const NATIVE_ROLLBACK_FROM = new Set(['Pending', 'InProgress', 'Baking']);

/**
 * Rolls an ASG back. The boot tag goes back to the previous digest first, so whatever launches next pulls the old
 * image. Then, while a refresh with a DesiredConfiguration is still running, AWS's own RollbackInstanceRefresh;
 * otherwise (no DesiredConfiguration, $Latest/$Default, or nothing running) a new refresh replaces every instance.
 * Waits for it, checks target health, and probes the load balancer until the old version answers on every instance.
 */
export async function rollbackAsg(deps: AsgDeps, options: AsgRollbackOptions): Promise<AsgRollbackResult> {
  const { groupName, bootTag } = options;
  const logger = deps.logger;
  const started = deps.clock.now();
  const remaining = () => Math.max(1_000, options.timeoutMs - (deps.clock.now() - started));
  const group = await describeGroup(deps.autoscaling, groupName);

  let tagMoved = false;
  if (bootTag && options.previousDigest) {
    const current = await bootTag.current();
    if (current !== options.previousDigest) {
      await bootTag.moveTo(options.previousDigest);
      tagMoved = true;
      logger.info(`Moved the boot tag ${bootTag.repository}:${bootTag.tag} back to ${options.previousDigest}.`);
    }
  }

  let method: AsgRollbackResult['method'] = 'refresh';
  let refreshId: string | undefined;
  const active = await activeRefresh(deps.autoscaling, groupName);
  if (active?.status === 'RollbackInProgress') {
    logger.info(`Instance refresh ${active.id} of ${groupName} is already rolling back; waiting for it.`);
    method = 'native';
    refreshId = active.id;
  } else if (active?.hasDesiredConfiguration && NATIVE_ROLLBACK_FROM.has(active.status)) {
    try {
      await rollbackRefresh(deps.autoscaling, groupName);
      method = 'native';
      refreshId = active.id;
      logger.info(`Rolling back instance refresh ${active.id} of ${groupName} (RollbackInstanceRefresh).`);
    } catch (error) {
      if (!(error instanceof RollbackRefusedError)) throw error;
      logger.warning(`${error.message}. Replacing the instances with a new refresh instead.`);
    }
  }
  if (method === 'refresh') {
    if (active) await clearTheWay(deps, groupName, 'cancel', remaining());
    const request = refreshRequest(
      group,
      {
        minHealthyPercentage: DEFAULT_MIN_HEALTHY_PERCENTAGE,
        ...options.preferences,
        skipMatching: false,
        autoRollback: false,
      },
      options.launchTemplateVersion,
    );
    refreshId = await startWhenFree(deps, request, 'cancel', remaining());
    logger.info(
      `Started instance refresh ${refreshId} of ${groupName} to relaunch every instance on the previous image.`,
    );
  }

  const id = refreshId as string;
  const refresh = await waitForRefresh(deps, groupName, id, { timeoutMs: remaining() });
  const expected = method === 'native' ? 'RollbackSuccessful' : TERMINAL_SUCCESS;
  if (refresh.status !== expected) {
    throw new DeployError(
      `The rollback of ${groupName} did not complete: instance refresh ${id} ended ${describeProgress(refresh)}.` +
        (refresh.rollback?.reason ? ` Rollback reason: ${refresh.rollback.reason}.` : ''),
    );
  }
  const result: AsgRollbackResult = { method, refreshId: id, status: refresh.status, tagMoved };
  if ((options.verifyTargetGroups ?? group.targetGroupArns.length > 0) && group.targetGroupArns.length > 0) {
    result.targets = await verifyTargetGroups(deps, group, Math.min(remaining(), 10 * 60_000));
  }
  if (options.verify) {
    // Round robin: twice the group's size in a row means every instance answered at least once.
    result.health = await waitUntilHealthy({
      url: options.verify.url,
      ...(options.verify.expectedVersion ? { expectedVersion: options.verify.expectedVersion } : {}),
      consecutiveSuccesses: Math.max(3, 2 * group.desiredCapacity),
      intervalMs: options.verify.intervalMs ?? 1_000,
      timeoutMs: Math.min(remaining(), 5 * 60_000),
      clock: deps.clock,
      logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  }
  logger.info(
    `${groupName} is rolled back (${method === 'native' ? 'RollbackInstanceRefresh' : 'new refresh'} ${id}).`,
  );
  return result;
}
