import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type AlarmSelector, cloudwatchClient, describeAlarms } from '../aws/cloudwatch';
import { ConfigurationError } from '../core/errors';
import type { InputParser } from '../core/input';
import type { PollDelays } from '../core/poller';
import type { DeployRecord } from '../core/record';
import {
  type AlarmBaseline,
  alarmBaseline,
  type BakeContext,
  bake,
  describeSelector,
  isEmptySelector,
  parseAlarmSelector,
} from '../deploy/bake';
import type { ActionDeps } from './runtime';

/** The inputs of the bake, the same on the all-in-one action and the deploy actions. */
export interface BakeInputs {
  /** `alarms`: watched by the bake, and handed to the platform's own alarm watch where it has one. */
  alarms: AlarmSelector;
  /** `bake-time`: seconds to watch the alarms after the verification; 0 = no bake. */
  bakeSeconds: number;
}

/**
 * `alarms` and `bake-time`, checked against each other and against the step's timeout: a bake cannot run past
 * timeout-minutes, so one that would is refused before anything is deployed.
 */
export function parseBakeInputs(p: InputParser, timeoutMinutes: number): BakeInputs {
  const alarms = parseAlarmSelector('alarms', p.list('alarms'));
  const maxSeconds = Math.floor(timeoutMinutes * 60);
  const bakeSeconds = p.integer('bake-time', 0, 0, 172_800) ?? 0;
  if (bakeSeconds > maxSeconds) {
    throw new ConfigurationError(
      'bake-time',
      String(bakeSeconds),
      `at most timeout-minutes × 60 = ${maxSeconds} seconds (the bake never runs past timeout-minutes), or raise timeout-minutes`,
    );
  }
  if (bakeSeconds > 0 && isEmptySelector(alarms)) {
    throw new ConfigurationError(
      'alarms',
      '',
      'the CloudWatch alarms to watch during bake-time (names, or a prefix ending in *), or bake-time 0',
    );
  }
  return { alarms, bakeSeconds };
}

/** The CloudWatch client of a step: the injected one (tests, under `clients.cloudwatch`), else one for the region. */
function bakeContext(
  deps: ActionDeps,
  region: string,
  services: { clients?: Record<string, unknown>; pollDelays?: PollDelays },
): BakeContext {
  const client = (services.clients?.cloudwatch as CloudWatchClient | undefined) ?? cloudwatchClient(region, deps.env);
  return {
    clock: deps.clock,
    logger: deps.logger,
    signal: deps.signal,
    describe: (selector, signal) => describeAlarms(client, selector, signal ? { abortSignal: signal } : {}),
    ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
  };
}

/** The bake of one step: its baseline read before the deploy, then the watch after the verification. */
export interface BakeStep {
  /** Before anything is deployed: refuses a named alarm that does not exist, and notes the ones already in ALARM. */
  baseline(): Promise<void>;
  /** After the verification; resolves when the bake passed (or there is none), throws when an alarm fired. */
  watch(record: DeployRecord): Promise<void>;
  readonly enabled: boolean;
}

export function bakeStep(
  deps: ActionDeps,
  inputs: BakeInputs,
  region: string,
  services: { clients?: Record<string, unknown>; pollDelays?: PollDelays } = {},
): BakeStep {
  const enabled = inputs.bakeSeconds > 0;
  let baseline: AlarmBaseline | undefined;
  // One CloudWatch client for the baseline and the watch, made only when there is a bake.
  let made: BakeContext | undefined;
  const context = () => {
    made ??= bakeContext(deps, region, services);
    return made;
  };
  return {
    enabled,
    baseline: async () => {
      if (!enabled) return;
      baseline = await deps.logger.group(`read the alarms to bake with (${describeSelector(inputs.alarms)})`, () =>
        alarmBaseline(context(), inputs.alarms),
      );
    },
    watch: async (record) => {
      if (!enabled || !baseline) return;
      const read = baseline;
      await deps.logger.group(`bake for ${inputs.bakeSeconds} s`, () =>
        bake(context(), record, read, inputs.bakeSeconds),
      );
    },
  };
}
