import type { AlarmSelector, AlarmState } from '../aws/cloudwatch';
import type { Clock } from '../core/clock';
import { ConfigurationError, DeployError } from '../core/errors';
import type { Logger } from '../core/logger';
import { formatDuration, type PollDelays, poll } from '../core/poller';
import { type DeployRecord, inPhase } from '../core/record';

/**
 * The bake: after the new version passed its verification, the deploy's CloudWatch alarms are watched for a while;
 * an alarm that goes into ALARM (and was not in ALARM before the deploy) fails the deploy, which the caller rolls
 * back by the one rollback path. The same on every platform; where the platform has its own alarm watch (instance
 * refresh AlarmSpecification, ECS deployment alarms) it watches the same names during its rollout as well.
 */

/** `alarms` input: one alarm name per line (or comma), or a name prefix ending in `*` (`web-*`). */
export function parseAlarmSelector(input: string, entries: readonly string[]): AlarmSelector {
  const selector: AlarmSelector = { names: [], prefixes: [] };
  for (const entry of entries) {
    const prefix = entry.endsWith('*');
    const name = prefix ? entry.slice(0, -1) : entry;
    if (name === '' || name.length > 255 || name.includes('*') || [...name].some((c) => c.charCodeAt(0) < 32)) {
      throw new ConfigurationError(
        input,
        entry,
        'CloudWatch alarm names (1-255 characters), one per line, or a name prefix ending in * such as "web-*"',
      );
    }
    const list = prefix ? selector.prefixes : selector.names;
    if (!list.includes(name)) list.push(name);
  }
  return selector;
}

export function isEmptySelector(selector: AlarmSelector): boolean {
  return selector.names.length === 0 && selector.prefixes.length === 0;
}

/** How the selector reads in a log line: `web-5xx, web-latency, api-*`. */
export function describeSelector(selector: AlarmSelector): string {
  return [...selector.names, ...selector.prefixes.map((p) => `${p}*`)].join(', ');
}

export interface BakeContext {
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  /** DescribeAlarms for the selector (src/aws/cloudwatch.ts), injected so the rules are tested without a network. */
  describe: (selector: AlarmSelector, signal?: AbortSignal) => Promise<AlarmState[]>;
  pollDelays?: PollDelays;
}

/** What the alarms were before the deploy: the ones already in ALARM are not this version's doing. */
export interface AlarmBaseline {
  selector: AlarmSelector;
  states: AlarmState[];
  alreadyInAlarm: string[];
}

/**
 * Reads the alarms before anything is deployed: a named alarm that does not exist is refused here (a typo would
 * otherwise watch nothing and pass every bake), and the ones already in ALARM are said and set aside.
 */
export async function alarmBaseline(context: BakeContext, selector: AlarmSelector): Promise<AlarmBaseline> {
  let states: AlarmState[];
  try {
    states = await context.describe(selector, context.signal);
  } catch (error) {
    throw new DeployError(
      `Could not read the CloudWatch alarms ${describeSelector(selector)} before the deploy: ${(error as Error).message}. ` +
        'The deploy needs cloudwatch:DescribeAlarms on them (docs/iam.md). Nothing was deployed.',
      { cause: error },
    );
  }
  const missing = selector.names.filter((name) => !states.some((s) => s.name === name));
  if (missing.length > 0) {
    throw new DeployError(
      `The CloudWatch alarm${missing.length > 1 ? 's' : ''} ${missing.join(', ')} named in alarms ` +
        `do${missing.length > 1 ? '' : 'es'} not exist in this account and region: a bake would watch nothing. ` +
        'Create it, or correct the name. Nothing was deployed.',
    );
  }
  const unmatched = selector.prefixes.filter((p) => !states.some((s) => s.name.startsWith(p)));
  for (const prefix of unmatched)
    context.logger.warning(`No CloudWatch alarm name starts with "${prefix}": it watches nothing.`);
  const alreadyInAlarm = states.filter((s) => s.state === 'ALARM').map((s) => s.name);
  if (alreadyInAlarm.length > 0) {
    context.logger.warning(
      `Already in ALARM before this deploy, so not held against it: ${alreadyInAlarm.join(', ')}. ` +
        'An alarm that is in ALARM for another reason cannot tell whether this version is bad.',
    );
  }
  context.logger.info(`Alarms to watch: ${states.map((s) => `${s.name} (${s.state})`).join(', ') || '(none found)'}.`);
  return { selector, states, alreadyInAlarm };
}

/** The alarm that fired during the bake. */
export interface BakeFiring {
  name: string;
  reason: string;
  at: string;
}

export class BakeAlarmError extends DeployError {
  override readonly name = 'BakeAlarmError';
  constructor(readonly firing: BakeFiring) {
    super(`The CloudWatch alarm ${firing.name} went into ALARM during the bake at ${firing.at}: ${firing.reason}`);
  }
}

function left(ms: number): string {
  if (ms >= 60_000) return `${Math.ceil(ms / 60_000)} min left`;
  return `${Math.ceil(ms / 10_000) * 10} s left`;
}

/**
 * Watches the alarms for `seconds` after the verification, as the record's `bake` phase. Resolves when the bake
 * passes; throws BakeAlarmError when an alarm not in ALARM before the deploy goes into ALARM (the record says which,
 * why and when), or the job's cancellation. A progress line shows the time left and each alarm's state.
 */
export async function bake(
  context: BakeContext,
  record: DeployRecord,
  baseline: AlarmBaseline,
  seconds: number,
): Promise<void> {
  const durationMs = seconds * 1000;
  // A look every tenth of the bake, between 1 and 10 s: a 5-minute bake notices an alarm at most 10 s late.
  const every = Math.min(10_000, Math.max(1_000, Math.round(durationMs / 10)));
  const delays = context.pollDelays ?? { minDelayMs: every, maxDelayMs: every };
  record.bake = {
    seconds,
    alarms: baseline.states.map((s) => ({ name: s.name, state: s.state })),
    alreadyInAlarm: [...baseline.alreadyInAlarm],
  };
  const bakeRecord = record.bake;
  const started = context.clock.now();
  context.logger.info(
    `Baking for ${formatDuration(durationMs)}: watching ${describeSelector(baseline.selector)}; an alarm going into ` +
      'ALARM rolls this version back.',
  );
  await inPhase(record, 'bake', context.clock, () =>
    poll<void>({
      what: 'bake',
      // A last look at the end of the bake, then it has passed.
      timeoutMs: durationMs + delays.maxDelayMs,
      minDelayMs: Math.min(delays.minDelayMs, durationMs || 1),
      maxDelayMs: Math.min(delays.maxDelayMs, durationMs || 1),
      clock: context.clock,
      logger: context.logger,
      ...(context.signal ? { signal: context.signal } : {}),
      check: async (_attempt, look) => {
        const states = await context.describe(baseline.selector, look.signal);
        bakeRecord.alarms = states.map((s) => ({ name: s.name, state: s.state }));
        const fired = states.find((s) => s.state === 'ALARM' && !baseline.alreadyInAlarm.includes(s.name));
        if (fired) {
          const firing = {
            name: fired.name,
            reason: fired.reason,
            at: (fired.updatedAt ?? new Date(context.clock.now())).toISOString(),
          };
          bakeRecord.fired = firing;
          throw new BakeAlarmError(firing);
        }
        const remaining = started + durationMs - context.clock.now();
        if (remaining <= 0) return { done: true, value: undefined };
        return {
          done: false,
          progress: `${left(remaining)}; ${states.map((s) => `${s.name} ${s.state}`).join(', ') || 'no alarm found'}`,
        };
      },
    }),
  );
  context.logger.info(`The bake passed: no alarm went into ALARM in ${formatDuration(durationMs)}.`);
}
