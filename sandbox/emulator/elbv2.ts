import type { AutoScalingEmulator, EmulatedInstance } from './autoscaling';
import { AwsFault } from './protocol';
import type { ServiceDefinition } from './server';

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/**
 * Elastic Load Balancing v2, read-only, over the Auto Scaling emulator's target groups: an instance's target health
 * is what the group's load balancer sees when it probes GET /health.
 */
export class Elbv2Emulator {
  constructor(private readonly autoscaling: AutoScalingEmulator) {}

  definition(): ServiceDefinition {
    return {
      name: 'elbv2',
      protocol: 'query',
      version: '2015-12-01',
      xmlns: ELBV2_XMLNS,
      operations: {
        DescribeTargetGroups: (p) => this.describeTargetGroups(p),
        DescribeTargetHealth: (p) => this.describeTargetHealth(p),
      },
    };
  }

  private targetGroup(arn: string) {
    const tg = this.autoscaling.targetGroups.get(arn);
    if (!tg) throw new AwsFault('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return tg;
  }

  private describeTargetGroups(p: Record<string, unknown>) {
    const arns = p.TargetGroupArns as string[] | undefined;
    const names = p.Names as string[] | undefined;
    let groups = [...this.autoscaling.targetGroups.values()];
    if (arns) groups = arns.map((arn) => this.targetGroup(arn));
    if (names) {
      groups = names.map((name) => {
        const tg = groups.find((g) => g.name === name);
        if (!tg) throw new AwsFault('TargetGroupNotFound', `One or more target groups not found`);
        return tg;
      });
    }
    return {
      TargetGroups: groups.map((tg) => ({
        TargetGroupArn: tg.arn,
        TargetGroupName: tg.name,
        Protocol: 'HTTP',
        Port: tg.port,
        VpcId: 'vpc-0sandbox',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: 'traffic-port',
        HealthCheckEnabled: true,
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: [],
        TargetType: 'instance',
        ProtocolVersion: 'HTTP1',
        IpAddressType: 'ipv4',
      })),
    };
  }

  private describeTargetHealth(p: Record<string, unknown>) {
    const arn = p.TargetGroupArn;
    if (typeof arn !== 'string' || arn === '') {
      throw new AwsFault('ValidationError', "1 validation error detected: Value null at 'targetGroupArn'");
    }
    const tg = this.targetGroup(arn);
    const wanted = (p.Targets as { Id: string }[] | undefined)?.map((t) => t.Id);
    const instances = this.autoscaling
      .liveInstances(tg.groupName)
      .filter((i) => i.lifecycle !== 'Standby' && (!wanted || wanted.includes(i.id)));
    return {
      TargetHealthDescriptions: instances.map((i) => ({
        Target: { Id: i.id, Port: tg.port },
        HealthCheckPort: String(tg.port),
        TargetHealth: health(i),
      })),
    };
  }
}

function health(instance: EmulatedInstance) {
  if (instance.lifecycle === 'Terminating') {
    return {
      State: 'draining',
      Reason: 'Target.DeregistrationInProgress',
      Description: 'Target deregistration is in progress',
    };
  }
  if (instance.passing) return { State: 'healthy' };
  if (instance.lifecycle === 'Pending' || (!instance.probeFailure && instance.health === 'Healthy')) {
    return {
      State: 'initial',
      Reason: 'Elb.RegistrationInProgress',
      Description: 'Target registration is in progress',
    };
  }
  return {
    State: 'unhealthy',
    Reason: instance.probeFailure?.reason ?? 'Target.FailedHealthChecks',
    Description: instance.probeFailure?.description ?? 'Health checks failed',
  };
}
