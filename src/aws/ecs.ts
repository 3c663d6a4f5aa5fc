import {
  type DeploymentConfiguration,
  DescribeExpressGatewayServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  type ECSExpressGatewayService,
  type ExpressGatewayContainer,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
  StopServiceDeploymentCommand,
  type Tag,
  TagResourceCommand,
  type TaskDefinition,
  UntagResourceCommand,
  UpdateExpressGatewayServiceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { awsErrorName, DeployError, wrapAwsError } from '../core/errors';
import { clientSettings, type RequestOptions } from './clients';

export type { ServiceDeployment, ServiceDeploymentStatus, TaskDefinition };

export function ecsClient(region: string, env: NodeJS.ProcessEnv = process.env): ECSClient {
  return new ECSClient(clientSettings(region, env));
}

/**
 * Runs one ECS call and wraps what it throws with what was being done. An AccessDeniedException names the IAM action
 * the role lacks, since ECS's own message does not always say which one.
 */
async function ecsCall<T>(doing: string, iamAction: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'AccessDeniedException' || name === 'AccessDenied') {
      throw new DeployError(
        `Could not ${doing}: access denied (${name}). The role needs ${iamAction} on this resource (see docs/iam.md). ` +
          `AWS said: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw wrapAwsError(doing, error);
  }
}

/** The service, or a clear error when ECS does not know it (DescribeServices answers failures, not an error). */
export async function describeEcsService(
  client: ECSClient,
  cluster: string,
  service: string,
  options: RequestOptions = {},
): Promise<Service> {
  const out = await ecsCall(`describe the ECS service ${service} in cluster ${cluster}`, 'ecs:DescribeServices', () =>
    client.send(new DescribeServicesCommand({ cluster, services: [service] }), options),
  );
  const found = out.services?.[0];
  if (!found) {
    const reason = out.failures?.[0]?.reason ?? 'MISSING';
    throw new DeployError(
      `The ECS service ${service} was not found in cluster ${cluster} (${reason}). Check cluster, ecs-service and ` +
        'region.',
    );
  }
  return found;
}

export async function describeTaskDefinition(
  client: ECSClient,
  taskDefinition: string,
): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
  const out = await ecsCall(`read the task definition ${taskDefinition}`, 'ecs:DescribeTaskDefinition', () =>
    client.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ['TAGS'] })),
  );
  if (!out.taskDefinition) throw new DeployError(`ECS returned no task definition for ${taskDefinition}.`);
  return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
}

export async function registerTaskDefinition(
  client: ECSClient,
  input: RegisterTaskDefinitionCommandInput,
): Promise<TaskDefinition> {
  const out = await ecsCall(
    `register a new revision of the task definition ${input.family}`,
    'ecs:RegisterTaskDefinition (and ecs:TagResource when it has tags, iam:PassRole for its roles)',
    () => client.send(new RegisterTaskDefinitionCommand(input)),
  );
  if (!out.taskDefinition?.taskDefinitionArn)
    throw new DeployError(`ECS registered no task definition for ${input.family}.`);
  return out.taskDefinition;
}

/** UpdateService to a task definition revision (a new deployment when it differs from the current one). */
export async function updateServiceTaskDefinition(
  client: ECSClient,
  cluster: string,
  service: string,
  taskDefinitionArn: string,
  deploymentConfiguration?: DeploymentConfiguration,
): Promise<Service> {
  const out = await ecsCall(`update the ECS service ${service} to ${taskDefinitionArn}`, 'ecs:UpdateService', () =>
    client.send(
      new UpdateServiceCommand({
        cluster,
        service,
        taskDefinition: taskDefinitionArn,
        ...(deploymentConfiguration ? { deploymentConfiguration } : {}),
      }),
    ),
  );
  if (!out.service) throw new DeployError(`ECS returned no service after updating ${service}.`);
  return out.service;
}

/** The service's deployments, newest first (ListServiceDeployments answers at most 100 a page; the newest suffice). */
export async function listServiceDeployments(
  client: ECSClient,
  cluster: string,
  service: string,
  options: { status?: ServiceDeploymentStatus[]; after?: Date } & RequestOptions = {},
) {
  const { abortSignal, status, after } = options;
  const out = await ecsCall(`list the deployments of the ECS service ${service}`, 'ecs:ListServiceDeployments', () =>
    client.send(
      new ListServiceDeploymentsCommand({
        cluster,
        service,
        ...(status ? { status } : {}),
        ...(after ? { createdAt: { after } } : {}),
        maxResults: 20,
      }),
      abortSignal ? { abortSignal } : {},
    ),
  );
  return out.serviceDeployments ?? [];
}

export async function describeServiceDeployment(
  client: ECSClient,
  arn: string,
  options: RequestOptions = {},
): Promise<ServiceDeployment> {
  const out = await ecsCall(`describe the ECS service deployment ${arn}`, 'ecs:DescribeServiceDeployments', () =>
    client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }), options),
  );
  const found = out.serviceDeployments?.[0];
  if (!found) {
    throw new DeployError(
      `ECS does not know the service deployment ${arn} (${out.failures?.[0]?.reason ?? 'MISSING'}).`,
    );
  }
  return found;
}

/** The task definition ARN of each service revision. */
export async function revisionTaskDefinitions(
  client: ECSClient,
  revisionArns: string[],
  options: RequestOptions = {},
): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  if (revisionArns.length === 0) return map;
  const out = await ecsCall('describe the ECS service revisions', 'ecs:DescribeServiceRevisions', () =>
    client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns.slice(0, 20) }), options),
  );
  for (const revision of out.serviceRevisions ?? []) {
    if (revision.serviceRevisionArn && revision.taskDefinition)
      map.set(revision.serviceRevisionArn, revision.taskDefinition);
  }
  return map;
}

/** Stops a service deployment; ROLLBACK puts the source revision back, ABORT leaves the tasks as they are. */
export async function stopServiceDeployment(
  client: ECSClient,
  arn: string,
  stopType: 'ROLLBACK' | 'ABORT',
  options: RequestOptions = {},
): Promise<void> {
  await ecsCall(`stop the ECS service deployment ${arn}`, 'ecs:StopServiceDeployment', () =>
    client.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType }), options),
  );
}

export async function describeExpressService(
  client: ECSClient,
  serviceArn: string,
  options: RequestOptions = {},
): Promise<ECSExpressGatewayService> {
  const out = await ecsCall(`describe the ECS Express service ${serviceArn}`, 'ecs:DescribeExpressGatewayService', () =>
    client.send(new DescribeExpressGatewayServiceCommand({ serviceArn }), options),
  );
  if (!out.service) throw new DeployError(`ECS returned no Express service for ${serviceArn}.`);
  return out.service;
}

/** Changes only the primary container (its image, its environment); everything else stays as it is. */
export async function updateExpressContainer(
  client: ECSClient,
  serviceArn: string,
  primaryContainer: ExpressGatewayContainer,
) {
  const out = await ecsCall(
    `update the ECS Express service ${serviceArn}`,
    'ecs:UpdateExpressGatewayService (and iam:PassRole for its roles)',
    () => client.send(new UpdateExpressGatewayServiceCommand({ serviceArn, primaryContainer })),
  );
  return out.service;
}

/** Whether a call failed because this ECS endpoint has no service-deployments API (older regions, emulators). */
export function isUnsupportedApi(error: unknown): boolean {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const name = awsErrorName(cause);
  return name === 'UnsupportedFeatureException' || name === 'UnknownOperationException';
}

/** The service with its tags (DescribeServices include TAGS: no ecs:ListTagsForResource needed). */
export async function describeEcsServiceWithTags(
  client: ECSClient,
  cluster: string,
  service: string,
): Promise<Service & { tags: Tag[] }> {
  const out = await ecsCall(`describe the ECS service ${service} in cluster ${cluster}`, 'ecs:DescribeServices', () =>
    client.send(new DescribeServicesCommand({ cluster, services: [service], include: ['TAGS'] })),
  );
  const found = out.services?.[0];
  if (!found) {
    throw new DeployError(
      `The ECS service ${service} was not found in cluster ${cluster} (${out.failures?.[0]?.reason ?? 'MISSING'}). ` +
        'Check cluster, ecs-service and region.',
    );
  }
  return { ...found, tags: found.tags ?? [] };
}

/** UpdateService with only a desired count: ECS starts or stops tasks of the current revision, no new deployment. */
export async function scaleEcsService(
  client: ECSClient,
  cluster: string,
  service: string,
  desiredCount: number,
): Promise<Service> {
  const out = await ecsCall(
    `set the desired count of the ECS service ${service} to ${desiredCount}`,
    'ecs:UpdateService',
    () => client.send(new UpdateServiceCommand({ cluster, service, desiredCount })),
  );
  if (!out.service) throw new DeployError(`ECS returned no service after scaling ${service}.`);
  return out.service;
}

export async function tagEcsResource(client: ECSClient, arn: string, tags: Record<string, string>): Promise<void> {
  await ecsCall(`tag ${arn}`, 'ecs:TagResource', () =>
    client.send(
      new TagResourceCommand({ resourceArn: arn, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) }),
    ),
  );
}

export async function untagEcsResource(client: ECSClient, arn: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await ecsCall(`remove the tags ${keys.join(', ')} from ${arn}`, 'ecs:UntagResource', () =>
    client.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: keys })),
  );
}
