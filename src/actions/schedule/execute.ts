import type { ECRClient } from '@aws-sdk/client-ecr';
import { ecrClient } from '../../aws/ecr';
import { DeployError } from '../../core/errors';
import { waitUntilHealthy } from '../../core/health';
import { facts } from '../../core/markdown';
import type { PollDelays } from '../../core/poller';
import { redactUrl } from '../../core/redact';
import { openTarget } from '../../targets';
import type { PauseState, Scheduler, Target } from '../../targets/target';
import { targetContext } from '../compose';
import type { ActionDeps } from '../runtime';
import type { ScheduleInputs } from './inputs';

/** Replaceable parts, for tests. */
export interface ScheduleServices {
  ecr?: ECRClient;
  /** The platform's SDK clients, by the names its target.ts documents. */
  clients?: Record<string, unknown>;
  pollDelays?: PollDelays;
}

/**
 * The `result` output: what the step did. Everything but `paused` and `resumed` changed nothing, and each says why
 * in the log.
 */
export type ScheduleResult =
  | 'paused'
  | 'resumed'
  | 'already-paused'
  | 'already-stopped'
  | 'not-paused'
  | 'kept-running';

/**
 * Pauses a target (scales it to zero, what it changed saved as tags on it) or resumes it (puts back what the tags
 * say, then checks it serves). Pausing what is paused, or resuming what we did not pause, changes nothing.
 */
export async function execute(
  deps: ActionDeps,
  inputs: ScheduleInputs,
  services: ScheduleServices = {},
): Promise<void> {
  const { logger } = deps;
  // No image is deployed: ECR is never called, but the target context carries a client.
  const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
  const target = await openTarget(inputs.target, targetContext(deps, inputs.region, ecr, services));
  const scheduler = requireScheduler(target);
  const state = await scheduler.inspect();
  logger.info(`${inputs.environment}: ${state.label}, ${state.now}${describeTags(state)}.`);

  let result: ScheduleResult;
  let changed = '';
  let serviceUrl: string | undefined;
  if (inputs.mode === 'pause') {
    const skip = whyNotPause(state);
    if (skip) {
      logger.info(skip.line);
      result = skip.result;
    } else {
      if (state.paused === 'ours') {
        logger.warning(
          `${state.label} carries our paused- tags but runs again (${state.now}): pausing it again, saving what it ` +
            'runs now.',
        );
      }
      changed = await logger.group(`pause ${state.label}`, () => scheduler.pause(state, inputs.timeoutMs));
      logger.info(`Paused ${state.label} (${inputs.environment}): ${changed}. Resume restores it from its tags.`);
      result = 'paused';
    }
  } else if (state.paused !== 'ours') {
    logger.info(notOurs(state));
    result = 'not-paused';
  } else {
    const resumed = await logger.group(`resume ${state.label}`, () => scheduler.resume(state, inputs.timeoutMs));
    changed = resumed.restored;
    serviceUrl = resumed.serviceUrl;
    logger.info(`Resumed ${state.label} (${inputs.environment}): ${changed}.`);
    if (inputs.healthUrl) await logger.group('verify it serves again', () => verify(deps, inputs, state, serviceUrl));
    result = 'resumed';
  }

  deps.setOutput('result', result);
  deps.setOutput('saved', JSON.stringify(state.saved));
  deps.setOutput('service-url', serviceUrl ?? '');
  const rows: [string, string][] = [
    ['Environment', inputs.environment],
    [target.resource, state.label],
    ['Before', state.now],
    ['Result', result],
    ...(changed ? ([['Changed', changed]] as [string, string][]) : []),
    ...(Object.keys(state.saved).length
      ? ([['Saved in tags', JSON.stringify(state.saved)]] as [string, string][])
      : []),
  ];
  await deps.writeSummary(`### Schedule ${inputs.mode}: ${result}\n\n${facts(rows)}\n`).catch((error: unknown) => {
    logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
}

function requireScheduler(target: Target): Scheduler {
  if (!target.scheduler)
    throw new DeployError(`${target.label} cannot be paused by aws-deploy-kit: its platform has no pause.`);
  return target.scheduler;
}

function describeTags(state: PauseState): string {
  const parts: string[] = [];
  if (state.paused === 'ours')
    parts.push(
      `paused by aws-deploy-kit${state.pausedAt ? ` at ${state.pausedAt}` : ''} (saved ${JSON.stringify(state.saved)})`,
    );
  if (state.paused === 'platform') parts.push('paused, not by aws-deploy-kit');
  if (state.keepRunning) parts.push('tagged aws-deploy-kit:keep-running=true');
  return parts.length ? `; ${parts.join('; ')}` : '';
}

/** Why a pause changes nothing, or undefined when it should pause. */
function whyNotPause(state: PauseState): { result: ScheduleResult; line: string } | undefined {
  if (state.keepRunning)
    return {
      result: 'kept-running',
      line: `Skipped ${state.label}: it is tagged aws-deploy-kit:keep-running=true. Remove the tag to let the schedule pause it.`,
    };
  if (state.paused === 'ours' && state.stopped)
    return {
      result: 'already-paused',
      line: `${state.label} is already paused${state.pausedAt ? ` (since ${state.pausedAt})` : ''}: nothing to do.`,
    };
  if (state.paused === 'platform')
    return {
      result: 'already-paused',
      line: `${state.label} is already paused, not by aws-deploy-kit: nothing to do (a scheduled resume will leave it paused).`,
    };
  if (state.stopped)
    return {
      result: 'already-stopped',
      line: `${state.label} already runs nothing (${state.now}): nothing to pause, and nothing is saved for a resume to start.`,
    };
  return undefined;
}

function notOurs(state: PauseState): string {
  const why =
    state.paused === 'platform'
      ? 'it is paused, but not by aws-deploy-kit (no aws-deploy-kit:paused- tags), so it is left paused'
      : 'it was not paused by aws-deploy-kit (no aws-deploy-kit:paused- tags)';
  return `Nothing to resume on ${state.label}: ${why}; it is left as it is (${state.now}).`;
}

async function verify(
  deps: ActionDeps,
  inputs: ScheduleInputs,
  state: PauseState,
  serviceUrl: string | undefined,
): Promise<void> {
  const given = inputs.healthUrl as string;
  if (given.startsWith('/') && !serviceUrl) {
    throw new DeployError(`${state.label} gave no URL to check ${given} at: set health-url to a full URL.`);
  }
  const url = given.startsWith('/') ? `${serviceUrl}${given}` : given;
  const health = await waitUntilHealthy({
    url,
    expectedStatus: inputs.expectedStatus,
    consecutiveSuccesses: inputs.consecutiveSuccesses,
    intervalMs: inputs.healthIntervalMs,
    timeoutMs: inputs.healthTimeoutMs,
    clock: deps.clock,
    logger: deps.logger,
    signal: deps.signal,
  });
  deps.logger.info(`${redactUrl(url)} is healthy again after ${health.attempts} attempt(s).`);
}
