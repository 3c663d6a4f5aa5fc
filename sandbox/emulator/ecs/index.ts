import { ACCOUNT_ID } from '../ecr';
import { LoadBalancer } from '../loadbalancer';
import { publishAlbAnswer, targetGroupDimension } from '../metrics';
import { AwsFault } from '../protocol';
import type { ServiceDefinition } from '../server';
import { EcsCore } from './core';
import { createExpress, describeExpress, updateExpress } from './express';
import {
  type Cluster,
  type ControllerType,
  clusterArn,
  clusterName,
  type DeploymentConfiguration,
  delay,
  invalid,
  parseDeploymentConfiguration,
  REGION,
  randomId,
  type Service,
  type ServiceStatus,
  type Strategy,
  serviceArn,
  serviceName,
} from './state';
import { taggingOperations } from './tagging';
import { briefView, clusterView, deploymentView, registerTaskDefinition, revisionView, serviceView } from './views';

export type { EcsTiming } from './state';
export { defaultEcsTiming } from './state';

/** Programmatic set-up of a service (see sandbox/README.md). */
export interface CreateEcsServiceOptions {
  cluster?: string;
  name: string;
  /** A registry reference: host/repo:tag or host/repo@sha256:…. */
  image: string;
  containerName?: string;
  desiredCount?: number;
  healthCheckPath?: string;
  containerPort?: number;
  environment?: Record<string, string>;
  /** A non-essential sidecar container in the task definition (it runs too; its failure does not fail the task). */
  sidecar?: { name: string; image: string; environment?: Record<string, string> };
  strategy?: Strategy;
  bakeTimeInMinutes?: number;
  minimumHealthyPercent?: number;
  maximumPercent?: number;
  circuitBreaker?: { enable: boolean; rollback: boolean };
  alarms?: { alarmNames: string[]; enable: boolean; rollback: boolean };
  canaryConfiguration?: { canaryPercent?: number; canaryBakeTimeInMinutes?: number };
  linearConfiguration?: { stepPercent?: number; stepBakeTimeInMinutes?: number };
  controller?: ControllerType;
  /** The status the service is left in (for ServiceNotActiveException tests). Default ACTIVE. */
  status?: ServiceStatus;
}

export interface CreatedEcsService {
  serviceArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  /** The service's load-balancer URL (stable across deployments). */
  url: string;
  targetGroupArn: string;
}

/** The Amazon ECS control plane (services, task definitions, service deployments, Express Mode) over EcsCore. */
export class EcsEmulator extends EcsCore {
  definition(): ServiceDefinition {
    return {
      name: 'ecs',
      protocol: 'json',
      targetPrefix: 'AmazonEC2ContainerServiceV20141113',
      contentType: 'application/x-amz-json-1.1',
      operations: {
        CreateCluster: (p) => ({ cluster: clusterView(this, this.ensureCluster(optionalName(p.clusterName))) }),
        DescribeClusters: (p) => this.describeClusters(p),
        RegisterTaskDefinition: (p) => registerTaskDefinition(this, p),
        DescribeTaskDefinition: (p) => this.describeTaskDefinition(p),
        CreateService: (p) => this.createServiceOp(p),
        DescribeServices: (p) => this.describeServices(p),
        UpdateService: (p) => this.updateService(p),
        DeleteService: (p) => this.deleteService(p),
        ListServiceDeployments: (p) => this.listServiceDeployments(p),
        DescribeServiceDeployments: (p) => this.describeServiceDeployments(p),
        DescribeServiceRevisions: (p) => this.describeServiceRevisions(p),
        StopServiceDeployment: (p) => this.stopServiceDeployment(p),
        CreateExpressGatewayService: (p) => createExpress(this, p),
        DescribeExpressGatewayService: (p) => describeExpress(this, p),
        UpdateExpressGatewayService: (p) => updateExpress(this, p),
        ...taggingOperations(this),
      },
    };
  }

  // ---- programmatic API -------------------------------------------------------------------------------------------

  /** Creates the cluster if missing, a task definition family and a service; waits until its tasks are healthy. */
  async createService(options: CreateEcsServiceOptions): Promise<CreatedEcsService> {
    const cluster = this.ensureCluster(options.cluster ?? 'default').name;
    const containerName = options.containerName ?? options.name;
    const env = (e?: Record<string, string>) => Object.entries(e ?? {}).map(([name, value]) => ({ name, value }));
    const containers: Record<string, unknown>[] = [
      {
        name: containerName,
        image: options.image,
        essential: true,
        portMappings: [{ containerPort: options.containerPort ?? 8080, protocol: 'tcp' }],
        environment: env(options.environment),
      },
    ];
    if (options.sidecar) {
      containers.push({
        name: options.sidecar.name,
        image: options.sidecar.image,
        essential: false,
        environment: env(options.sidecar.environment),
      });
    }
    const { taskDefinition } = registerTaskDefinition(this, {
      family: options.name,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: containers,
    });
    const created = await this.createServiceOp({
      cluster,
      serviceName: options.name,
      taskDefinition: taskDefinition.taskDefinitionArn,
      desiredCount: options.desiredCount ?? 2,
      launchType: 'FARGATE',
      deploymentController: { type: options.controller ?? 'ECS' },
      deploymentConfiguration: {
        strategy: options.strategy ?? 'ROLLING',
        ...(options.bakeTimeInMinutes !== undefined ? { bakeTimeInMinutes: options.bakeTimeInMinutes } : {}),
        ...(options.minimumHealthyPercent !== undefined
          ? { minimumHealthyPercent: options.minimumHealthyPercent }
          : {}),
        ...(options.maximumPercent !== undefined ? { maximumPercent: options.maximumPercent } : {}),
        ...(options.circuitBreaker ? { deploymentCircuitBreaker: options.circuitBreaker } : {}),
        ...(options.alarms ? { alarms: options.alarms } : {}),
        ...(options.canaryConfiguration ? { canaryConfiguration: options.canaryConfiguration } : {}),
        ...(options.linearConfiguration ? { linearConfiguration: options.linearConfiguration } : {}),
      },
      loadBalancers: [{ containerName, containerPort: options.containerPort ?? 8080 }],
      healthCheckPath: options.healthCheckPath ?? '/health',
    });
    const service = this.serviceAt(cluster, options.name)!;
    await this.untilSettledOrThrow(service);
    const first = service.serviceDeployments[0]!;
    if (first.status !== 'SUCCESSFUL') {
      throw new Error(`Service ${options.name} did not start: ${first.statusReason ?? first.status}`);
    }
    if (options.status) service.status = options.status;
    return {
      serviceArn: created.service.serviceArn as string,
      clusterArn: service.cluster.arn,
      taskDefinitionArn: taskDefinition.taskDefinitionArn,
      url: service.loadBalancer.url,
      targetGroupArn: service.targetGroupArn,
    };
  }

  /** An Express Mode service (its own URL as its ingress endpoint); waits until its first deployment ends. */
  async createExpressService(options: {
    cluster?: string;
    name: string;
    image: string;
    healthCheckPath?: string;
    containerPort?: number;
    environment?: Record<string, string>;
  }): Promise<{ serviceArn: string; url: string }> {
    this.ensureCluster(options.cluster ?? 'default');
    const out = await createExpress(this, {
      cluster: options.cluster,
      serviceName: options.name,
      executionRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/ecsTaskExecutionRole`,
      infrastructureRoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/ecsInfrastructureRoleForExpressServices`,
      healthCheckPath: options.healthCheckPath,
      primaryContainer: {
        image: options.image,
        containerPort: options.containerPort ?? 8080,
        environment: Object.entries(options.environment ?? {}).map(([name, value]) => ({ name, value })),
      },
    });
    const service = this.serviceAt(options.cluster ?? 'default', out.service.serviceName as string)!;
    await this.untilSettledOrThrow(service);
    return { serviceArn: service.arn, url: service.loadBalancer.url };
  }

  setAlarmState(name: string, state: 'ALARM' | 'OK'): void {
    if (state === 'ALARM') this.alarmsInAlarm.add(name);
    else this.alarmsInAlarm.delete(name);
  }

  /** The CloudWatch metrics of one answer of the service's load balancer (ALB's RequestCount and 5xx counts). */
  private publish(service: Service, answer: { status: number; fromTarget: boolean }): void {
    if (!this.metrics) return;
    publishAlbAnswer(
      this.metrics,
      { loadBalancer: service.loadBalancer.dimension, targetGroup: targetGroupDimension(service.targetGroupArn) },
      answer,
    );
  }

  /** The LoadBalancer and TargetGroup dimensions of a service's CloudWatch metrics. */
  metricDimensions(cluster: string, name: string): { loadBalancer: string; targetGroup: string } {
    const service = this.services.get(`${cluster}/${name}`);
    if (!service) throw new Error(`no service ${cluster}/${name}`);
    return { loadBalancer: service.loadBalancer.dimension, targetGroup: targetGroupDimension(service.targetGroupArn) };
  }

  serviceUrl(cluster: string, service: string): string {
    return this.requireService(cluster, service).loadBalancer.url;
  }

  /** Manifest digests of the running tasks that pass their health check. */
  runningImages(cluster: string, service: string): string[] {
    return this.requireService(cluster, service)
      .tasks.filter((t) => this.healthy(t) && t.digest)
      .map((t) => t.digest!);
  }

  /**
   * The fewest tasks passing their health check, and the most tasks provisioning or running, at any moment since
   * `since` (ms epoch): what minimumHealthyPercent and maximumPercent bound during a rolling update.
   */
  capacity(cluster: string, service: string, since = 0): { minHealthy: number; maxLive: number } {
    const history = this.requireService(cluster, service).capacity;
    const before = [...history].reverse().find((c) => c.at < since);
    const window = [...(before ? [before] : []), ...history.filter((c) => c.at >= since)];
    return {
      minHealthy: Math.min(...window.map((c) => c.healthy)),
      maxLive: Math.max(...window.map((c) => c.live)),
    };
  }

  setServiceStatus(cluster: string, service: string, status: ServiceStatus): void {
    this.requireService(cluster, service).status = status;
  }

  /** Waits until no service deployment runs. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.settle();
    for (const service of this.services.values()) {
      await Promise.all(service.tasks.map((t) => this.stopTask(t)));
      await service.loadBalancer.stop();
    }
  }

  // ---- helpers shared with express.ts and views.ts ----------------------------------------------------------------

  ensureCluster(name: string): Cluster {
    let cluster = this.clusters.get(name);
    if (!cluster) {
      cluster = { name, arn: clusterArn(name), tags: [] };
      this.clusters.set(name, cluster);
    }
    return cluster;
  }

  serviceAt(cluster: string, name: string): Service | undefined {
    return this.services.get(`${cluster}/${name}`);
  }

  requireService(cluster: string, name: string): Service {
    const service = this.serviceAt(cluster, name);
    if (!service) throw new Error(`No emulated ECS service ${cluster}/${name}`);
    return service;
  }

  async untilSettled(service: Service): Promise<void> {
    for (;;) {
      const active = this.activeDeployment(service);
      if (!active) return;
      await active.done;
      await delay(1);
    }
  }

  /**
   * As ECS, a deployment whose tasks keep failing without a circuit breaker retries for ever: set-up gives up after
   * `ms` and says why (the last stopped task's reason).
   */
  private async untilSettledOrThrow(service: Service, ms = 60_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), ms);
    });
    const outcome = await Promise.race([this.untilSettled(service), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      const why = service.tasks.find((t) => t.stoppedReason)?.stoppedReason ?? 'its tasks never passed health checks';
      throw new Error(`Service ${service.name} did not reach a steady state in ${ms} ms: ${why}`);
    }
  }

  /** The cluster a request names; ClusterNotFoundException when it does not exist. */
  clusterOf(p: Record<string, unknown>): Cluster {
    const cluster = this.clusters.get(clusterName(p.cluster));
    if (!cluster) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  /** The service a request names in its cluster; ServiceNotFoundException when there is none. */
  serviceOf(p: Record<string, unknown>, key = 'service'): Service {
    const ref = p[key];
    if (typeof ref !== 'string' || ref === '') throw invalid(`${key} can not be blank.`);
    const named = serviceName(ref);
    const cluster = named.cluster ? this.clusters.get(named.cluster) : this.clusterOf(p);
    if (!cluster) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
    const service = this.serviceAt(cluster.name, named.name);
    if (!service) throw new AwsFault('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  /** Builds a service and starts its first deployment. Used by CreateService and CreateExpressGatewayService. */
  async newService(input: {
    cluster: Cluster;
    name: string;
    taskDefinitionArn: string;
    desiredCount: number;
    controller: ControllerType;
    configuration: DeploymentConfiguration;
    containerName: string;
    containerPort: number;
    healthCheckPath: string;
    tags?: { key: string; value: string }[];
    express?: Service['express'];
  }): Promise<Service> {
    const service: Service = {
      name: input.name,
      arn: serviceArn(input.cluster.name, input.name),
      cluster: input.cluster,
      status: 'ACTIVE',
      desiredCount: input.desiredCount,
      taskDefinitionArn: input.taskDefinitionArn,
      controller: input.controller,
      configuration: input.configuration,
      containerName: input.containerName,
      containerPort: input.containerPort,
      healthCheckPath: input.healthCheckPath,
      targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/ecs-${input.name.slice(0, 20)}/${randomId(
        16,
      )
        .replace(/[^a-zA-Z0-9]/g, '0')
        .toLowerCase()}`,
      createdAt: new Date(),
      events: [],
      revisions: [],
      serviceDeployments: [],
      ecsDeployments: [],
      tasks: [],
      capacity: [],
      traffic: new Map(),
      loadBalancer: new LoadBalancer(() => this.routable(service), {
        name: `ecs-${input.name}`,
        onAnswer: (answer) => this.publish(service, answer),
      }),
      express: input.express,
      tags: input.tags ?? [],
    };
    this.services.set(`${input.cluster.name}/${input.name}`, service);
    await service.loadBalancer.start();
    const revision = await this.newRevision(service, input.taskDefinitionArn);
    this.startDeployment(service, revision, input.configuration);
    return service;
  }

  /** A new revision of `taskDefinitionArn` and a deployment to it (UpdateService, UpdateExpressGatewayService). */
  async redeploy(service: Service, taskDefinitionArn: string) {
    const revision = await this.newRevision(service, taskDefinitionArn);
    return { revision, deployment: this.startDeployment(service, revision, service.configuration) };
  }

  // ---- operations -------------------------------------------------------------------------------------------------

  private describeClusters(p: Record<string, unknown>) {
    const refs = (p.clusters as string[] | undefined) ?? ['default'];
    if (refs.length > 100) throw invalid('clusters can have at most 100 items.');
    const clusters = [];
    const failures = [];
    for (const ref of refs) {
      const cluster = this.clusters.get(clusterName(ref));
      if (cluster) clusters.push(clusterView(this, cluster));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : clusterArn(ref), reason: 'MISSING' });
    }
    return { clusters, failures };
  }

  private describeTaskDefinition(p: Record<string, unknown>) {
    const ref = p.taskDefinition;
    if (typeof ref !== 'string' || ref === '')
      throw new AwsFault('ClientException', 'Task definition can not be blank.');
    const td = this.findTaskDefinition(ref);
    if (!td) throw new AwsFault('ClientException', 'Unable to describe task definition.');
    const include = (p.include as string[] | undefined) ?? [];
    return { taskDefinition: td.body, ...(include.includes('TAGS') ? { tags: td.tags } : {}) };
  }

  private async createServiceOp(p: Record<string, unknown>) {
    const cluster = this.clusterOf(p.cluster === undefined ? { cluster: 'default' } : p);
    const name = p.serviceName;
    if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
      throw invalid(
        'Service name can have up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
      );
    }
    const existing = this.serviceAt(cluster.name, name);
    if (existing && existing.status !== 'INACTIVE') {
      throw invalid('Creation of service was not idempotent.');
    }
    const controller = ((p.deploymentController as { type?: string } | undefined)?.type ?? 'ECS') as ControllerType;
    if (!['ECS', 'CODE_DEPLOY', 'EXTERNAL'].includes(controller))
      throw invalid(`Invalid deployment controller ${controller}.`);
    if (typeof p.taskDefinition !== 'string') throw invalid('TaskDefinition can not be blank.');
    const td = this.findTaskDefinition(p.taskDefinition);
    if (!td) throw new AwsFault('ClientException', 'TaskDefinition not found.');
    const desiredCount = p.desiredCount === undefined ? 0 : Number(p.desiredCount);
    if (!Number.isInteger(desiredCount) || desiredCount < 0)
      throw invalid('desiredCount must be a non-negative integer.');
    const lb = (p.loadBalancers as { containerName?: string; containerPort?: number }[] | undefined)?.[0];
    const containers = td.body.containerDefinitions as { name: string; portMappings?: { containerPort?: number }[] }[];
    const main = containers.find((c) => c.name === lb?.containerName) ?? containers[0]!;
    if (lb?.containerName && !containers.some((c) => c.name === lb.containerName)) {
      throw invalid(`The container ${lb.containerName} does not exist in the task definition.`);
    }
    const service = await this.newService({
      cluster,
      name,
      taskDefinitionArn: td.body.taskDefinitionArn,
      desiredCount,
      controller,
      configuration: parseDeploymentConfiguration(p.deploymentConfiguration, undefined),
      containerName: main.name,
      containerPort: lb?.containerPort ?? main.portMappings?.[0]?.containerPort ?? 80,
      healthCheckPath: typeof p.healthCheckPath === 'string' ? p.healthCheckPath : '/health',
      tags: (p.tags as { key: string; value: string }[] | undefined) ?? [],
    });
    return { service: serviceView(this, service) };
  }

  private describeServices(p: Record<string, unknown>) {
    const cluster = this.clusterOf(p);
    const refs = p.services as string[] | undefined;
    if (!refs || refs.length === 0) throw invalid('Services cannot be empty.');
    if (refs.length > 10) throw invalid('Services cannot contain more than 10 elements.');
    const include = (p.include as string[] | undefined) ?? [];
    const services = [];
    const failures = [];
    for (const ref of refs) {
      const named = serviceName(ref);
      const service =
        named.cluster && named.cluster !== cluster.name ? undefined : this.serviceAt(cluster.name, named.name);
      if (service) services.push(serviceView(this, service, include.includes('TAGS')));
      else failures.push({ arn: ref.startsWith('arn:') ? ref : serviceArn(cluster.name, ref), reason: 'MISSING' });
    }
    return { services, failures };
  }

  private async updateService(p: Record<string, unknown>) {
    const service = this.serviceOf(p);
    if (service.status !== 'ACTIVE') throw new AwsFault('ServiceNotActiveException', 'Service was not ACTIVE.');
    let taskDefinitionArn: string | undefined;
    if (p.taskDefinition !== undefined) {
      if (service.controller !== 'ECS') {
        throw invalid(
          service.controller === 'CODE_DEPLOY'
            ? 'Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.'
            : 'Unable to update task definition on services with a EXTERNAL deployment controller. Use a task set to deploy a new task definition.',
        );
      }
      const td = this.findTaskDefinition(String(p.taskDefinition));
      if (!td) throw new AwsFault('ClientException', 'TaskDefinition not found.');
      taskDefinitionArn = td.body.taskDefinitionArn;
    }
    if (p.desiredCount !== undefined) {
      const n = Number(p.desiredCount);
      if (!Number.isInteger(n) || n < 0) throw invalid('desiredCount must be a non-negative integer.');
    }
    if (p.deploymentConfiguration !== undefined) {
      service.configuration = parseDeploymentConfiguration(p.deploymentConfiguration, service.configuration);
    }
    if (p.desiredCount !== undefined) service.desiredCount = Number(p.desiredCount);
    const changed = taskDefinitionArn !== undefined && taskDefinitionArn !== service.taskDefinitionArn;
    if (changed || p.forceNewDeployment === true) {
      await this.redeploy(service, taskDefinitionArn ?? service.taskDefinitionArn);
    } else if (p.desiredCount !== undefined && !this.activeDeployment(service)) {
      this.scale(service);
    }
    return { service: serviceView(this, service) };
  }

  /** A desired count change without a new revision: start or stop tasks of the primary revision. */
  private scale(service: Service): void {
    const primary = service.ecsDeployments.find((d) => d.status === 'PRIMARY');
    const revision = primary && service.revisions.find((r) => r.arn === primary.revisionArn);
    if (!revision) return;
    const live = this.live(service);
    for (let i = live.length; i < service.desiredCount; i++) this.launchTask(service, revision);
    void this.stopTasks(service, live.slice(service.desiredCount));
  }

  private async deleteService(p: Record<string, unknown>) {
    const service = this.serviceOf(p);
    if (service.status === 'INACTIVE') throw new AwsFault('ServiceNotFoundException', 'Service not found.');
    if (service.desiredCount > 0 && p.force !== true) {
      throw invalid('The service cannot be stopped while it is scaled above 0.');
    }
    for (const d of service.serviceDeployments) d.stopRequest ??= { type: 'ABORT', reason: 'Service deleted.' };
    service.status = 'DRAINING';
    service.desiredCount = 0;
    const view = serviceView(this, service);
    void (async () => {
      await this.untilSettled(service);
      await this.stopTasks(service, this.live(service));
      service.status = 'INACTIVE';
    })();
    return { service: view };
  }

  private listServiceDeployments(p: Record<string, unknown>) {
    const service = this.serviceOf(p);
    const max = p.maxResults === undefined ? 20 : Number(p.maxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('maxResults must be between 1 and 100.');
    const statuses = p.status as string[] | undefined;
    const created = p.createdAt as { before?: number; after?: number } | undefined;
    const all = service.serviceDeployments.filter(
      (d) =>
        (!statuses || statuses.length === 0 || statuses.includes(d.status)) &&
        (created?.before === undefined || d.createdAt.getTime() / 1000 < Number(created.before)) &&
        (created?.after === undefined || d.createdAt.getTime() / 1000 > Number(created.after)),
    );
    let start = 0;
    if (p.nextToken !== undefined) {
      start = Number(Buffer.from(String(p.nextToken), 'base64url').toString());
      if (!Number.isInteger(start) || start < 0) throw invalid('Invalid nextToken.');
    }
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { serviceDeployments: page.map((d) => briefView(service, d)), ...(next ? { nextToken: next } : {}) };
  }

  private arnList(p: Record<string, unknown>, key: string): string[] {
    const arns = p[key] as string[] | undefined;
    if (!arns || arns.length === 0) throw invalid(`${key} cannot be empty.`);
    if (arns.length > 20) throw invalid(`${key} cannot contain more than 20 elements.`);
    return arns;
  }

  private describeServiceDeployments(p: Record<string, unknown>) {
    const serviceDeployments = [];
    const failures = [];
    for (const arn of this.arnList(p, 'serviceDeploymentArns')) {
      const found = this.findDeployment(arn);
      if (found) serviceDeployments.push(deploymentView(this, found.service, found.deployment));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { serviceDeployments, failures };
  }

  private describeServiceRevisions(p: Record<string, unknown>) {
    const serviceRevisions = [];
    const failures = [];
    for (const arn of this.arnList(p, 'serviceRevisionArns')) {
      const found = this.findRevision(arn);
      if (found) serviceRevisions.push(revisionView(found.service, found.revision));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { serviceRevisions, failures };
  }

  private stopServiceDeployment(p: Record<string, unknown>) {
    const arn = p.serviceDeploymentArn;
    if (typeof arn !== 'string' || arn === '') throw invalid('serviceDeploymentArn can not be blank.');
    const stopType = (p.stopType as string | undefined) ?? 'ROLLBACK';
    if (stopType !== 'ROLLBACK' && stopType !== 'ABORT') throw invalid(`Invalid stopType ${stopType}.`);
    const found = this.findDeployment(arn);
    if (!found) {
      throw new AwsFault('ServiceDeploymentNotFoundException', `The service deployment ${arn} does not exist.`);
    }
    const d = found.deployment;
    // AWS's guide: PENDING and IN_PROGRESS stop; STOP_REQUESTED and ROLLBACK_* carry on with what they do.
    if (d.status === 'PENDING' || d.status === 'IN_PROGRESS') {
      d.stopRequest =
        stopType === 'ROLLBACK'
          ? { type: 'ROLLBACK', reason: 'Service deployment rolled back by StopServiceDeployment.' }
          : { type: 'ABORT', reason: 'Service deployment stopped by StopServiceDeployment.' };
      d.status = stopType === 'ROLLBACK' ? 'ROLLBACK_REQUESTED' : 'STOP_REQUESTED';
      d.updatedAt = new Date();
    } else if (!['STOP_REQUESTED', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS'].includes(d.status)) {
      const e = new AwsFault('ConflictException', `The service deployment is ${d.status} and cannot be stopped.`);
      throw e;
    }
    return { serviceDeploymentArn: d.arn };
  }
}

function optionalName(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'default';
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(value)) {
    throw invalid(
      'Cluster name can have up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens.',
    );
  }
  return value;
}
