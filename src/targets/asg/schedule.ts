import { describeGroup, resizeGroup, tagGroup, untagGroup } from '../../aws/autoscaling';
import { DeployError } from '../../core/errors';
import { pauseTags, readPause } from '../../core/pause-tags';
import { poll } from '../../core/poller';
import type { PauseState, Scheduler } from '../target';
import { type AsgDeps, pollSettings } from './refresh';
import { verifyTargetGroups } from './target-groups';

const GONE = new Set(['Terminated', 'Terminating', 'Terminating:Wait', 'Terminating:Proceed']);

/**
 * MinSize and DesiredCapacity saved as `aws-deploy-kit:paused-min` / `paused-desired`, then both set to 0 (MaxSize is
 * left: it bounds the resume, not the pause). Resume puts both back and waits for the instances to be InService and
 * their targets healthy.
 */
export function asgScheduler(deps: AsgDeps, asgName: string): Scheduler {
  const label = `Auto Scaling group ${asgName}`;
  return {
    async inspect(): Promise<PauseState> {
      const group = await describeGroup(deps.autoscaling, asgName);
      const saved = readPause(group.tags, label);
      const inService = group.instances.filter((i) => i.lifecycleState === 'InService').length;
      return {
        label,
        ...(saved.paused ? { paused: 'ours' as const } : {}),
        keepRunning: saved.keepRunning,
        stopped: group.desiredCapacity === 0,
        saved: saved.counts,
        ...(saved.at ? { pausedAt: saved.at } : {}),
        tagKeys: saved.keys,
        now: `min ${group.minSize}, desired ${group.desiredCapacity}, ${inService} InService`,
      };
    },

    async pause(_state, timeoutMs) {
      const group = await describeGroup(deps.autoscaling, asgName);
      const counts = { min: group.minSize, desired: group.desiredCapacity };
      await tagGroup(deps.autoscaling, asgName, pauseTags(counts, new Date(deps.clock.now())));
      await resizeGroup(deps.autoscaling, asgName, { minSize: 0, desiredCapacity: 0 });
      await waitForInstances(deps, asgName, 0, timeoutMs);
      return `min ${counts.min} → 0, desired ${counts.desired} → 0`;
    },

    async resume(state, timeoutMs) {
      const { min, desired } = state.saved;
      if (min === undefined || desired === undefined) {
        throw new DeployError(
          `${label} has aws-deploy-kit:paused- tags but not both paused-min and paused-desired: resume cannot know ` +
            'what to restore. Set both tags to the sizes to restore, or resize the group by hand and remove the tags.',
        );
      }
      await resizeGroup(deps.autoscaling, asgName, { minSize: min, desiredCapacity: desired });
      await untagGroup(deps.autoscaling, asgName, state.tagKeys);
      const group = await waitForInstances(deps, asgName, desired, timeoutMs);
      if (group.targetGroupArns.length > 0 && desired > 0) {
        const targets = await verifyTargetGroups(deps, group, timeoutMs);
        deps.logger.info(`${targets.length} healthy target(s) in ${group.targetGroupArns.length} target group(s).`);
      }
      return { restored: `min 0 → ${min}, desired 0 → ${desired}` };
    },
  };
}

/** Until `count` instances are InService and none other is on its way in or out. */
async function waitForInstances(deps: AsgDeps, asgName: string, count: number, timeoutMs: number) {
  return poll({
    what: `Auto Scaling group ${asgName} to have ${count} instance(s) InService`,
    timeoutMs,
    ...pollSettings(deps),
    check: async () => {
      const group = await describeGroup(deps.autoscaling, asgName);
      const live = group.instances.filter((i) => !GONE.has(i.lifecycleState));
      const gone = group.instances.length - live.length;
      const inService = live.filter((i) => i.lifecycleState === 'InService').length;
      if (inService === count && live.length === count && gone === 0) return { done: true, value: group };
      return {
        done: false,
        progress: `${inService} InService, ${live.length - inService} starting, ${gone} terminating`,
      };
    },
  });
}
