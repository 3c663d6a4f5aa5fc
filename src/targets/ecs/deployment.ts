import type {
  ECSClient,
  ServiceDeployment,
  ServiceDeploymentBrief,
  ServiceDeploymentStatus,
} from '@aws-sdk/client-ecs';
import {
  describeEcsService,
  describeServiceDeployment,
  isUnsupportedApi,
  listServiceDeployments,
  revisionTaskDefinitions,
} from '../../aws/ecs';
import type { Clock } from '../../core/clock';
import type { Logger } from '../../core/logger';
import { type PollDelays, poll } from '../../core/poller';
import { revisionName } from './task-definition';

/**
 * An ECS deployment takes at least the time to start a task and pass its first health checks: no look before 5 s
 * is worth its call. The end is still noticed at most 10 s late.
 */
export const ECS_POLL_DELAYS: Readonly<PollDelays> = { minDelayMs: 5_000, maxDelayMs: 10_000 };

export interface EcsDeps {
  client: ECSClient;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  pollDelays?: PollDelays;
}

/** Where a service deployment stands, in the toolkit's terms. ECS's own rollback is a failed deploy, never a success. */
export type Verdict = 'in-progress' | 'succeeded' | 'rolled-back' | 'rollback-failed' | 'stopped';

/** What a deployment rolls out: the task definition (always known), and the service revision when ECS said it. */
export interface RolloutOf {
  taskDefinitionArn: string;
  revisionArn?: string;
}

export interface DeploymentState {
  /** The service deployment ARN; undefined when followed through DescribeServices (no service-deployments API). */
  arn?: string;
  /** The ServiceDeploymentStatus, or `rolloutState` in the fallback. */
  status: string;
  verdict: Verdict;
  /** "IN_PROGRESS, SCALE_UP: 2/3 tasks of web:7 running, 1 failed", for progress lines. */
  progress: string;
  /** Why it ended the way it did, in words (circuit breaker, alarms, ECS's rollback reason). */
  reason?: string;
}

/** The statuses of a deployment that has not ended. A rollback in progress counts: its end is still to come. */
export const ACTIVE_STATUSES: ServiceDeploymentStatus[] = [
  'PENDING',
  'IN_PROGRESS',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
];

/** The statuses in which ECS is already undoing a deployment: never stopped by on-busy `stop`. */
export const ROLLING_BACK: readonly string[] = ['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'];

function verdictOf(status: string | undefined): Verdict {
  switch (status) {
    case 'SUCCESSFUL':
      return 'succeeded';
    case 'ROLLBACK_SUCCESSFUL':
      return 'rolled-back';
    case 'ROLLBACK_FAILED':
      return 'rollback-failed';
    case 'STOPPED':
      return 'stopped';
    default:
      return 'in-progress';
  }
}

/** ECS's verdicts (circuit breaker, alarms, its rollback) in one sentence. */
export function reasonOf(deployment: ServiceDeployment): string | undefined {
  const parts: string[] = [];
  const breaker = deployment.deploymentCircuitBreaker;
  if (breaker?.status === 'TRIGGERED') {
    parts.push(
      `the deployment circuit breaker tripped: ${breaker.failureCount ?? '?'} tasks failed to start or pass their ` +
        `health checks (threshold ${breaker.threshold ?? '?'})`,
    );
  }
  const alarms = deployment.alarms?.triggeredAlarmNames ?? [];
  if (alarms.length > 0)
    parts.push(`CloudWatch alarm${alarms.length > 1 ? 's' : ''} ${alarms.join(', ')} went into ALARM`);
  if (deployment.rollback?.reason) parts.push(`ECS rolled back: ${deployment.rollback.reason}`);
  if (parts.length === 0 && deployment.statusReason) parts.push(deployment.statusReason);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

export function stateOf(deployment: ServiceDeployment, taskDefinitionArn: string): DeploymentState {
  const status = deployment.status ?? 'PENDING';
  const target = deployment.targetServiceRevision;
  const failed = deployment.deploymentCircuitBreaker?.failureCount ?? 0;
  const counts = target
    ? `: ${target.runningTaskCount ?? 0}/${target.requestedTaskCount ?? 0} tasks of ${revisionName(taskDefinitionArn)} running` +
      (target.pendingTaskCount ? `, ${target.pendingTaskCount} pending` : '') +
      (failed ? `, ${failed} failed` : '')
    : '';
  const reason = reasonOf(deployment);
  return {
    ...(deployment.serviceDeploymentArn ? { arn: deployment.serviceDeploymentArn } : {}),
    status,
    verdict: verdictOf(status),
    progress: `${status}${deployment.lifecycleStage ? `, ${deployment.lifecycleStage}` : ''}${counts}`,
    ...(reason ? { reason } : {}),
  };
}

/**
 * Follows one service's deployments for one run: through the service-deployments API where ECS has it, else (said
 * once in the log) through DescribeServices' `deployments[].rolloutState`.
 */
export class DeploymentTracker {
  /** False once ECS answered that it has no service-deployments API. */
  private api = true;
  /** Task definitions whose rollout DescribeServices has listed (the fallback). */
  private readonly seenRollouts = new Set<string>();

  constructor(
    private readonly deps: EcsDeps,
    readonly cluster: string,
    readonly service: string,
  ) {}

  get hasDeploymentsApi(): boolean {
    return this.api;
  }

  private fallBack(error: unknown): void {
    if (!isUnsupportedApi(error) || !this.api) throw error;
    this.api = false;
    this.deps.logger.info(
      `ECS answered ${(error as Error).message.replace(/^Could not /, 'that it could not ')}: following the ` +
        "service's deployments[] rolloutState instead of its service deployments.",
    );
  }

  /** The deployments of the service that have not ended, newest first (in the fallback: [] or one stand-in). */
  async active(): Promise<DeploymentState[]> {
    if (this.api) {
      try {
        const briefs = await listServiceDeployments(this.deps.client, this.cluster, this.service, {
          status: ACTIVE_STATUSES,
        });
        return briefs.map((brief) => ({
          ...(brief.serviceDeploymentArn ? { arn: brief.serviceDeploymentArn } : {}),
          status: brief.status ?? 'PENDING',
          verdict: 'in-progress' as const,
          progress: `${brief.status ?? 'PENDING'} (${brief.serviceDeploymentArn ?? 'a deployment'})`,
        }));
      } catch (error) {
        this.fallBack(error);
      }
    }
    const service = await describeEcsService(this.deps.client, this.cluster, this.service);
    const deployments = service.deployments ?? [];
    // More than one deployment means one is still replacing another, whatever rolloutState (which ECS gives only
    // with the circuit breaker) says.
    const busy = deployments.length > 1 || deployments.some((d) => d.rolloutState === 'IN_PROGRESS');
    return busy
      ? deployments
          .filter((d) => d.status === 'PRIMARY')
          .map((d) => ({
            status: d.rolloutState ?? 'IN_PROGRESS',
            verdict: 'in-progress' as const,
            progress: `rollout of ${revisionName(d.taskDefinition)} ${d.rolloutState ?? 'IN_PROGRESS'}`,
          }))
      : [];
  }

  /**
   * The ARN of the deployment that rolls out `ours` (its service revision, or its task definition), started at or
   * after `since`; undefined if ECS does not list it yet.
   */
  async find(ours: RolloutOf, since: Date): Promise<ServiceDeploymentBrief | undefined> {
    if (!this.api) return undefined;
    try {
      // A minute of slack: the runner's clock and AWS's need not agree.
      const listed = await listServiceDeployments(this.deps.client, this.cluster, this.service, {
        after: new Date(since.getTime() - 60_000),
      });
      // Newest first: an earlier deployment of the same revision within the minute of slack is not ours.
      const briefs = [...listed].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
      if (ours.revisionArn) return briefs.find((b) => b.targetServiceRevisionArn === ours.revisionArn);
      const revisions = briefs.map((b) => b.targetServiceRevisionArn).filter((arn): arn is string => !!arn);
      const taskDefinitions = await revisionTaskDefinitions(this.deps.client, revisions);
      return briefs.find(
        (b) => b.targetServiceRevisionArn && taskDefinitions.get(b.targetServiceRevisionArn) === ours.taskDefinitionArn,
      );
    } catch (error) {
      this.fallBack(error);
      return undefined;
    }
  }

  /** One look at the deployment (by ARN), or at the service's rollout of `taskDefinitionArn` in the fallback. */
  async look(arn: string | undefined, taskDefinitionArn: string, signal?: AbortSignal): Promise<DeploymentState> {
    if (arn) {
      const deployment = await describeServiceDeployment(this.deps.client, arn, signal ? { abortSignal: signal } : {});
      return stateOf(deployment, taskDefinitionArn);
    }
    return this.lookAtRollout(taskDefinitionArn, signal);
  }

  private async lookAtRollout(taskDefinitionArn: string, signal?: AbortSignal): Promise<DeploymentState> {
    const service = await describeEcsService(
      this.deps.client,
      this.cluster,
      this.service,
      signal ? { abortSignal: signal } : {},
    );
    const deployments = service.deployments ?? [];
    const ours = deployments.find((d) => d.taskDefinition === taskDefinitionArn);
    const primary = deployments.find((d) => d.status === 'PRIMARY');
    // DescribeServices may not list a deployment the moment UpdateService returns: only one seen and then gone (or
    // replaced as primary) was rolled back.
    if (ours) this.seenRollouts.add(taskDefinitionArn);
    else if (!this.seenRollouts.has(taskDefinitionArn))
      return {
        status: 'PENDING',
        verdict: 'in-progress',
        progress: `waiting for ECS to list ${revisionName(taskDefinitionArn)}`,
      };
    if (!ours || (ours.status !== 'PRIMARY' && primary && primary.taskDefinition !== taskDefinitionArn)) {
      // Gone, or no longer primary: the circuit breaker (or someone) put another revision back.
      const reason = service.events?.find((e) =>
        /circuit breaker|rolling back|rolled back/i.test(e.message ?? ''),
      )?.message;
      return {
        status: ours?.rolloutState ?? 'FAILED',
        verdict: primary && primary.taskDefinition !== taskDefinitionArn ? 'rolled-back' : 'stopped',
        progress: `rollout of ${revisionName(taskDefinitionArn)} replaced by ${revisionName(primary?.taskDefinition)}`,
        ...(reason || ours?.rolloutStateReason ? { reason: reason ?? (ours?.rolloutStateReason as string) } : {}),
      };
    }
    const state = ours.rolloutState ?? 'IN_PROGRESS';
    const counts = `: ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0} tasks of ${revisionName(taskDefinitionArn)} running${ours.failedTasks ? `, ${ours.failedTasks} failed` : ''}`;
    return {
      status: state,
      verdict: state === 'COMPLETED' ? 'succeeded' : state === 'FAILED' ? 'stopped' : 'in-progress',
      progress: `rollout ${state}${counts}`,
      ...(ours.rolloutStateReason && state !== 'IN_PROGRESS' ? { reason: ours.rolloutStateReason } : {}),
    };
  }

  /**
   * Waits for the deployment of `ours` to end, finding it first when its ARN is not known yet (ECS
   * lists it shortly after UpdateService). `onFound` is told the ARN as soon as it is known.
   */
  async follow(options: {
    ours: RolloutOf;
    since: Date;
    arn?: string;
    timeoutMs: number;
    what: string;
    onFound?: (arn: string) => void;
  }): Promise<DeploymentState> {
    let arn = options.arn;
    return poll<DeploymentState>({
      what: options.what,
      timeoutMs: options.timeoutMs,
      clock: this.deps.clock,
      logger: this.deps.logger,
      ...(this.deps.signal ? { signal: this.deps.signal } : {}),
      ...(this.deps.pollDelays ?? {}),
      check: async (_attempt, look) => {
        if (!arn && this.api) {
          const found = await this.find(options.ours, options.since);
          arn = found?.serviceDeploymentArn;
          if (arn) options.onFound?.(arn);
          else if (this.api) return { done: false, progress: 'waiting for ECS to list the deployment' };
          // The list says how it stands: a deployment still under way needs no second look at once.
          if (found?.status && ACTIVE_STATUSES.includes(found.status))
            return { done: false, progress: `${found.status} (${arn})` };
        }
        const state = await this.look(arn, options.ours.taskDefinitionArn, look.signal);
        return state.verdict === 'in-progress'
          ? { done: false, progress: state.progress }
          : { done: true, value: state };
      },
    });
  }
}
