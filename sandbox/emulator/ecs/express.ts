import { AwsFault, epochSeconds } from '../protocol';
import type { EcsEmulator } from './index';
import {
  clusterName,
  type ExpressConfig,
  invalid,
  parseDeploymentConfiguration,
  randomId,
  type Service,
  serviceName,
} from './state';
import { registerTaskDefinition } from './views';

// ECS Express Mode: an Express service is an ECS service underneath (same deployments, in DescribeServices and
// ListServiceDeployments), with its own load balancer URL as its ingress endpoint. AWS deploys its updates as a
// canary: 5 % of production traffic, 3-minute bakes (reference/aws-apis.md 4b), with the circuit breaker on.

const EXPRESS_DEPLOYMENT = {
  strategy: 'CANARY',
  canaryConfiguration: { canaryPercent: 5, canaryBakeTimeInMinutes: 3 },
  bakeTimeInMinutes: 3,
  deploymentCircuitBreaker: { enable: true, rollback: true },
  maximumPercent: 200,
  minimumHealthyPercent: 100,
};

type Config = Omit<ExpressConfig, 'byRevision'>;

function containerOf(raw: unknown): Config['primaryContainer'] {
  const c = raw as Config['primaryContainer'] | undefined;
  if (!c || typeof c.image !== 'string' || c.image === '') throw invalid('primaryContainer.image can not be blank.');
  const port = c.containerPort ?? 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid('containerPort must be between 1 and 65535.');
  return { ...c, containerPort: port };
}

function register(ecs: EcsEmulator, family: string, config: Config): string {
  const container = config.primaryContainer;
  const { taskDefinition } = registerTaskDefinition(ecs, {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: config.cpu,
    memory: config.memory,
    executionRoleArn: config.executionRoleArn,
    ...(config.taskRoleArn ? { taskRoleArn: config.taskRoleArn } : {}),
    containerDefinitions: [
      {
        name: 'Main',
        image: container.image,
        essential: true,
        portMappings: [{ containerPort: container.containerPort, protocol: 'tcp' }],
        environment: container.environment ?? [],
        ...(container.command ? { command: container.command } : {}),
      },
    ],
  });
  return taskDefinition.taskDefinitionArn;
}

export async function createExpress(ecs: EcsEmulator, p: Record<string, unknown>) {
  for (const key of ['executionRoleArn', 'infrastructureRoleArn']) {
    if (typeof p[key] !== 'string' || p[key] === '') throw invalid(`${key} can not be blank.`);
  }
  // Without a cluster Express uses (and makes) `default`; a named one must exist.
  const named = typeof p.cluster === 'string' && p.cluster !== '' ? clusterName(p.cluster) : undefined;
  if (named && !ecs.clusters.has(named)) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
  const cluster = ecs.ensureCluster(named ?? 'default');
  const name = typeof p.serviceName === 'string' && p.serviceName !== '' ? p.serviceName : `express-${randomId(8)}`;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw invalid(`Invalid service name ${name}.`);
  if (ecs.serviceAt(cluster.name, name)?.status === 'ACTIVE') throw invalid('Creation of service was not idempotent.');
  const healthCheckPath = (p.healthCheckPath as string | undefined) ?? '/ping';
  if (!healthCheckPath.startsWith('/')) throw invalid('healthCheckPath must start with a forward slash.');
  const config: Config = {
    executionRoleArn: p.executionRoleArn as string,
    infrastructureRoleArn: p.infrastructureRoleArn as string,
    taskRoleArn: p.taskRoleArn as string | undefined,
    cpu: (p.cpu as string | undefined) ?? '256',
    memory: (p.memory as string | undefined) ?? '512',
    healthCheckPath,
    primaryContainer: containerOf(p.primaryContainer),
    networkConfiguration: p.networkConfiguration as Record<string, unknown> | undefined,
    scalingTarget: (p.scalingTarget as Record<string, unknown> | undefined) ?? { minTaskCount: 1, maxTaskCount: 20 },
  };
  const taskDefinitionArn = register(ecs, name, config);
  const service = await ecs.newService({
    cluster,
    name,
    taskDefinitionArn,
    desiredCount: Number((config.scalingTarget as { minTaskCount?: number }).minTaskCount ?? 1),
    controller: 'ECS',
    configuration: parseDeploymentConfiguration(EXPRESS_DEPLOYMENT, undefined),
    containerName: 'Main',
    containerPort: config.primaryContainer.containerPort ?? 80,
    healthCheckPath,
    tags: (p.tags as { key: string; value: string }[] | undefined) ?? [],
    express: { ...config, byRevision: new Map() },
  });
  service.express!.byRevision.set(service.revisions[0]!.arn, { config, createdAt: new Date() });
  return { service: expressView(ecs, service) };
}

function expressService(
  ecs: EcsEmulator,
  p: Record<string, unknown>,
  missing: 'ResourceNotFoundException' | 'ServiceNotFoundException',
): Service {
  const arn = p.serviceArn;
  if (typeof arn !== 'string' || arn === '') throw invalid('serviceArn can not be blank.');
  const named = serviceName(arn);
  if (!named.cluster) throw invalid(`Invalid service ARN ${arn}.`);
  if (!ecs.clusters.has(named.cluster)) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
  const service = ecs.serviceAt(named.cluster, named.name);
  if (!service?.express) {
    throw new AwsFault(
      missing,
      missing === 'ServiceNotFoundException' ? 'Service not found.' : `The Express service ${arn} does not exist.`,
    );
  }
  return service;
}

function configurationView(service: Service, revisionArn: string) {
  const entry = service.express!.byRevision.get(revisionArn);
  if (!entry) return undefined;
  const { config } = entry;
  return {
    serviceRevisionArn: revisionArn,
    executionRoleArn: config.executionRoleArn,
    ...(config.taskRoleArn ? { taskRoleArn: config.taskRoleArn } : {}),
    cpu: config.cpu,
    memory: config.memory,
    ...(config.networkConfiguration ? { networkConfiguration: config.networkConfiguration } : {}),
    healthCheckPath: config.healthCheckPath,
    primaryContainer: config.primaryContainer,
    ...(config.scalingTarget ? { scalingTarget: config.scalingTarget } : {}),
    ingressPaths: [{ accessType: 'PUBLIC', endpoint: new URL(service.loadBalancer.url).host }],
    createdAt: epochSeconds(entry.createdAt),
  };
}

function statusView(service: Service) {
  return { statusCode: service.status };
}

function expressView(ecs: EcsEmulator, service: Service, withTags = false) {
  const serving = [...new Set(service.tasks.filter((t) => t.state === 'RUNNING').map((t) => t.revisionArn))];
  const primary = service.ecsDeployments.find((d) => d.status === 'PRIMARY')?.revisionArn;
  const arns = serving.length > 0 ? serving : primary ? [primary] : [];
  const updated = service.serviceDeployments[0]?.updatedAt ?? service.createdAt;
  void ecs;
  return {
    cluster: service.cluster.name,
    serviceName: service.name,
    serviceArn: service.arn,
    infrastructureRoleArn: service.express!.infrastructureRoleArn,
    status: statusView(service),
    ...(service.serviceDeployments[0] ? { currentDeployment: service.serviceDeployments[0].arn } : {}),
    activeConfigurations: arns.map((arn) => configurationView(service, arn)).filter((c) => c !== undefined),
    ...(withTags ? { tags: service.tags } : {}),
    createdAt: epochSeconds(service.createdAt),
    updatedAt: epochSeconds(updated),
  };
}

export function describeExpress(ecs: EcsEmulator, p: Record<string, unknown>) {
  const service = expressService(ecs, p, 'ResourceNotFoundException');
  const include = (p.include as string[] | undefined) ?? [];
  return { service: expressView(ecs, service, include.includes('TAGS')) };
}

export async function updateExpress(ecs: EcsEmulator, p: Record<string, unknown>) {
  const service = expressService(ecs, p, 'ServiceNotFoundException');
  if (service.status !== 'ACTIVE') throw new AwsFault('ServiceNotActiveException', 'Service was not ACTIVE.');
  const express = service.express!;
  const { byRevision, ...current } = express;
  const next: Config = { ...current };
  if (p.primaryContainer !== undefined) next.primaryContainer = containerOf(p.primaryContainer);
  if (typeof p.executionRoleArn === 'string') next.executionRoleArn = p.executionRoleArn;
  if (typeof p.taskRoleArn === 'string') next.taskRoleArn = p.taskRoleArn;
  if (typeof p.cpu === 'string') next.cpu = p.cpu;
  if (typeof p.memory === 'string') next.memory = p.memory;
  if (typeof p.healthCheckPath === 'string') {
    if (!p.healthCheckPath.startsWith('/')) throw invalid('healthCheckPath must start with a forward slash.');
    next.healthCheckPath = p.healthCheckPath;
  }
  if (p.networkConfiguration !== undefined)
    next.networkConfiguration = p.networkConfiguration as Record<string, unknown>;
  if (p.scalingTarget !== undefined) next.scalingTarget = p.scalingTarget as Record<string, unknown>;
  Object.assign(express, next);
  service.healthCheckPath = next.healthCheckPath;
  const { revision } = await ecs.redeploy(service, register(ecs, service.name, next));
  byRevision.set(revision.arn, { config: next, createdAt: new Date() });
  return {
    service: {
      serviceArn: service.arn,
      cluster: service.cluster.name,
      serviceName: service.name,
      status: statusView(service),
      targetConfiguration: configurationView(service, revision.arn),
      createdAt: epochSeconds(service.createdAt),
      updatedAt: epochSeconds(new Date()),
    },
  };
}
