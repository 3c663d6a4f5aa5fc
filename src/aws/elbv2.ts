import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientSettings } from './clients';

export function elbv2Client(region: string, env: NodeJS.ProcessEnv = process.env): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientSettings(region, env));
}

export interface TargetState {
  targetGroupArn: string;
  id: string;
  port?: number;
  /** initial | healthy | unhealthy | unused | draining | unavailable | unhealthy.draining */
  state: string;
  reason?: string;
  description?: string;
}

/** The health of every target of the target groups. Errors are left to the caller (the poller retries transients). */
export async function targetHealth(
  client: ElasticLoadBalancingV2Client,
  targetGroupArns: string[],
): Promise<TargetState[]> {
  const all: TargetState[] = [];
  for (const arn of targetGroupArns) {
    const out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    for (const d of out.TargetHealthDescriptions ?? []) {
      all.push({
        targetGroupArn: arn,
        id: d.Target?.Id ?? '',
        ...(d.Target?.Port !== undefined ? { port: d.Target.Port } : {}),
        state: d.TargetHealth?.State ?? 'unavailable',
        ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
        ...(d.TargetHealth?.Description ? { description: d.TargetHealth.Description } : {}),
      });
    }
  }
  return all;
}

/** "i-0abc (Target.ResponseCodeMismatch: Health checks failed with these codes: [404])" */
export function describeTarget(target: TargetState): string {
  const why = [target.reason, target.description].filter(Boolean).join(': ');
  const name = target.targetGroupArn.split(':').pop()?.split('/')[1] ?? target.targetGroupArn;
  return `${target.id} in ${name} is ${target.state}${why ? ` (${why})` : ''}`;
}
