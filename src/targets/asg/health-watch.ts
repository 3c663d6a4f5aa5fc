import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { GroupInfo } from '../../aws/autoscaling';
import { describeTarget, type TargetState, targetHealth } from '../../aws/elbv2';
import type { Clock } from '../../core/clock';
import { DeployError } from '../../core/errors';
import type { Logger } from '../../core/logger';

/** A replacement instance the load balancer still calls unhealthy after the group's health check grace period. */
export class ReplacementUnhealthyError extends DeployError {
  override readonly name = 'ReplacementUnhealthyError';
  constructor(
    message: string,
    readonly target: TargetState,
  ) {
    super(message);
  }
}

/** What the log says about the group's health check type, and whether the refresh must be watched by us. */
export function describeHealthCheckMode(group: GroupInfo): { watch: boolean; line: string; warn: boolean } {
  if (group.healthCheckType === 'ELB') {
    return {
      watch: false,
      warn: false,
      line: `${group.name} uses ELB health checks: the instance refresh itself waits for each replacement to pass its target group's health check.`,
    };
  }
  if (group.targetGroupArns.length === 0) {
    return {
      watch: false,
      warn: true,
      line:
        `${group.name} uses ${group.healthCheckType} health checks and has no target groups: the instance refresh ` +
        'only sees that instances run, not that the application answers. Verify the new version (health-url).',
    };
  }
  return {
    watch: true,
    warn: true,
    line:
      `${group.name} uses ${group.healthCheckType} health checks: AWS counts a replacement healthy as soon as it ` +
      'runs, so a broken image would replace every instance and the refresh would still succeed (neither ' +
      'AutoRollback nor MinHealthyPercentage stops it). Watching the target health of each replacement instead, ' +
      'and stopping the refresh when one stays unhealthy past the grace period ' +
      `(${group.healthCheckGracePeriod}s). Recommended: aws autoscaling update-auto-scaling-group ` +
      `--auto-scaling-group-name ${group.name} --health-check-type ELB`,
  };
}

/**
 * A look at the target health of the instances a refresh launched (every target that was not in the group when it
 * started), for groups on EC2 health checks. Throws ReplacementUnhealthyError when one is `unhealthy` (the load
 * balancer has already applied its own unhealthy threshold) and was first seen at least the grace period ago, since
 * an instance still booting is allowed to fail its checks for that long. Other errors (throttling) are left to the
 * caller's poller.
 */
export function replacementWatch(
  elbv2: ElasticLoadBalancingV2Client,
  group: GroupInfo,
  clock: Clock,
  logger: Logger,
): () => Promise<void> {
  const before = new Set(group.instances.map((i) => i.id));
  const firstSeen = new Map<string, number>();
  const graceMs = group.healthCheckGracePeriod * 1000;
  return async () => {
    const now = clock.now();
    for (const target of await targetHealth(elbv2, group.targetGroupArns)) {
      if (before.has(target.id)) continue;
      const seen = firstSeen.get(target.id) ?? now;
      if (!firstSeen.has(target.id)) {
        firstSeen.set(target.id, now);
        logger.info(`Replacement ${target.id} registered with the load balancer (${target.state}).`);
      }
      if (target.state === 'unhealthy' && now - seen >= graceMs) {
        throw new ReplacementUnhealthyError(
          `Replacement instance ${describeTarget(target)} past the health check grace period ` +
            `(${group.healthCheckGracePeriod}s) of ${group.name}.`,
          target,
        );
      }
    }
  };
}
