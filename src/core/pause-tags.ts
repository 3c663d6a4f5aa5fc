import { DeployError } from './errors';

/**
 * The tags a scheduled pause leaves on the resource it scaled to zero. What was changed lives on the resource itself,
 * not in a runner's cache or a file, so that the resume restores exactly that from any machine (another runner, a
 * laptop) and a second pause can see the first one.
 */
export const PAUSED_PREFIX = 'aws-deploy-kit:paused-';
/** When the pause happened (ISO 8601): marks the resource as paused by us even where nothing numeric was saved. */
export const PAUSED_AT = `${PAUSED_PREFIX}at`;
/** Set by people, never by us: a resource tagged `aws-deploy-kit:keep-running=true` is never paused. */
export const KEEP_RUNNING = 'aws-deploy-kit:keep-running';

/** What a pause saved: counts by name (`desired`, `min`), and when. */
export interface SavedPause {
  /** True when any of our paused- tags is on the resource. */
  paused: boolean;
  counts: Record<string, number>;
  at?: string;
  /** The keys of our tags found (what resume removes). */
  keys: string[];
  keepRunning: boolean;
}

/** The tags a pause writes: `aws-deploy-kit:paused-<name>=<count>` for each count, and `paused-at`. */
export function pauseTags(counts: Record<string, number>, at: Date): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [name, count] of Object.entries(counts)) tags[`${PAUSED_PREFIX}${name}`] = String(count);
  // Seconds precision and no fraction: ECS and App Runner tag values allow `:` and `-`, not every other character.
  tags[PAUSED_AT] = `${at.toISOString().slice(0, 19)}Z`;
  return tags;
}

/** Reads our tags back; a count tag edited into something that is not a count is an error that names it. */
export function readPause(tags: Record<string, string>, label: string): SavedPause {
  const counts: Record<string, number> = {};
  const keys: string[] = [];
  let at: string | undefined;
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(PAUSED_PREFIX)) continue;
    keys.push(key);
    if (key === PAUSED_AT) {
      at = value;
      continue;
    }
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
      throw new DeployError(
        `${label} has the tag ${key}=${JSON.stringify(value)}, which is not a count: resume cannot know what to put ` +
          'back. Set it to the number to restore (or remove the paused- tags and scale it by hand). Nothing was changed.',
      );
    }
    counts[key.slice(PAUSED_PREFIX.length)] = n;
  }
  const keepRunning = (tags[KEEP_RUNNING] ?? '').trim().toLowerCase() === 'true';
  return { paused: keys.length > 0, counts, ...(at ? { at } : {}), keys, keepRunning };
}

/** Tags as a map, from the [{key, value}] / [{Key, Value}] lists the AWS APIs answer. */
export function tagMap(
  list: readonly {
    key?: string | undefined;
    value?: string | undefined;
    Key?: string | undefined;
    Value?: string | undefined;
  }[],
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const tag of list) {
    const key = tag.key ?? tag.Key;
    if (key !== undefined) map[key] = tag.value ?? tag.Value ?? '';
  }
  return map;
}
