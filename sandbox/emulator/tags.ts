import { AwsFault } from './protocol';

/** AWS's limit for user tags on one resource (aws: tags do not count, and callers cannot write them). */
export const MAX_TAGS_PER_RESOURCE = 50;

/** How one service answers a tag it refuses: its error code for a bad tag and for too many. */
export interface TagRules {
  invalid: string;
  tooMany: string;
  /** The characters a key and a value may hold (ECS's model pattern; others allow any Unicode). */
  pattern?: RegExp;
}

/**
 * Applies `incoming` to `tags` the way AWS's tag APIs do: same key overwrites, keys 1-128 and values 0-256
 * characters, the `aws:` prefix (any case) reserved, and at most 50 tags after the change (an overwritten key is not
 * a new one). Nothing is changed when any tag is refused.
 */
export function applyTags(
  tags: Map<string, string>,
  incoming: readonly { key: string; value: string }[],
  rules: TagRules,
): void {
  if (incoming.length === 0) throw new AwsFault(rules.invalid, 'Tags can not be empty.');
  for (const { key, value } of incoming) {
    if (typeof key !== 'string' || key.length < 1 || key.length > 128)
      throw new AwsFault(rules.invalid, `Tag key must be 1 to 128 characters long: ${JSON.stringify(key)}.`);
    if (typeof value !== 'string' || value.length > 256)
      throw new AwsFault(rules.invalid, `Tag value of ${key} must be at most 256 characters long.`);
    if (key.toLowerCase().startsWith('aws:'))
      throw new AwsFault(rules.invalid, `Tag keys beginning with aws: are reserved for AWS use: ${key}.`);
    if (rules.pattern && (!rules.pattern.test(key) || !rules.pattern.test(value)))
      throw new AwsFault(rules.invalid, `Tag ${key} has characters outside ${rules.pattern.source}.`);
  }
  const after = new Set([...tags.keys(), ...incoming.map((t) => t.key)]);
  if (after.size > MAX_TAGS_PER_RESOURCE)
    throw new AwsFault(
      rules.tooMany,
      `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags; this change would leave ${after.size}.`,
    );
  for (const { key, value } of incoming) tags.set(key, value);
}

/** Removes keys; a key that is not there is not an error (as AWS). */
export function removeTags(tags: Map<string, string>, keys: readonly string[], rules: TagRules): void {
  if (keys.length === 0) throw new AwsFault(rules.invalid, 'Tag keys can not be empty.');
  for (const key of keys) {
    if (typeof key !== 'string' || key.length < 1 || key.length > 128)
      throw new AwsFault(rules.invalid, `Tag key must be 1 to 128 characters long: ${JSON.stringify(key)}.`);
    if (key.toLowerCase().startsWith('aws:'))
      throw new AwsFault(rules.invalid, `Tag keys beginning with aws: are reserved for AWS use: ${key}.`);
  }
  for (const key of keys) tags.delete(key);
}

/** ECS's model pattern for tag keys and values. */
export const ECS_TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
