import { AwsFault } from './protocol';

/**
 * ECR's check of a lifecycle policy text (PutLifecyclePolicy), as its user guide states the rules and as AWS words
 * the refusal (moto copies AWS's messages: "Lifecycle policy validation failure: …"). Only the `expire` action is
 * accepted: the archive transition is not emulated.
 */
const PREFIX =
  "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: ";

function refuse(why: string): never {
  throw new AwsFault('InvalidParameterException', `${PREFIX}${why}'`);
}

const ruleProperties = ['rulePriority', 'description', 'selection', 'action'];
const selectionProperties = ['tagStatus', 'tagPatternList', 'tagPrefixList', 'countType', 'countUnit', 'countNumber'];

function onlyKnown(object: Record<string, unknown>, known: readonly string[]): void {
  const extra = Object.keys(object).filter((key) => !known.includes(key));
  if (extra.length > 0)
    refuse(`object instance has properties which are not allowed by the schema: (${JSON.stringify(extra)})`);
}

function required(object: Record<string, unknown>, names: readonly string[]): void {
  const missing = names.filter((name) => object[name] === undefined);
  if (missing.length > 0) refuse(`object has missing required properties (${JSON.stringify(missing)})`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkSelection(selection: Record<string, unknown>): void {
  onlyKnown(selection, selectionProperties);
  required(selection, ['tagStatus', 'countType', 'countNumber']);
  const { tagStatus, countType, countUnit, countNumber, tagPatternList, tagPrefixList } = selection;
  if (!['tagged', 'untagged', 'any'].includes(String(tagStatus)))
    refuse(`instance value (${String(tagStatus)}) not found in enum :(possible values: ["any","tagged","untagged"])`);
  if (!['imageCountMoreThan', 'sinceImagePushed'].includes(String(countType)))
    refuse('instance failed to match exactly one schema (matched 0 out of 2)');
  if (!Number.isInteger(countNumber) || (countNumber as number) < 1)
    refuse(`numeric instance is lower than the required minimum (minimum: 1, found: ${String(countNumber)})`);
  if (countType === 'sinceImagePushed' && countUnit !== 'days')
    refuse('countUnit must be "days" when countType is sinceImagePushed');
  if (countType === 'imageCountMoreThan' && countUnit !== undefined)
    refuse('countUnit is not allowed when countType is imageCountMoreThan');
  const lists = [tagPatternList, tagPrefixList].filter((list) => list !== undefined);
  if (tagStatus === 'tagged') {
    if (lists.length !== 1) refuse('a rule with tagStatus tagged takes one of tagPatternList or tagPrefixList');
    const list = lists[0];
    if (!Array.isArray(list) || list.length === 0 || list.some((tag) => typeof tag !== 'string' || tag === ''))
      refuse('tagPatternList and tagPrefixList must be non-empty lists of tags');
    if (tagPatternList !== undefined && (list as string[]).some((tag) => (tag.match(/\*/g)?.length ?? 0) > 4))
      refuse('a tag pattern may contain at most four wildcards (*)');
  } else if (lists.length > 0) refuse(`tagPatternList and tagPrefixList are only allowed with tagStatus tagged`);
}

/** Checks a policy text as PutLifecyclePolicy does; returns it unchanged when ECR would accept it. */
export function checkLifecyclePolicy(text: string): string {
  if (text.length < 100 || text.length > 30720)
    throw new AwsFault(
      'InvalidParameterException',
      "Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'Member must have length between 100 and 30720'",
    );
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    refuse('Could not map policyString into LifecyclePolicy.');
  }
  if (!isObject(policy) || !Array.isArray(policy.rules)) refuse('object has missing required properties (["rules"])');
  const rules = (policy as { rules: unknown[] }).rules;
  if (rules.length === 0) refuse('array is too short: must have at least 1 elements but instance has 0 elements');
  const priorities = new Set<number>();
  for (const rule of rules) {
    if (!isObject(rule))
      refuse(`instance type (${typeof rule}) does not match any allowed primitive type (allowed: ["object"])`);
    onlyKnown(rule, ruleProperties);
    required(rule, ['rulePriority', 'selection', 'action']);
    if (!Number.isInteger(rule.rulePriority) || (rule.rulePriority as number) < 1)
      refuse(`numeric instance is lower than the required minimum (minimum: 1, found: ${String(rule.rulePriority)})`);
    if (priorities.has(rule.rulePriority as number)) refuse('The rulePriority of each rule must be unique.');
    priorities.add(rule.rulePriority as number);
    if (!isObject(rule.action)) refuse('object has missing required properties (["type"])');
    onlyKnown(rule.action, ['type']);
    if (rule.action.type !== 'expire')
      refuse(`instance value (${String(rule.action.type)}) not found in enum :(possible values: ["expire"])`);
    if (!isObject(rule.selection)) refuse('object has missing required properties (["selection"])');
    checkSelection(rule.selection);
  }
  const any = (rules as { rulePriority: number; selection: { tagStatus: string } }[]).filter(
    (rule) => rule.selection.tagStatus === 'any',
  );
  if (any.length > 1) refuse('Only one rule can have tagStatus any.');
  if (any.length === 1 && any[0]!.rulePriority !== Math.max(...priorities))
    refuse('The rule with tagStatus any must have the highest rulePriority.');
  return text;
}
