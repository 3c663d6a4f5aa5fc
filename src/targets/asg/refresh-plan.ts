import type { GroupInfo } from '../../aws/autoscaling';
import { ConfigurationError } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { formatDuration } from '../../core/poller';
import type { RefreshPreferences } from './refresh';

/** AWS's CheckpointDelay when CheckpointPercentages is given without one. */
export const DEFAULT_CHECKPOINT_DELAY = 3600;

/** Checkpoints that pause the refresh: every one below 100, and the last of a list that stops short of 100. */
function pausingCheckpoints(percentages: number[] | undefined): number {
  if (!percentages?.length) return 0;
  return percentages.filter((c) => c < 100).length;
}

/** The seconds the preferences alone make a refresh last (checkpoint delays and bake time), whatever the group. */
export function preferencesFloorSeconds(p: RefreshPreferences): number {
  const checkpoints = pausingCheckpoints(p.checkpointPercentages) * (p.checkpointDelay ?? DEFAULT_CHECKPOINT_DELAY);
  return checkpoints + (p.bakeTime ?? 0);
}

/** The warmup AWS applies after each batch: InstanceWarmup, else DefaultInstanceWarmup, else HealthCheckGracePeriod. */
export function warmupSeconds(group: GroupInfo, p: RefreshPreferences): number {
  return p.instanceWarmup ?? group.defaultInstanceWarmup ?? group.healthCheckGracePeriod ?? 0;
}

/** The instances the refresh will replace, as far as the group tells before it starts. */
function toReplace(group: GroupInfo, p: RefreshPreferences, launchTemplateVersion: string | undefined): number {
  const candidates = group.instances.filter((i) => {
    if (i.lifecycleState === 'Standby') return p.standbyInstances === 'Terminate';
    if (i.lifecycleState !== 'InService') return false;
    return !(i.protectedFromScaleIn && p.scaleInProtectedInstances === 'Ignore');
  });
  if (!p.skipMatching) return candidates.length;
  // Only a numbered target can be compared here ($Latest/$Default need EC2): count what surely differs.
  const target = launchTemplateVersion ?? group.launchTemplate?.version;
  if (!target || !/^\d+$/.test(target)) return 0;
  return candidates.filter((i) => i.version !== undefined && i.version !== target).length;
}

/**
 * The least time a refresh with these preferences can take on this group: warmup after each batch (batches are at
 * most MaxHealthy - MinHealthy percent of the group, and at least one instance), each checkpoint's delay, the bake
 * time. Launch and boot times are not counted, so the real refresh always takes longer.
 */
export function leastRefreshSeconds(
  group: GroupInfo,
  p: RefreshPreferences,
  launchTemplateVersion?: string,
): { seconds: number; batches: number; warmup: number; instances: number } {
  const instances = toReplace(group, p, launchTemplateVersion);
  const capacity = Math.max(group.desiredCapacity, instances, 1);
  const span = (p.maxHealthyPercentage ?? 100) - p.minHealthyPercentage;
  const batch = Math.max(1, Math.floor((capacity * span) / 100));
  const batches = Math.ceil(instances / batch);
  const warmup = warmupSeconds(group, p);
  const checkpoints = instances > 0 ? pausingCheckpoints(p.checkpointPercentages) : 0;
  const seconds =
    batches * warmup +
    checkpoints * (p.checkpointDelay ?? DEFAULT_CHECKPOINT_DELAY) +
    (instances > 0 ? (p.bakeTime ?? 0) : 0);
  return { seconds, batches, warmup, instances };
}

/** What the durations that make up `seconds` come from, naming the inputs that set them (or AWS's defaults). */
function durationParts(p: RefreshPreferences, warmupPart?: string): string {
  const parts: string[] = [];
  const pausing = pausingCheckpoints(p.checkpointPercentages);
  if (pausing > 0) {
    const delay = p.checkpointDelay ?? DEFAULT_CHECKPOINT_DELAY;
    parts.push(
      `${pausing} checkpoint(s) of checkpoint-percentages × ${delay} s ` +
        (p.checkpointDelay === undefined ? '(checkpoint-delay is empty: AWS waits 3600 s)' : '(checkpoint-delay)'),
    );
  }
  if (p.bakeTime) parts.push(`refresh-bake-time ${p.bakeTime} s`);
  if (warmupPart) parts.push(warmupPart);
  return parts.join(' + ');
}

function refuse(timeoutMs: number, seconds: number, parts: string): ConfigurationError {
  const minutes = Math.ceil(seconds / 60);
  return new ConfigurationError(
    'timeout-minutes',
    String(Math.round(timeoutMs / 60_000)),
    `at least ${minutes} minutes: the instance refresh cannot end sooner than ${formatDuration(seconds * 1000)} ` +
      `(${parts}). Raise timeout-minutes (at most 360), or shorten checkpoint-delay / refresh-bake-time / instance-warmup`,
  );
}

/** Refuses, before any AWS call, preferences whose own delays outlast timeout-minutes. */
export function checkPreferencesFitTimeout(p: RefreshPreferences, timeoutMs: number): void {
  const seconds = preferencesFloorSeconds(p);
  if (seconds * 1000 > timeoutMs) throw refuse(timeoutMs, seconds, durationParts(p));
}

/** Refuses, before the refresh starts, a refresh of this group that cannot end within timeout-minutes. */
export function checkRefreshFitsTimeout(
  group: GroupInfo,
  p: RefreshPreferences,
  launchTemplateVersion: string | undefined,
  timeoutMs: number,
): void {
  const least = leastRefreshSeconds(group, p, launchTemplateVersion);
  if (least.seconds * 1000 <= timeoutMs) return;
  const source =
    p.instanceWarmup !== undefined
      ? 'instance-warmup'
      : group.defaultInstanceWarmup !== undefined
        ? "the group's DefaultInstanceWarmup, as instance-warmup is empty"
        : "the group's HealthCheckGracePeriod, as instance-warmup is empty and the group has no DefaultInstanceWarmup";
  const warmup =
    least.batches > 0 && least.warmup > 0
      ? `${least.batches} batch(es) of ${least.instances} instance(s) × ${least.warmup} s warmup (${source})`
      : undefined;
  throw refuse(timeoutMs, least.seconds, durationParts(p, warmup));
}

/**
 * States what the refresh will do with protected and Standby instances. AWS's API defaults both to Wait: it waits up
 * to an hour for them, then fails the refresh, so that case is a warning, never a silent wait.
 */
export function reportBlockers(group: GroupInfo, p: RefreshPreferences, logger: Logger): void {
  const live = group.instances.filter((i) => i.lifecycleState !== 'Terminated');
  const protectedCount = live.filter((i) => i.protectedFromScaleIn && i.lifecycleState !== 'Standby').length;
  const standbyCount = live.filter((i) => i.lifecycleState === 'Standby').length;
  const lines: [number, string, string | undefined, Record<string, string>][] = [
    [
      protectedCount,
      'protected from scale in',
      p.scaleInProtectedInstances,
      {
        Refresh: 'they are replaced like the others',
        Ignore: 'they are left as they are, on their old image',
        Wait: 'AWS waits up to 1 h for their protection to be removed, then fails the refresh',
      },
    ],
    [
      standbyCount,
      'in Standby',
      p.standbyInstances,
      {
        Terminate: 'they are terminated and replaced',
        Ignore: 'they are left as they are, on their old image',
        Wait: 'AWS waits up to 1 h for them to return to service, then fails the refresh',
      },
    ],
  ];
  for (const [count, what, chosen, effects] of lines) {
    const input = what === 'in Standby' ? 'standby-instances' : 'scale-in-protected-instances';
    const policy = chosen ?? 'Wait';
    const named = chosen ? `${input} is ${chosen}` : `${input} is empty, so AWS's API default Wait applies`;
    if (count === 0) {
      logger.info(`${group.name} has no instance ${what} (${named}).`);
    } else if (policy === 'Wait') {
      logger.warning(
        `${group.name} has ${count} instance(s) ${what} and ${named}: ${effects.Wait}. Set ${input} to ` +
          `${what === 'in Standby' ? 'Terminate' : 'Refresh'} or Ignore to go on without waiting.`,
      );
    } else {
      logger.info(`${group.name} has ${count} instance(s) ${what}; ${named}: ${effects[policy]}.`);
    }
  }
}
