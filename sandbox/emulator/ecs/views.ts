import { ACCOUNT_ID } from '../ecr';
import { AwsFault, epochSeconds } from '../protocol';
import type { EcsCore } from './core';
import {
  ARN_PREFIX,
  type Cluster,
  type DeploymentConfiguration,
  type RegisteredTaskDefinition,
  type Service,
  type ServiceDeployment,
  type ServiceRevision,
} from './state';

// The wire views of the ECS emulator's state, member for member as the ecs 2014-11-13 model has them.

const at = (d: Date | undefined) => (d ? epochSeconds(d) : undefined);

/** Members RegisterTaskDefinition accepts (the model's input shape): anything else is not sent by the SDK. */
const REGISTER_MEMBERS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'tags',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
];

/** AWS's quota "Containers per task definition". */
const MAX_CONTAINERS = 10;
const NAME = /^[A-Za-z0-9_-]{1,255}$/;

export function registerTaskDefinition(core: EcsCore, p: Record<string, unknown>) {
  const client = (message: string) => new AwsFault('ClientException', message);
  const family = p.family;
  if (typeof family !== 'string' || family === '') throw client('Family can not be blank.');
  if (!NAME.test(family)) {
    throw client(
      'Family contains invalid characters: up to 255 letters, numbers, hyphens and underscores are allowed.',
    );
  }
  const containers = p.containerDefinitions as Record<string, unknown>[] | undefined;
  if (!containers || containers.length === 0) throw client('Container list cannot be empty.');
  if (containers.length > MAX_CONTAINERS) {
    throw client(`Too many containers: a task definition can have at most ${MAX_CONTAINERS}.`);
  }
  const names = new Set<string>();
  for (const c of containers) {
    if (typeof c.name !== 'string' || c.name === '') throw client('Container.name should not be null or empty.');
    if (!NAME.test(c.name)) {
      throw client(
        `Container name ${c.name} is invalid: up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
      );
    }
    if (names.has(c.name)) throw client(`Duplicate container name: ${c.name}.`);
    names.add(c.name);
    if (typeof c.image !== 'string' || c.image.trim() === '')
      throw client('Container.image should not be null or empty.');
    const digest = c.image.split('@')[1];
    if (digest !== undefined && !/^sha256:[A-Fa-f0-9]{64}$/.test(digest)) {
      throw client(`Invalid image digest in ${c.image}: only sha256 with 64 hex digits is supported.`);
    }
    if ((c.image.split('@')[0] ?? '').length > 255) throw client('Container.image is longer than 255 characters.');
  }
  // Without task-level memory (EC2), each container needs its own (AWS's and moto's wording).
  if (p.memory === undefined) {
    const bare = containers.find((c) => c.memory === undefined && c.memoryReservation === undefined);
    if (bare) {
      throw client(
        `Invalid setting for container '${String(bare.name)}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
      );
    }
  }
  if (!containers.some((c) => c.essential !== false)) {
    throw client('Task definition must contain at least one essential container.');
  }
  const requires = (p.requiresCompatibilities as string[] | undefined) ?? [];
  if (requires.includes('FARGATE')) {
    if (p.networkMode !== 'awsvpc') throw client('Fargate only supports network mode ‘awsvpc’.');
    if (p.cpu === undefined || p.memory === undefined) {
      throw client("Fargate requires that 'cpu' be defined at the task level.");
    }
  }
  const revisions = core.taskDefinitions.get(family) ?? [];
  const revision = revisions.length + 1;
  const body: RegisteredTaskDefinition['body'] = {
    taskDefinitionArn: `${ARN_PREFIX}:task-definition/${family}:${revision}`,
    family,
    revision,
  };
  for (const key of REGISTER_MEMBERS) {
    if (key === 'tags' || key === 'family' || p[key] === undefined) continue;
    (body as Record<string, unknown>)[key] = p[key];
  }
  body.containerDefinitions = containers.map((c) => ({
    cpu: 0,
    portMappings: [],
    essential: true,
    environment: [],
    mountPoints: [],
    volumesFrom: [],
    systemControls: [],
    ...c,
  }));
  body.volumes ??= [];
  body.placementConstraints ??= [];
  body.status = 'ACTIVE';
  body.requiresAttributes = [
    { name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' },
    ...(p.networkMode === 'awsvpc' ? [{ name: 'ecs.capability.task-eni' }] : []),
  ];
  body.compatibilities = p.networkMode === 'awsvpc' ? ['EC2', 'FARGATE'] : ['EC2'];
  body.registeredAt = epochSeconds(new Date());
  body.registeredBy = `arn:aws:iam::${ACCOUNT_ID}:user/sandbox`;
  const tags = (p.tags as { key: string; value: string }[] | undefined) ?? [];
  revisions.push({ body, tags });
  core.taskDefinitions.set(family, revisions);
  return { taskDefinition: body, tags };
}

export function clusterView(core: EcsCore, cluster: Cluster) {
  const services = [...core.services.values()].filter((s) => s.cluster === cluster);
  const tasks = services.flatMap((s) => s.tasks);
  return {
    clusterArn: cluster.arn,
    clusterName: cluster.name,
    status: 'ACTIVE',
    registeredContainerInstancesCount: 0,
    runningTasksCount: tasks.filter((t) => t.state === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) => t.state === 'PROVISIONING').length,
    activeServicesCount: services.filter((s) => s.status === 'ACTIVE').length,
    statistics: [],
    tags: cluster.tags,
    settings: [{ name: 'containerInsights', value: 'disabled' }],
    capacityProviders: [],
    defaultCapacityProviderStrategy: [],
  };
}

export function configurationView(cfg: DeploymentConfiguration) {
  return {
    deploymentCircuitBreaker: cfg.deploymentCircuitBreaker,
    maximumPercent: cfg.maximumPercent,
    minimumHealthyPercent: cfg.minimumHealthyPercent,
    alarms: cfg.alarms,
    strategy: cfg.strategy,
    ...(cfg.bakeTimeInMinutes !== undefined ? { bakeTimeInMinutes: cfg.bakeTimeInMinutes } : {}),
    ...(cfg.canaryConfiguration ? { canaryConfiguration: cfg.canaryConfiguration } : {}),
    ...(cfg.linearConfiguration ? { linearConfiguration: cfg.linearConfiguration } : {}),
  };
}

function counts(service: Service, revisionArn: string) {
  const tasks = service.tasks.filter((t) => t.revisionArn === revisionArn);
  return {
    running: tasks.filter((t) => t.state === 'RUNNING').length,
    pending: tasks.filter((t) => t.state === 'PROVISIONING').length,
  };
}

const NETWORK = {
  awsvpcConfiguration: { subnets: ['subnet-0sandbox'], securityGroups: ['sg-0sandbox'], assignPublicIp: 'DISABLED' },
};

export function serviceView(_core: EcsCore, service: Service, withTags = false) {
  const live = service.tasks.filter((t) => t.state !== 'STOPPED');
  const current = service.serviceDeployments[0];
  const liveRevisions = [...new Set(live.map((t) => t.revisionArn))];
  return {
    serviceArn: service.arn,
    serviceName: service.name,
    clusterArn: service.cluster.arn,
    loadBalancers: [
      {
        targetGroupArn: service.targetGroupArn,
        containerName: service.containerName,
        containerPort: service.containerPort,
      },
    ],
    serviceRegistries: [],
    status: service.status,
    desiredCount: service.desiredCount,
    runningCount: live.filter((t) => t.state === 'RUNNING').length,
    pendingCount: live.filter((t) => t.state === 'PROVISIONING').length,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    platformFamily: 'Linux',
    taskDefinition: service.taskDefinitionArn,
    deploymentConfiguration: configurationView(service.configuration),
    deployments: service.ecsDeployments
      .filter((d) => d.status !== 'INACTIVE')
      .map((d) => {
        const c = counts(service, d.revisionArn);
        return {
          id: d.id,
          status: d.status,
          taskDefinition: d.taskDefinitionArn,
          desiredCount: d.status === 'PRIMARY' ? service.desiredCount : c.running + c.pending,
          pendingCount: c.pending,
          runningCount: c.running,
          failedTasks: d.failedTasks,
          createdAt: at(d.createdAt),
          updatedAt: at(d.updatedAt),
          launchType: 'FARGATE',
          platformVersion: '1.4.0',
          platformFamily: 'Linux',
          networkConfiguration: NETWORK,
          rolloutState: d.rolloutState,
          rolloutStateReason: d.rolloutStateReason,
        };
      }),
    roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    events: service.events.slice(0, 100).map((e) => ({ id: e.id, createdAt: at(e.createdAt), message: e.message })),
    createdAt: at(service.createdAt),
    ...(current ? { currentServiceDeployment: current.arn } : {}),
    currentServiceRevisions: liveRevisions.map((arn) => {
      const c = counts(service, arn);
      const primary = service.ecsDeployments.find((d) => d.status === 'PRIMARY')?.revisionArn === arn;
      return {
        arn,
        requestedTaskCount: primary ? service.desiredCount : c.running + c.pending,
        runningTaskCount: c.running,
        pendingTaskCount: c.pending,
      };
    }),
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: NETWORK,
    healthCheckGracePeriodSeconds: 0,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: service.controller },
    ...(withTags ? { tags: service.tags } : {}),
    createdBy: `arn:aws:iam::${ACCOUNT_ID}:role/sandbox`,
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
    availabilityZoneRebalancing: 'ENABLED',
    ...(service.express ? { resourceManagementType: 'ECS' } : {}),
  };
}

export function briefView(service: Service, d: ServiceDeployment) {
  return {
    serviceDeploymentArn: d.arn,
    serviceArn: service.arn,
    clusterArn: service.cluster.arn,
    ...(d.startedAt ? { startedAt: at(d.startedAt) } : {}),
    createdAt: at(d.createdAt),
    ...(d.finishedAt ? { finishedAt: at(d.finishedAt) } : {}),
    targetServiceRevisionArn: d.targetRevisionArn,
    status: d.status,
    ...(d.statusReason ? { statusReason: d.statusReason } : {}),
  };
}

export function deploymentView(_core: EcsCore, service: Service, d: ServiceDeployment) {
  const summary = (arn: string, target: boolean) => {
    const c = counts(service, arn);
    const weight = service.traffic.size === 0 ? undefined : (service.traffic.get(arn) ?? 0);
    return {
      arn,
      requestedTaskCount: target ? service.desiredCount : c.running + c.pending,
      runningTaskCount: c.running,
      pendingTaskCount: c.pending,
      ...(weight !== undefined && d.status === 'IN_PROGRESS' ? { requestedProductionTrafficWeight: weight } : {}),
    };
  };

  return {
    serviceDeploymentArn: d.arn,
    serviceArn: service.arn,
    clusterArn: service.cluster.arn,
    createdAt: at(d.createdAt),
    ...(d.startedAt ? { startedAt: at(d.startedAt) } : {}),
    ...(d.finishedAt ? { finishedAt: at(d.finishedAt) } : {}),
    ...(d.stoppedAt ? { stoppedAt: at(d.stoppedAt) } : {}),
    updatedAt: at(d.updatedAt),
    sourceServiceRevisions: d.sourceRevisionArns.map((arn) => summary(arn, false)),
    targetServiceRevision: summary(d.targetRevisionArn, true),
    status: d.status,
    ...(d.statusReason ? { statusReason: d.statusReason } : {}),
    ...(d.lifecycleStage ? { lifecycleStage: d.lifecycleStage } : {}),
    deploymentConfiguration: configurationView(d.configuration),
    ...(d.rollback
      ? {
          rollback: {
            reason: d.rollback.reason,
            startedAt: at(d.rollback.startedAt),
            serviceRevisionArn: d.rollback.serviceRevisionArn,
          },
        }
      : {}),
    deploymentCircuitBreaker: d.circuitBreaker,
    alarms: {
      status: d.alarms.status,
      ...(d.alarms.alarmNames.length > 0 ? { alarmNames: d.alarms.alarmNames } : {}),
      ...(d.alarms.triggeredAlarmNames.length > 0 ? { triggeredAlarmNames: d.alarms.triggeredAlarmNames } : {}),
    },
  };
}

export function revisionView(service: Service, r: ServiceRevision) {
  return {
    serviceRevisionArn: r.arn,
    serviceArn: service.arn,
    clusterArn: service.cluster.arn,
    taskDefinition: r.taskDefinitionArn,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    loadBalancers: [
      {
        targetGroupArn: service.targetGroupArn,
        containerName: service.containerName,
        containerPort: service.containerPort,
      },
    ],
    serviceRegistries: [],
    networkConfiguration: NETWORK,
    containerImages: r.containerImages.map((c) => ({
      containerName: c.containerName,
      ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
      image: c.image,
    })),
    guardDutyEnabled: false,
    createdAt: at(r.createdAt),
  };
}
