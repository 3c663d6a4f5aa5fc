import { AwsFault } from '../protocol';
import { applyTags, ECS_TAG_PATTERN, removeTags, type TagRules } from '../tags';
import type { EcsCore } from './core';
import { ARN_PREFIX, invalid } from './state';

const RULES: TagRules = {
  invalid: 'InvalidParameterException',
  tooMany: 'InvalidParameterException',
  pattern: ECS_TAG_PATTERN,
};

type TagList = { key: string; value: string }[];

/** The tag list of the cluster, service or task definition an ARN names (services in the long ARN format only). */
function tagsOf(ecs: EcsCore, arn: unknown, operation: 'read' | 'write'): { list: TagList; set(list: TagList): void } {
  if (typeof arn !== 'string' || arn === '') throw invalid('resourceArn can not be blank.');
  if (!arn.startsWith(`${ARN_PREFIX}:`)) throw invalid(`Invalid resourceArn: ${arn}.`);
  const path = arn.slice(ARN_PREFIX.length + 1);
  const [type, ...rest] = path.split('/');
  // ListTagsForResource models no ResourceNotFoundException: a missing resource is a client error there.
  const missing = () =>
    operation === 'read'
      ? new AwsFault('ClientException', 'The specified resource could not be found.')
      : new AwsFault('ResourceNotFoundException', 'The specified resource could not be found.');
  if (type === 'cluster' && rest.length === 1) {
    const cluster = ecs.clusters.get(rest[0]!);
    if (!cluster) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
    return { list: cluster.tags, set: (list) => (cluster.tags = list) };
  }
  if (type === 'service' && rest.length === 2) {
    if (!ecs.clusters.has(rest[0]!)) throw new AwsFault('ClusterNotFoundException', 'Cluster not found.');
    const service = ecs.services.get(`${rest[0]}/${rest[1]}`);
    if (!service || service.status === 'INACTIVE') throw missing();
    return { list: service.tags, set: (list) => (service.tags = list) };
  }
  if (type === 'service' && rest.length === 1) {
    throw invalid('Long arn format must be used for tagging operations.');
  }
  if (type === 'task-definition' && rest.length === 1) {
    const td = ecs.findTaskDefinition(arn);
    if (!td) throw missing();
    return { list: td.tags, set: (list) => (td.tags = list) };
  }
  throw invalid(`Invalid resourceArn: ${arn}.`);
}

const asMap = (list: TagList) => new Map(list.map((t) => [t.key, t.value]));
const asList = (map: Map<string, string>): TagList => [...map].map(([key, value]) => ({ key, value }));

/** ECS TagResource, UntagResource and ListTagsForResource. */
export function taggingOperations(ecs: EcsCore) {
  return {
    TagResource: (p: Record<string, unknown>) => {
      const target = tagsOf(ecs, p.resourceArn, 'write');
      const incoming = p.tags as TagList | undefined;
      if (!Array.isArray(incoming)) throw invalid('tags can not be blank.');
      const map = asMap(target.list);
      applyTags(map, incoming, RULES);
      target.set(asList(map));
      return {};
    },
    UntagResource: (p: Record<string, unknown>) => {
      const target = tagsOf(ecs, p.resourceArn, 'write');
      const keys = p.tagKeys as string[] | undefined;
      if (!Array.isArray(keys)) throw invalid('tagKeys can not be blank.');
      const map = asMap(target.list);
      removeTags(map, keys, RULES);
      target.set(asList(map));
      return {};
    },
    ListTagsForResource: (p: Record<string, unknown>) => ({ tags: tagsOf(ecs, p.resourceArn, 'read').list }),
  };
}
