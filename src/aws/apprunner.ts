import {
  AppRunnerClient,
  DescribeServiceCommand,
  ListOperationsCommand,
  ListTagsForResourceCommand,
  type OperationSummary,
  PauseServiceCommand,
  ResumeServiceCommand,
  type SourceConfiguration,
  StartDeploymentCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-apprunner';
import { awsErrorName, DeployError, withContext } from '../core/errors';
import { clientSettings, type RequestOptions } from './clients';

export function appRunnerClient(region: string, env: NodeJS.ProcessEnv = process.env): AppRunnerClient {
  return new AppRunnerClient(clientSettings(region, env));
}

/** What the toolkit needs to know about a service, read with one DescribeService. */
export interface AppRunnerService {
  arn: string;
  name: string;
  /** As App Runner gives it: a host name without scheme; '' when it gives none (ServiceUrl is optional). */
  url: string;
  /** False for a private service (ingress only through a VPC interface endpoint). */
  publiclyAccessible: boolean;
  status: string;
  /** `<registry>/<repository>:<tag>` or `<registry>/<repository>@sha256:…`; undefined for source-code services. */
  imageIdentifier: string | undefined;
  autoDeploymentsEnabled: boolean;
  /** Kept so that an UpdateService can send the whole source configuration back with only the image changed. */
  sourceConfiguration: SourceConfiguration | undefined;
}

export interface AppRunnerOperation {
  id: string;
  type: string;
  status: string;
  startedAt?: Date;
  endedAt?: Date;
}

export async function describeService(
  client: AppRunnerClient,
  serviceArn: string,
  options: RequestOptions = {},
): Promise<AppRunnerService> {
  const { Service: service } = await withContext(`describe the App Runner service ${serviceArn}`, () =>
    client.send(new DescribeServiceCommand({ ServiceArn: serviceArn }), options),
  );
  if (!service) throw new DeployError(`App Runner returned no service for ${serviceArn}.`);
  return {
    arn: service.ServiceArn ?? serviceArn,
    name: service.ServiceName ?? serviceArn,
    url: service.ServiceUrl ?? '',
    publiclyAccessible: service.NetworkConfiguration?.IngressConfiguration?.IsPubliclyAccessible !== false,
    status: service.Status ?? 'UNKNOWN',
    imageIdentifier: service.SourceConfiguration?.ImageRepository?.ImageIdentifier,
    autoDeploymentsEnabled: service.SourceConfiguration?.AutoDeploymentsEnabled === true,
    sourceConfiguration: service.SourceConfiguration,
  };
}

/** True when App Runner refused a change because another operation is running on the service. */
export function isInvalidState(error: unknown): boolean {
  const cause = error instanceof DeployError ? error.cause : error;
  return awsErrorName(cause) === 'InvalidStateException';
}

/**
 * True when App Runner refused a StartDeployment. Its model lists no InvalidStateException for StartDeployment (only
 * InvalidRequestException, ResourceNotFoundException, InternalServiceErrorException), so a deployment refused because
 * another operation is running may come back as either: the caller must look at the service to tell a race from a
 * bad request.
 */
export function isStartDeploymentRefused(error: unknown): boolean {
  const cause = error instanceof DeployError ? error.cause : error;
  const name = awsErrorName(cause);
  return name === 'InvalidStateException' || name === 'InvalidRequestException';
}

/**
 * Points the service at `imageIdentifier` and returns the OperationId of the deployment this starts. The rest of the
 * image repository settings (port, environment, start command, access role) are sent back as they were, so that
 * changing the image never resets them.
 */
export async function updateServiceImage(
  client: AppRunnerClient,
  service: AppRunnerService,
  imageIdentifier: string,
  autoDeploymentsEnabled: boolean,
): Promise<string> {
  const current = service.sourceConfiguration;
  const repository = current?.ImageRepository;
  const source: SourceConfiguration = {
    ImageRepository: {
      ImageIdentifier: imageIdentifier,
      ImageRepositoryType: repository?.ImageRepositoryType ?? 'ECR',
      ...(repository?.ImageConfiguration ? { ImageConfiguration: repository.ImageConfiguration } : {}),
    },
    AutoDeploymentsEnabled: autoDeploymentsEnabled,
    ...(current?.AuthenticationConfiguration
      ? { AuthenticationConfiguration: current.AuthenticationConfiguration }
      : {}),
  };
  const result = await withContext(`update the App Runner service ${service.name} to ${imageIdentifier}`, () =>
    client.send(new UpdateServiceCommand({ ServiceArn: service.arn, SourceConfiguration: source })),
  );
  if (!result.OperationId) throw new DeployError(`App Runner started no operation when updating ${service.name}.`);
  return result.OperationId;
}

/** Redeploys what the service is configured with (re-pulling a tag); returns the OperationId. */
export async function startDeployment(client: AppRunnerClient, service: AppRunnerService): Promise<string> {
  const result = await withContext(`start a deployment of the App Runner service ${service.name}`, () =>
    client.send(new StartDeploymentCommand({ ServiceArn: service.arn })),
  );
  if (!result.OperationId) throw new DeployError(`App Runner started no deployment of ${service.name}.`);
  return result.OperationId;
}

function toOperation(summary: OperationSummary): AppRunnerOperation {
  return {
    id: summary.Id ?? '',
    type: summary.Type ?? 'UNKNOWN',
    status: summary.Status ?? 'UNKNOWN',
    ...(summary.StartedAt ? { startedAt: summary.StartedAt } : {}),
    ...(summary.EndedAt ? { endedAt: summary.EndedAt } : {}),
  };
}

/** ListOperations' page size limit: the most operations one call can return. */
export const OPERATIONS_PAGE_SIZE = 20;

/**
 * Pages through the service's operations (newest first) until `match` accepts one, at most `maxPages` pages.
 * Our own operation is nearly always on the first page; the bound keeps a long history from costing many calls.
 */
export async function findOperation(
  client: AppRunnerClient,
  serviceArn: string,
  match: (operation: AppRunnerOperation) => boolean,
  maxPages = 10,
): Promise<AppRunnerOperation | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const token = nextToken;
    const result = await withContext(`list the operations of the App Runner service ${serviceArn}`, () =>
      client.send(
        new ListOperationsCommand({
          ServiceArn: serviceArn,
          MaxResults: OPERATIONS_PAGE_SIZE,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const summary of result.OperationSummaryList ?? []) {
      const operation = toOperation(summary);
      if (match(operation)) return operation;
    }
    nextToken = result.NextToken;
    if (!nextToken) return undefined;
  }
  return undefined;
}

/** The operation with this id, paging until it is found. */
export function findOperationById(
  client: AppRunnerClient,
  serviceArn: string,
  operationId: string,
): Promise<AppRunnerOperation | undefined> {
  return findOperation(client, serviceArn, (operation) => operation.id === operationId);
}

export type OperationState = 'running' | 'succeeded' | 'failed' | 'rolled-back' | 'rollback-failed';

/**
 * What an operation status means for a deploy. App Runner rolls a failed deployment back by itself and the service
 * returns to RUNNING, so only the operation's own status tells a failed deploy from a good one.
 */
export function operationState(status: string): OperationState {
  switch (status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'FAILED':
      return 'failed';
    case 'ROLLBACK_SUCCEEDED':
      return 'rolled-back';
    case 'ROLLBACK_FAILED':
      return 'rollback-failed';
    default:
      // PENDING, IN_PROGRESS, ROLLBACK_IN_PROGRESS and anything new: not over yet.
      return 'running';
  }
}

/** PauseService or ResumeService; returns the OperationId to follow. */
export async function pauseOrResume(
  client: AppRunnerClient,
  service: AppRunnerService,
  mode: 'pause' | 'resume',
): Promise<string> {
  const result = await withContext(`${mode} the App Runner service ${service.name}`, () =>
    client.send(
      mode === 'pause'
        ? new PauseServiceCommand({ ServiceArn: service.arn })
        : new ResumeServiceCommand({ ServiceArn: service.arn }),
    ),
  );
  if (!result.OperationId) throw new DeployError(`App Runner started no operation to ${mode} ${service.name}.`);
  return result.OperationId;
}

export async function listAppRunnerTags(client: AppRunnerClient, arn: string): Promise<Record<string, string>> {
  const out = await withContext(`read the tags of ${arn}`, () =>
    client.send(new ListTagsForResourceCommand({ ResourceArn: arn })),
  );
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export async function tagAppRunnerResource(
  client: AppRunnerClient,
  arn: string,
  tags: Record<string, string>,
): Promise<void> {
  await withContext(`tag ${arn}`, () =>
    client.send(
      new TagResourceCommand({ ResourceArn: arn, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
    ),
  );
}

export async function untagAppRunnerResource(client: AppRunnerClient, arn: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await withContext(`remove the tags ${keys.join(', ')} from ${arn}`, () =>
    client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: keys })),
  );
}
