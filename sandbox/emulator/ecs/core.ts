import { randomBytes } from 'node:crypto';
import { freePort } from '../../ports';
import type { LaunchedImage } from '../autoscaling';
import type { ElbTargetGroup, ElbTargetHealth, TargetGroupOwner } from '../elbv2';
import type { MetricStore } from '../metrics';
import {
  ACTIVE_DEPLOYMENT,
  ARN_PREFIX,
  type Cluster,
  type ContainerDef,
  circuitBreakerThreshold,
  type DeploymentConfiguration,
  defaultEcsTiming,
  delay,
  type EcsDeployment,
  type EcsTiming,
  parseImage,
  type RegisteredTaskDefinition,
  randomDigits,
  randomId,
  type Service,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
  type ServiceRevision,
  type Task,
} from './state';

/** What starts a task's containers: the sandbox's ImageRunner (or a fake with the same shape). */
export interface EcsLauncher {
  resolve(repository: string, reference: string): Promise<string | undefined>;
  start(
    repository: string,
    reference: string,
    options?: { env?: Record<string, string>; port?: number },
  ): Promise<LaunchedImage & { readonly running?: boolean }>;
}

/** Why a deployment loop stops early. */
class Stop extends Error {
  constructor(
    readonly kind: 'superseded' | 'abort' | 'rollback' | 'failure',
    message: string,
    readonly rollback = false,
  ) {
    super(message);
  }
}

/**
 * The ECS data plane and deployment engine: tasks that really run their images (one process per container, PORT
 * set), health-checked through the service's target group, and service deployments (rolling, blue/green, canary,
 * linear) that honour the deployment configuration, the circuit breaker, alarms and StopServiceDeployment.
 */
export class EcsCore implements TargetGroupOwner {
  timing: EcsTiming = { ...defaultEcsTiming };
  readonly clusters = new Map<string, Cluster>();
  /** family → revisions (index = revision - 1). */
  readonly taskDefinitions = new Map<string, RegisteredTaskDefinition[]>();
  /** `cluster/name` → service. */
  readonly services = new Map<string, Service>();
  /** CloudWatch alarm names now in ALARM (setAlarmState, or the CloudWatch emulator's alarms as they change). */
  readonly alarmsInAlarm = new Set<string>();
  /** Where the services' load balancers publish their CloudWatch metrics (set by the sandbox). */
  metrics: MetricStore | undefined;
  protected readonly running = new Set<Promise<void>>();
  protected stopped = false;

  constructor(
    protected readonly launcher: EcsLauncher,
    /** The registry host images must name (host:port); others cannot be pulled. */
    protected readonly registryHost: string | undefined,
  ) {}

  // ---- task definitions -----------------------------------------------------------------------------------------

  /** family, family:revision or ARN → the registered task definition, or undefined. */
  findTaskDefinition(ref: string): RegisteredTaskDefinition | undefined {
    const arn = /^arn:aws:ecs:[^:]+:\d{12}:task-definition\/(.+)$/.exec(ref);
    const spec = arn ? arn[1]! : ref;
    const [family, revision] = spec.split(':');
    const revisions = this.taskDefinitions.get(family ?? '');
    if (!revisions) return undefined;
    if (revision === undefined) {
      if (arn) return undefined;
      return [...revisions].reverse().find((r) => r.body.status === 'ACTIVE');
    }
    if (!/^\d+$/.test(revision)) return undefined;
    return revisions[Number(revision) - 1];
  }

  protected containers(taskDefinitionArn: string): ContainerDef[] {
    const td = this.findTaskDefinition(taskDefinitionArn);
    return (td?.body.containerDefinitions as ContainerDef[] | undefined) ?? [];
  }

  // ---- revisions --------------------------------------------------------------------------------------------------

  /** A new service revision of `taskDefinitionArn`, its images resolved to digests now (version consistency). */
  protected async newRevision(service: Service, taskDefinitionArn: string): Promise<ServiceRevision> {
    const containerImages = await Promise.all(
      this.containers(taskDefinitionArn).map(async (c) => {
        const ref = parseImage(c.image);
        let imageDigest: string | undefined;
        if (ref && (!this.registryHost || ref.host === this.registryHost)) {
          if (ref.reference.startsWith('sha256:')) imageDigest = ref.reference;
          else imageDigest = await this.launcher.resolve(ref.repository, ref.reference).catch(() => undefined);
        }
        return { containerName: c.name, image: c.image, ...(imageDigest ? { imageDigest } : {}) };
      }),
    );
    const revision: ServiceRevision = {
      arn: `${ARN_PREFIX}:service-revision/${service.cluster.name}/${service.name}/${randomDigits(19)}`,
      taskDefinitionArn,
      containerImages,
      createdAt: new Date(),
    };
    service.revisions.push(revision);
    return revision;
  }

  findRevision(arn: string): { service: Service; revision: ServiceRevision } | undefined {
    for (const service of this.services.values()) {
      const revision = service.revisions.find((r) => r.arn === arn);
      if (revision) return { service, revision };
    }
    return undefined;
  }

  protected revisionOf(service: Service, arn: string): ServiceRevision {
    return service.revisions.find((r) => r.arn === arn)!;
  }

  // ---- tasks ------------------------------------------------------------------------------------------------------

  protected live(service: Service): Task[] {
    return service.tasks.filter((t) => t.state === 'PROVISIONING' || t.state === 'RUNNING');
  }

  protected healthy(task: Task): boolean {
    return task.state === 'RUNNING' && task.passing;
  }

  /** Tasks the load balancer may route to now: healthy, of a revision that gets production traffic. */
  protected routable(service: Service): { url: string }[] {
    const healthy = service.tasks.filter((t) => this.healthy(t) && t.process);
    if (service.traffic.size === 0) return healthy.map((t) => ({ url: t.process!.url }));
    const weighted = [...service.traffic].filter(([arn, w]) => w > 0 && healthy.some((t) => t.revisionArn === arn));
    const total = weighted.reduce((sum, [, w]) => sum + w, 0);
    let roll = Math.random() * total;
    let chosen = weighted[0]?.[0];
    for (const [arn, w] of weighted) {
      roll -= w;
      if (roll < 0) {
        chosen = arn;
        break;
      }
    }
    return healthy.filter((t) => t.revisionArn === chosen).map((t) => ({ url: t.process!.url }));
  }

  protected event(service: Service, message: string): void {
    service.events.unshift({
      id: crypto.randomUUID(),
      createdAt: new Date(),
      message: `(service ${service.name}) ${message}`,
    });
    if (service.events.length > 100) service.events.length = 100;
  }

  /** Records the healthy and live task counts when either changed (for capacity()). */
  protected note(service: Service): void {
    const healthy = service.tasks.filter((t) => this.healthy(t)).length;
    const live = this.live(service).length;
    const last = service.capacity[service.capacity.length - 1];
    if (last?.healthy !== healthy || last.live !== live) service.capacity.push({ at: Date.now(), healthy, live });
  }

  protected launchTask(service: Service, revision: ServiceRevision): Task {
    const id = randomBytes(16).toString('hex');
    const task: Task = {
      id,
      arn: `${ARN_PREFIX}:task/${service.cluster.name}/${id}`,
      revisionArn: revision.arn,
      state: 'PROVISIONING',
      sidecars: [],
      passing: false,
      everPassed: false,
      consecutiveFailures: 0,
      createdAt: Date.now(),
    };
    service.tasks.push(task);
    this.note(service);
    void this.bootTask(service, revision, task);
    return task;
  }

  private async bootTask(service: Service, revision: ServiceRevision, task: Task): Promise<void> {
    await delay(this.timing.taskStartMs);
    if (task.state !== 'PROVISIONING') return;
    const containers = this.containers(revision.taskDefinitionArn);
    try {
      for (const container of containers) {
        const essential = container.essential !== false;
        const pinned = revision.containerImages.find((c) => c.containerName === container.name);
        const ref = parseImage(container.image);
        if (!ref || (this.registryHost && ref.host !== this.registryHost) || !pinned?.imageDigest) {
          throw new Error(
            `CannotPullContainerError: pull image manifest has been retried 7 time(s): ${container.image}: not found`,
          );
        }
        const env: Record<string, string> = {};
        for (const pair of container.environment ?? []) if (pair.name) env[pair.name] = pair.value ?? '';
        const port = await freePort();
        const started = await this.launcher.start(ref.repository, pinned.imageDigest, { env, port });
        if (task.state !== 'PROVISIONING') {
          await started.stop();
          return;
        }
        if (essential && !task.process) {
          task.process = started;
          task.port = port;
          task.digest = started.digest;
        } else task.sidecars.push(started);
      }
      if (!task.process) throw new Error('Task has no essential container');
      task.state = 'RUNNING';
      task.startedAt = Date.now();
      this.monitor(service, task);
    } catch (error) {
      await this.failTask(service, task, (error as Error).message);
    }
  }

  private monitor(service: Service, task: Task): void {
    const probe = async () => {
      if (task.state !== 'RUNNING' || this.stopped) return;
      if ((task.process as { running?: boolean } | undefined)?.running === false) {
        await this.failTask(service, task, 'Essential container in task exited');
        return;
      }
      try {
        const res = await fetch(`${task.process!.url}${service.healthCheckPath}`, {
          signal: AbortSignal.timeout(1_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          task.passing = true;
          task.everPassed = true;
          task.consecutiveFailures = 0;
          task.probeFailure = undefined;
        } else {
          task.passing = false;
          task.consecutiveFailures++;
          task.probeFailure = {
            reason: 'Target.ResponseCodeMismatch',
            description: `Health checks failed with these codes: [${res.status}]`,
          };
        }
      } catch {
        task.passing = false;
        task.consecutiveFailures++;
        task.probeFailure = { reason: 'Target.Timeout', description: 'Request timed out' };
      }
      this.note(service);
      const late = Date.now() - (task.startedAt ?? task.createdAt) > this.timing.unhealthyAfterMs;
      if (task.state === 'RUNNING' && task.consecutiveFailures >= 2 && (task.everPassed || late)) {
        await this.failTask(service, task, `Task failed ELB health checks in (target-group ${service.targetGroupArn})`);
        return;
      }
      if (task.state === 'RUNNING') task.monitor = setTimeout(() => void probe(), this.timing.healthCheckMs);
    };
    void probe();
  }

  /** Stops a task as failed: counted in its deployment's failedTasks and by the circuit breaker. */
  private async failTask(service: Service, task: Task, reason: string): Promise<void> {
    if (task.state === 'STOPPING' || task.state === 'STOPPED') return;
    task.stoppedReason = reason;
    const ecs = service.ecsDeployments.find((d) => d.revisionArn === task.revisionArn);
    if (ecs) {
      ecs.failedTasks++;
      ecs.updatedAt = new Date();
    }
    const active = this.activeDeployment(service);
    if (active && active.targetRevisionArn === task.revisionArn) active.circuitBreaker.failureCount++;
    this.event(service, `has stopped 1 running tasks: (task ${task.id}). Reason: ${reason}`);
    await this.stopTask(task, service);
  }

  protected async stopTask(task: Task, service?: Service): Promise<void> {
    if (task.state === 'STOPPED' || task.state === 'STOPPING') return;
    task.state = 'STOPPING';
    task.passing = false;
    if (task.monitor) clearTimeout(task.monitor);
    if (service) this.note(service);
    await Promise.all([task.process, ...task.sidecars].map((p) => p?.stop().catch(() => undefined)));
    task.state = 'STOPPED';
  }

  protected async stopTasks(service: Service, tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return;
    this.event(service, `has stopped ${tasks.length} running tasks: ${tasks.map((t) => `(task ${t.id})`).join(' ')}.`);
    await Promise.all(tasks.map((t) => this.stopTask(t, service)));
    service.tasks = service.tasks.filter((t) => t.state !== 'STOPPED' || !tasks.includes(t));
  }

  // ---- target groups (served through the ELBv2 emulator) ----------------------------------------------------------

  targetGroupList(): ElbTargetGroup[] {
    return [...this.services.values()]
      .filter((s) => s.status !== 'INACTIVE')
      .map((s) => ({
        arn: s.targetGroupArn,
        name: `ecs-${s.cluster.name}-${s.name}`.slice(0, 32).replace(/-+$/, ''),
        port: s.containerPort,
        healthCheckPath: s.healthCheckPath,
        targetType: 'ip' as const,
      }));
  }

  targetHealthOf(arn: string, ids?: string[]): ElbTargetHealth[] {
    const service = [...this.services.values()].find((s) => s.targetGroupArn === arn);
    if (!service) return [];
    return service.tasks
      .filter((t) => t.port !== undefined && t.state !== 'STOPPED' && t.state !== 'PROVISIONING')
      .filter(() => !ids || ids.includes('127.0.0.1'))
      .map((t) => ({
        Target: { Id: '127.0.0.1', Port: t.port! },
        HealthCheckPort: String(t.port),
        TargetHealth:
          t.state === 'STOPPING'
            ? {
                State: 'draining',
                Reason: 'Target.DeregistrationInProgress',
                Description: 'Target deregistration is in progress',
              }
            : t.passing
              ? { State: 'healthy' }
              : t.consecutiveFailures === 0
                ? {
                    State: 'initial',
                    Reason: 'Elb.RegistrationInProgress',
                    Description: 'Target registration is in progress',
                  }
                : {
                    State: 'unhealthy',
                    Reason: t.probeFailure?.reason ?? 'Target.FailedHealthChecks',
                    Description: t.probeFailure?.description ?? 'Health checks failed',
                  },
      }));
  }

  // ---- service deployments ----------------------------------------------------------------------------------------

  activeDeployment(service: Service): ServiceDeployment | undefined {
    return service.serviceDeployments.find((d) => ACTIVE_DEPLOYMENT.includes(d.status));
  }

  findDeployment(arn: string): { service: Service; deployment: ServiceDeployment } | undefined {
    for (const service of this.services.values()) {
      const deployment = service.serviceDeployments.find((d) => d.arn === arn);
      if (deployment) return { service, deployment };
    }
    return undefined;
  }

  /** Starts a service deployment to `revision` in the background; the one in progress is superseded. */
  protected startDeployment(
    service: Service,
    revision: ServiceRevision,
    configuration: DeploymentConfiguration,
  ): ServiceDeployment {
    const previous = service.serviceDeployments.filter((d) => ACTIVE_DEPLOYMENT.includes(d.status));
    for (const d of previous) d.stopRequest ??= { type: 'SUPERSEDED', reason: 'Superseded by a newer deployment.' };
    const primary = service.ecsDeployments.find((d) => d.status === 'PRIMARY');
    const sources = [
      ...new Set([
        ...(primary && primary.revisionArn !== revision.arn ? [primary.revisionArn] : []),
        ...this.live(service)
          .map((t) => t.revisionArn)
          .filter((a) => a !== revision.arn),
      ]),
    ];
    for (const d of service.ecsDeployments) if (d.status === 'PRIMARY') d.status = 'ACTIVE';
    const now = new Date();
    const ecsDeployment: EcsDeployment = {
      id: `ecs-svc/${randomDigits(19)}`,
      status: 'PRIMARY',
      revisionArn: revision.arn,
      taskDefinitionArn: revision.taskDefinitionArn,
      failedTasks: 0,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      createdAt: now,
      updatedAt: now,
    };
    service.ecsDeployments.unshift(ecsDeployment);
    const id = randomId(22);
    const cb = configuration.deploymentCircuitBreaker;
    const alarms = configuration.alarms;
    const deployment: ServiceDeployment = {
      id,
      arn: `${ARN_PREFIX}:service-deployment/${service.cluster.name}/${service.name}/${id}`,
      status: 'PENDING',
      createdAt: now,
      updatedAt: now,
      sourceRevisionArns: sources,
      targetRevisionArn: revision.arn,
      configuration: structuredClone(configuration),
      circuitBreaker: {
        status: cb.enable ? 'MONITORING' : 'DISABLED',
        failureCount: 0,
        threshold: circuitBreakerThreshold(service.desiredCount),
      },
      alarms: {
        status: alarms.enable && alarms.alarmNames.length > 0 ? 'MONITORING' : 'DISABLED',
        alarmNames: [...alarms.alarmNames],
        triggeredAlarmNames: [],
      },
      ecsDeployment,
    };
    service.serviceDeployments.unshift(deployment);
    service.taskDefinitionArn = revision.taskDefinitionArn;
    const before = Promise.all(previous.map((d) => d.done));
    const run = before.then(() => this.drive(service, deployment)).finally(() => this.running.delete(run));
    deployment.done = run;
    this.running.add(run);
    return deployment;
  }

  private touch(deployment: ServiceDeployment, status?: ServiceDeploymentStatus, reason?: string): void {
    if (status) deployment.status = status;
    if (reason !== undefined) deployment.statusReason = reason;
    deployment.updatedAt = new Date();
  }

  private check(service: Service, deployment: ServiceDeployment, rollingBack: boolean): void {
    if (this.stopped) throw new Stop('abort', 'The emulator stopped.');
    const stop = deployment.stopRequest;
    if (stop?.type === 'SUPERSEDED') throw new Stop('superseded', stop.reason);
    if (rollingBack) return;
    if (stop?.type === 'ABORT') throw new Stop('abort', stop.reason);
    if (stop?.type === 'ROLLBACK') throw new Stop('rollback', stop.reason, true);
    const cfg = deployment.configuration;
    if (cfg.alarms.enable) {
      const triggered = cfg.alarms.alarmNames.filter((a) => this.alarmsInAlarm.has(a));
      if (triggered.length > 0) {
        deployment.alarms.status = 'TRIGGERED';
        deployment.alarms.triggeredAlarmNames = triggered;
        throw new Stop(
          'failure',
          `Service deployment failed: CloudWatch alarm(s) ${triggered.join(', ')} in ALARM state.`,
          cfg.alarms.rollback,
        );
      }
    }
    const cb = deployment.circuitBreaker;
    if (cfg.deploymentCircuitBreaker.enable && cb.failureCount >= cb.threshold) {
      cb.status = 'TRIGGERED';
      throw new Stop(
        'failure',
        'Service deployment failed: the deployment circuit breaker threshold of failed tasks was reached.',
        cfg.deploymentCircuitBreaker.rollback,
      );
    }
    void service;
  }

  private async pause(service: Service, deployment: ServiceDeployment, ms: number, rollingBack = false) {
    const end = Date.now() + ms;
    for (;;) {
      this.check(service, deployment, rollingBack);
      const left = end - Date.now();
      if (left <= 0) return;
      await delay(Math.min(this.timing.tickMs, left));
    }
  }

  private async drive(service: Service, deployment: ServiceDeployment): Promise<void> {
    const ecs = deployment.ecsDeployment;
    try {
      await this.pause(service, deployment, this.timing.pendingMs);
      this.touch(deployment, 'IN_PROGRESS');
      deployment.startedAt = new Date();
      const strategy = deployment.configuration.strategy;
      if (strategy === 'ROLLING' || deployment.sourceRevisionArns.length === 0) {
        await this.rolling(service, deployment, deployment.targetRevisionArn, false);
      } else {
        await this.shiftTraffic(service, deployment);
      }
      deployment.lifecycleStage = 'CLEAN_UP';
      this.touch(deployment, 'SUCCESSFUL', 'Service deployment completed successfully.');
      deployment.finishedAt = new Date();
      this.closeMonitors(deployment);
      ecs.rolloutState = 'COMPLETED';
      ecs.rolloutStateReason = `ECS deployment ${ecs.id} completed.`;
      ecs.updatedAt = new Date();
      for (const d of service.ecsDeployments) if (d !== ecs) d.status = 'INACTIVE';
      this.event(service, `(deployment ${ecs.id}) deployment completed.`);
      this.event(service, 'has reached a steady state.');
    } catch (error) {
      if (!(error instanceof Stop)) {
        this.touch(deployment, 'STOPPED', `Emulator error: ${(error as Error).message}`);
        deployment.stoppedAt = deployment.finishedAt = new Date();
        return;
      }
      if (error.rollback) {
        await this.rollback(service, deployment, error.message);
        return;
      }
      this.touch(deployment, 'STOPPED', error.message);
      deployment.stoppedAt = deployment.finishedAt = new Date();
      this.closeMonitors(deployment);
      if (error.kind !== 'superseded') {
        ecs.rolloutState = 'FAILED';
        ecs.rolloutStateReason =
          error.kind === 'abort' ? 'ECS deployment stopped.' : `ECS deployment circuit breaker: ${error.message}`;
        ecs.updatedAt = new Date();
        this.event(service, `(deployment ${ecs.id}) deployment failed: ${error.message}`);
      }
      service.traffic.clear();
    }
  }

  private closeMonitors(deployment: ServiceDeployment): void {
    if (deployment.circuitBreaker.status === 'MONITORING') deployment.circuitBreaker.status = 'MONITORING_COMPLETE';
    if (deployment.alarms.status === 'MONITORING') deployment.alarms.status = 'MONITORING_COMPLETE';
  }

  private async rollback(service: Service, deployment: ServiceDeployment, reason: string): Promise<void> {
    const ecs = deployment.ecsDeployment;
    const source = deployment.sourceRevisionArns[0];
    this.touch(deployment, 'ROLLBACK_REQUESTED', reason);
    ecs.rolloutState = 'FAILED';
    ecs.rolloutStateReason = reason.startsWith('Service deployment failed')
      ? `ECS deployment circuit breaker: ${reason}`
      : reason;
    ecs.updatedAt = new Date();
    this.event(service, `(deployment ${ecs.id}) deployment failed: ${reason}`);
    if (!source) {
      this.touch(deployment, 'ROLLBACK_FAILED', `${reason} There is no previous service revision to roll back to.`);
      deployment.finishedAt = new Date();
      return;
    }
    await delay(this.timing.tickMs);
    this.touch(deployment, 'ROLLBACK_IN_PROGRESS');
    deployment.rollback = { reason, startedAt: new Date(), serviceRevisionArn: source };
    const revision = this.revisionOf(service, source);
    service.taskDefinitionArn = revision.taskDefinitionArn;
    const back = service.ecsDeployments.find((d) => d.revisionArn === source);
    if (back) {
      back.status = 'PRIMARY';
      back.updatedAt = new Date();
    }
    ecs.status = 'ACTIVE';
    try {
      const sourceHealthy = this.live(service).filter((t) => t.revisionArn === source && this.healthy(t));
      if (sourceHealthy.length >= service.desiredCount && service.traffic.size > 0) {
        // Blue/green: blue still runs; shift production traffic back to it and drop green.
        deployment.lifecycleStage = 'PRODUCTION_TRAFFIC_SHIFT';
        service.traffic = new Map([[source, 100]]);
        await this.stopTasks(
          service,
          this.live(service).filter((t) => t.revisionArn !== source),
        );
      } else {
        await this.rolling(service, deployment, source, true);
      }
      service.traffic.clear();
      this.touch(deployment, 'ROLLBACK_SUCCESSFUL', `Service deployment rolled back: ${reason}`);
      ecs.status = 'INACTIVE';
      this.event(service, 'has reached a steady state.');
    } catch (error) {
      this.touch(deployment, 'ROLLBACK_FAILED', (error as Error).message);
    }
    deployment.lifecycleStage = 'CLEAN_UP';
    deployment.finishedAt = new Date();
    this.closeMonitors(deployment);
  }

  /**
   * Rolling update to `target`: new tasks up to maximumPercent of the desired count, old tasks stopped while at
   * least minimumHealthyPercent stay healthy; failed new tasks are replaced (and counted by the circuit breaker).
   */
  private async rolling(service: Service, deployment: ServiceDeployment, target: string, rollingBack: boolean) {
    const cfg = deployment.configuration;
    const revision = this.revisionOf(service, target);
    deployment.lifecycleStage = 'PRE_SCALE_UP';
    await this.pause(service, deployment, this.timing.tickMs, rollingBack);
    deployment.lifecycleStage = 'SCALE_UP';
    let launched = 0;
    for (;;) {
      this.check(service, deployment, rollingBack);
      const n = service.desiredCount;
      const live = this.live(service);
      const fresh = live.filter((t) => t.revisionArn === target);
      const old = live.filter((t) => t.revisionArn !== target);
      const freshHealthy = fresh.filter((t) => this.healthy(t));
      if (old.length === 0 && freshHealthy.length >= n && fresh.length >= n) {
        await this.stopTasks(service, fresh.slice(n));
        break;
      }
      const maxTotal = Math.max(n, Math.floor((n * cfg.maximumPercent) / 100));
      const minHealthy = Math.ceil((n * cfg.minimumHealthyPercent) / 100);
      const toLaunch = Math.min(maxTotal - live.length, n - fresh.length);
      for (let i = 0; i < toLaunch; i++) this.launchTask(service, revision);
      launched += Math.max(0, toLaunch);
      if (toLaunch > 0) this.event(service, `has started ${toLaunch} tasks.`);
      let healthyTotal = live.filter((t) => this.healthy(t)).length;
      const stop: Task[] = [];
      // Unhealthy old tasks first: stopping them costs no healthy capacity.
      for (const task of [...old].sort((a, b) => Number(this.healthy(a)) - Number(this.healthy(b)))) {
        if (!this.healthy(task)) stop.push(task);
        else if (healthyTotal - 1 >= minHealthy && (freshHealthy.length > 0 || minHealthy === 0)) {
          stop.push(task);
          healthyTotal--;
        }
      }
      // Neither room to start nor leave to stop (e.g. 100/100): stop one old task, as the scheduler must.
      if (
        stop.length === 0 &&
        toLaunch <= 0 &&
        fresh.length < n &&
        old.length > 0 &&
        fresh.every((t) => this.healthy(t))
      )
        stop.push(old[0]!);
      await this.stopTasks(service, stop);
      await delay(this.timing.tickMs);
    }
    void launched;
    deployment.lifecycleStage = 'POST_SCALE_UP';
  }

  /** Blue/green, canary and linear: green tasks at full count, production traffic shifted in steps, bake, clean up. */
  private async shiftTraffic(service: Service, deployment: ServiceDeployment) {
    const cfg = deployment.configuration;
    const target = deployment.targetRevisionArn;
    const source = deployment.sourceRevisionArns[0]!;
    const revision = this.revisionOf(service, target);
    service.traffic = new Map([[source, 100]]);
    deployment.lifecycleStage = 'PRE_SCALE_UP';
    await this.pause(service, deployment, this.timing.tickMs);
    deployment.lifecycleStage = 'SCALE_UP';
    for (;;) {
      this.check(service, deployment, false);
      const n = service.desiredCount;
      const green = this.live(service).filter((t) => t.revisionArn === target);
      if (green.length >= n && green.every((t) => this.healthy(t))) break;
      for (let i = green.length; i < n; i++) this.launchTask(service, revision);
      await delay(this.timing.tickMs);
    }
    deployment.lifecycleStage = 'POST_SCALE_UP';
    await this.pause(service, deployment, this.timing.tickMs);
    deployment.lifecycleStage = 'TEST_TRAFFIC_SHIFT';
    await this.pause(service, deployment, this.timing.tickMs);
    deployment.lifecycleStage = 'POST_TEST_TRAFFIC_SHIFT';
    await this.pause(service, deployment, this.timing.tickMs);
    const steps: { percent: number; bakeMinutes: number }[] = [];
    if (cfg.strategy === 'CANARY') {
      steps.push({
        percent: cfg.canaryConfiguration?.canaryPercent ?? 5,
        bakeMinutes: cfg.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10,
      });
    } else if (cfg.strategy === 'LINEAR') {
      const step = cfg.linearConfiguration?.stepPercent ?? 10;
      for (let p = step; p < 100; p += step)
        steps.push({
          percent: Math.round(p * 10) / 10,
          bakeMinutes: cfg.linearConfiguration?.stepBakeTimeInMinutes ?? 6,
        });
    }
    steps.push({ percent: 100, bakeMinutes: 0 });
    deployment.lifecycleStage = 'PRODUCTION_TRAFFIC_SHIFT';
    for (const step of steps) {
      service.traffic = new Map([
        [target, step.percent],
        [source, 100 - step.percent],
      ]);
      await this.watchGreen(service, deployment, step.bakeMinutes * this.timing.minuteMs);
    }
    deployment.lifecycleStage = 'POST_PRODUCTION_TRAFFIC_SHIFT';
    await this.pause(service, deployment, this.timing.tickMs);
    deployment.lifecycleStage = 'BAKE_TIME';
    await this.watchGreen(service, deployment, (cfg.bakeTimeInMinutes ?? 0) * this.timing.minuteMs);
    deployment.lifecycleStage = 'CLEAN_UP';
    await this.stopTasks(
      service,
      this.live(service).filter((t) => t.revisionArn !== target),
    );
    service.traffic.clear();
  }

  /** Waits `ms` while green serves: a green task failing meanwhile is replaced and counted. */
  private async watchGreen(service: Service, deployment: ServiceDeployment, ms: number) {
    const end = Date.now() + ms;
    const revision = this.revisionOf(service, deployment.targetRevisionArn);
    for (;;) {
      this.check(service, deployment, false);
      const green = this.live(service).filter((t) => t.revisionArn === revision.arn);
      for (let i = green.length; i < service.desiredCount; i++) this.launchTask(service, revision);
      if (Date.now() >= end) return;
      await delay(Math.min(this.timing.tickMs, end - Date.now()));
    }
  }
}
