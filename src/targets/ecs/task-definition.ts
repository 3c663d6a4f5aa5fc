import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { DeployError } from '../../core/errors';

/**
 * What DescribeTaskDefinition answers but RegisterTaskDefinition refuses: ECS sets these itself. Everything else is
 * sent back as it was read, so a new revision differs from the old one by the image (and the environment) only.
 */
const READ_ONLY = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const;

/** The container whose image a deploy replaces: the one named, else the only essential one. */
export function pickContainer(
  definition: Pick<TaskDefinition, 'containerDefinitions' | 'family'>,
  named: string | undefined,
  where: string,
): ContainerDefinition {
  const containers = definition.containerDefinitions ?? [];
  const names = containers.map((c) => c.name ?? '(unnamed)');
  if (named !== undefined) {
    const found = containers.find((c) => c.name === named);
    if (!found) {
      throw new DeployError(
        `The task definition ${where} has no container named ${JSON.stringify(named)}; its containers are ` +
          `${names.join(', ') || '(none)'}. Set container to one of them.`,
      );
    }
    return found;
  }
  // ECS treats a container without `essential` as essential.
  const essential = containers.filter((c) => c.essential !== false);
  if (essential.length === 1) return essential[0] as ContainerDefinition;
  throw new DeployError(
    `The task definition ${where} has ${essential.length} essential containers (${essential.map((c) => c.name).join(', ') || 'none'}; ` +
      `all containers: ${names.join(', ') || 'none'}): set container to the one whose image this deploy replaces.`,
  );
}

export interface NewRevision {
  container: string;
  image: string;
  /** Environment variables set on the container (added, or replacing those of the same name). */
  environment?: Record<string, string>;
  tags?: Tag[];
}

/**
 * The RegisterTaskDefinition input of a new revision: `from` (a described task definition or a file's JSON) with the
 * read-only fields dropped, the container's image replaced and its environment set.
 */
export function newRevisionInput(
  from: Record<string, unknown> | TaskDefinition,
  change: NewRevision,
): RegisterTaskDefinitionCommandInput {
  const input: Record<string, unknown> = { ...(from as Record<string, unknown>) };
  for (const field of READ_ONLY) delete input[field];
  // A file may carry tags of its own (render-task-definition files often do not); the described ones come separately.
  if (change.tags && change.tags.length > 0) input.tags = change.tags;
  if (Array.isArray(input.tags) && input.tags.length === 0) delete input.tags;
  const containers = (input.containerDefinitions as ContainerDefinition[] | undefined) ?? [];
  input.containerDefinitions = containers.map((container) => {
    if (container.name !== change.container) return container;
    return { ...container, image: change.image, ...environmentOf(container, change.environment) };
  });
  return input as unknown as RegisterTaskDefinitionCommandInput;
}

function environmentOf(
  container: ContainerDefinition,
  set: Record<string, string> | undefined,
): Pick<ContainerDefinition, 'environment'> {
  if (!set || Object.keys(set).length === 0) return {};
  const kept = (container.environment ?? []).filter((pair) => pair.name === undefined || !(pair.name in set));
  return { environment: [...kept, ...Object.entries(set).map(([name, value]) => ({ name, value }))] };
}

/** `family:revision` of a task definition ARN, for people. */
export function revisionName(arn: string | undefined): string {
  if (!arn) return '(none)';
  return arn.slice(arn.lastIndexOf('/') + 1);
}
