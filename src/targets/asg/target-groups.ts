import type { GroupInfo } from '../../aws/autoscaling';
import { describeTarget, type TargetState, targetHealth } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { PollTimeoutError, poll } from '../../core/poller';
import { type AsgDeps, pollSettings } from './refresh';

/** After a successful refresh: every target of the group's target groups is healthy, or the unhealthy ones, listed. */
export async function verifyTargetGroups(deps: AsgDeps, group: GroupInfo, timeoutMs: number): Promise<TargetState[]> {
  if (!deps.elbv2) throw new DeployError('Verifying target groups needs an Elastic Load Balancing v2 client.');
  const elbv2 = deps.elbv2;
  let last: TargetState[] = [];
  let unhealthyLooks = 0;
  try {
    return await poll({
      what: `Target health of ${group.name}`,
      timeoutMs,
      ...pollSettings(deps),
      check: async () => {
        last = await targetHealth(elbv2, group.targetGroupArns);
        const bad = last.filter((t) => t.state !== 'healthy');
        if (last.length > 0 && bad.length === 0) return { done: true, value: last };
        // A target just registered is `initial`, and draining ones leave: only persistent unhealthiness is a verdict.
        unhealthyLooks = bad.some((t) => t.state === 'unhealthy') ? unhealthyLooks + 1 : 0;
        if (unhealthyLooks >= 3) throw targetError(group, bad);
        return { done: false, progress: `${last.length - bad.length} of ${last.length} targets healthy` };
      },
    });
  } catch (error) {
    if (error instanceof PollTimeoutError) {
      throw targetError(
        group,
        last.filter((t) => t.state !== 'healthy'),
      );
    }
    throw error;
  }
}

function targetError(group: GroupInfo, bad: TargetState[]): DeployError {
  if (bad.length === 0) {
    return new DeployError(`The target groups of ${group.name} have no registered targets after the refresh.`);
  }
  return new DeployError(
    `The instance refresh of ${group.name} finished, but ${bad.length} load balancer target(s) are not healthy: ` +
      `${bad.map(describeTarget).join('; ')}. Check the application's health check path and logs on those instances.`,
  );
}
