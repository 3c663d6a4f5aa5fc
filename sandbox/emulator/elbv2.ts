import type { AutoScalingEmulator, EmulatedInstance } from './autoscaling';
import { AwsFault } from './protocol';
import type { ServiceDefinition } from './server';

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** A target group as ELBv2 describes it, whoever owns its targets. */
export interface ElbTargetGroup {
  arn: string;
  name: string;
  port: number;
  healthCheckPath: string;
  targetType: 'instance' | 'ip';
}

export interface ElbTargetHealth {
  Target: { Id: string; Port: number };
  HealthCheckPort: string;
  TargetHealth: { State: string; Reason?: string; Description?: string };
}

/** Something whose target groups ELBv2 serves: the Auto Scaling emulator's groups, the ECS emulator's services. */
export interface TargetGroupOwner {
  targetGroupList(): ElbTargetGroup[];
  /** The targets of one of its groups, optionally only the ids asked for. */
  targetHealthOf(arn: string, ids?: string[]): ElbTargetHealth[];
}

/** The Auto Scaling emulator as a target group owner: its instances are the targets. */
export function autoScalingTargets(autoscaling: AutoScalingEmulator): TargetGroupOwner {
  return {
    targetGroupList: () =>
      [...autoscaling.targetGroups.values()].map((tg) => ({
        arn: tg.arn,
        name: tg.name,
        port: tg.port,
        healthCheckPath: '/health',
        targetType: 'instance' as const,
      })),
    targetHealthOf: (arn, wanted) => {
      const tg = autoscaling.targetGroups.get(arn)!;
      return autoscaling
        .liveInstances(tg.groupName)
        .filter((i) => i.lifecycle !== 'Standby' && (!wanted || wanted.includes(i.id)))
        .map((i) => ({
          Target: { Id: i.id, Port: tg.port },
          HealthCheckPort: String(tg.port),
          TargetHealth: health(i),
        }));
    },
  };
}

/**
 * Elastic Load Balancing v2, read-only, over the target groups of its owners (the Auto Scaling emulator's groups,
 * the ECS emulator's services): a target's health is what the group's load balancer sees when it probes its health
 * check path.
 */
export class Elbv2Emulator {
  private readonly owners: TargetGroupOwner[];

  constructor(...owners: (AutoScalingEmulator | TargetGroupOwner)[]) {
    this.owners = owners.map((o) => ('targetGroupList' in o ? o : autoScalingTargets(o)));
  }

  /** Adds an owner of target groups (e.g. the ECS emulator). */
  addOwner(owner: TargetGroupOwner): void {
    this.owners.push(owner);
  }

  private allGroups(): { tg: ElbTargetGroup; owner: TargetGroupOwner }[] {
    return this.owners.flatMap((owner) => owner.targetGroupList().map((tg) => ({ tg, owner })));
  }

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
    const found = this.allGroups().find((g) => g.tg.arn === arn);
    if (!found) throw new AwsFault('TargetGroupNotFound', `Target groups '${arn}' not found`);
    return found;
  }

  private describeTargetGroups(p: Record<string, unknown>) {
    const arns = p.TargetGroupArns as string[] | undefined;
    const names = p.Names as string[] | undefined;
    let groups = this.allGroups().map((g) => g.tg);
    if (arns) groups = arns.map((arn) => this.targetGroup(arn).tg);
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
        HealthCheckPath: tg.healthCheckPath,
        HealthCheckIntervalSeconds: 30,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 5,
        UnhealthyThresholdCount: 2,
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: [],
        TargetType: tg.targetType,
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
    const { owner } = this.targetGroup(arn);
    const wanted = (p.Targets as { Id: string }[] | undefined)?.map((t) => t.Id);
    return { TargetHealthDescriptions: owner.targetHealthOf(arn, wanted) };
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
