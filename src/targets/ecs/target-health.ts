import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeTarget, targetHealth } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { type PollDelays, poll } from '../../core/poller';
import type { EcsDeps } from './deployment';

/** How long target health may take to settle after ECS reports the deployment done (draining, a last probe). */
const SETTLE_MS = 120_000;

/**
 * After ECS reports the deployment done: every target of the service's target groups that is not on its way out
 * is healthy, and there is at least one. A target that stays unhealthy fails the deploy with what the load balancer
 * said about it.
 */
export async function checkTargetHealth(
  deps: EcsDeps & { pollDelays?: PollDelays },
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArns: string[],
  label: string,
): Promise<string> {
  let last = '';
  try {
    return await poll<string>({
      what: `target health of ${label}`,
      timeoutMs: SETTLE_MS,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.pollDelays ?? {}),
      check: async () => {
        const targets = (await targetHealth(elbv2, targetGroupArns)).filter(
          (t) => !['draining', 'unused', 'unhealthy.draining'].includes(t.state),
        );
        const healthy = targets.filter((t) => t.state === 'healthy');
        const bad = targets.filter((t) => t.state !== 'healthy');
        last = bad.map(describeTarget).join('; ') || (healthy.length === 0 ? 'no registered targets' : '');
        if (healthy.length > 0 && bad.length === 0)
          return {
            done: true,
            value: `${healthy.length} healthy target(s) in ${targetGroupArns.length} target group(s)`,
          };
        return { done: false, progress: `${healthy.length} healthy; ${last}` };
      },
    });
  } catch (error) {
    if (deps.signal?.aborted) throw error;
    throw new DeployError(
      `ECS reports the deployment of ${label} done, but its load balancer targets are not all healthy: ${last || (error as Error).message}`,
      { cause: error },
    );
  }
}
