import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeEcsServiceWithTags, scaleEcsService, tagEcsResource, untagEcsResource } from '../../aws/ecs';
import { DeployError } from '../../core/errors';
import { pauseTags, readPause, tagMap } from '../../core/pause-tags';
import { poll } from '../../core/poller';
import type { PauseState, Scheduler } from '../target';
import type { EcsDeps } from './deployment';
import { checkTargetHealth } from './target-health';

/** The ECS service behind a target: a plain service, or the one an Express service runs on. */
export interface EcsServiceRef {
  cluster: string;
  service: string;
  label: string;
  /** The URL the platform serves it at (Express), for a health path. */
  url?: string;
}

/**
 * Pause: the desired count saved as `aws-deploy-kit:paused-desired`, then set to 0 (UpdateService with nothing else,
 * so no new deployment and no new revision). Resume: the saved count back, then wait until that many tasks run and
 * the target groups say healthy.
 */
export function ecsScheduler(
  deps: EcsDeps,
  resolve: () => Promise<EcsServiceRef>,
  elbv2: () => ElasticLoadBalancingV2Client,
): Scheduler {
  let ref: EcsServiceRef | undefined;
  let arn = '';
  const opened = async () => {
    ref ??= await resolve();
    return ref;
  };
  return {
    async inspect(): Promise<PauseState> {
      const { cluster, service, label } = await opened();
      const found = await describeEcsServiceWithTags(deps.client, cluster, service);
      arn = found.serviceArn ?? service;
      const saved = readPause(tagMap(found.tags), label);
      const desired = found.desiredCount ?? 0;
      return {
        label,
        ...(saved.paused ? { paused: 'ours' as const } : {}),
        keepRunning: saved.keepRunning,
        stopped: desired === 0,
        saved: saved.counts,
        ...(saved.at ? { pausedAt: saved.at } : {}),
        tagKeys: saved.keys,
        now: `desired count ${desired}, ${found.runningCount ?? 0} running`,
      };
    },

    async pause(_state, timeoutMs) {
      const { cluster, service, label } = await opened();
      const found = await describeEcsServiceWithTags(deps.client, cluster, service);
      const desired = found.desiredCount ?? 0;
      // Saved before the change: a pause cut short after the tag still knows what to restore.
      await tagEcsResource(
        deps.client,
        arn || (found.serviceArn ?? service),
        pauseTags({ desired }, new Date(deps.clock.now())),
      );
      await scaleEcsService(deps.client, cluster, service, 0);
      await waitForCount(deps, cluster, service, label, 0, timeoutMs);
      return `desired count ${desired} → 0`;
    },

    async resume(state, timeoutMs) {
      const { cluster, service, label, url } = await opened();
      const desired = state.saved.desired;
      if (desired === undefined) {
        throw new DeployError(
          `${label} has aws-deploy-kit:paused- tags but no paused-desired count: resume cannot know how many tasks ` +
            'to start. Set the tag aws-deploy-kit:paused-desired to the count (or scale it by hand and remove the tags).',
        );
      }
      const scaled = await scaleEcsService(deps.client, cluster, service, desired);
      // Removed once ECS has the count: a later pause must save this count, not the stale one.
      await untagEcsResource(deps.client, scaled.serviceArn ?? arn, state.tagKeys);
      await waitForCount(deps, cluster, service, label, desired, timeoutMs);
      const targetGroups = (scaled.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((a): a is string => !!a);
      if (targetGroups.length > 0 && desired > 0) {
        deps.logger.info(await checkTargetHealth(deps, elbv2(), targetGroups, label));
      }
      return { restored: `desired count 0 → ${desired}`, ...(url ? { serviceUrl: url } : {}) };
    },
  };
}

/** Until exactly `count` tasks run and none is starting or stopping. */
async function waitForCount(
  deps: EcsDeps,
  cluster: string,
  service: string,
  label: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  await poll({
    what: `${label} to run ${count} task(s)`,
    timeoutMs,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.pollDelays ?? {}),
    check: async () => {
      const found = await describeEcsServiceWithTags(deps.client, cluster, service);
      const running = found.runningCount ?? 0;
      const pending = found.pendingCount ?? 0;
      if (running === count && pending === 0) return { done: true, value: undefined };
      return { done: false, progress: `${running} running, ${pending} pending, ${count} wanted` };
    },
  });
}
