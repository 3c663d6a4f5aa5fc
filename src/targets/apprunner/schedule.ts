import {
  describeService,
  listAppRunnerTags,
  pauseOrResume,
  tagAppRunnerResource,
  untagAppRunnerResource,
} from '../../aws/apprunner';
import { DeployError } from '../../core/errors';
import { pauseTags, readPause } from '../../core/pause-tags';
import type { PollDelays } from '../../core/poller';
import type { PauseState, Scheduler } from '../target';
import { serviceUrlOf } from './image-reference';
import { newRun, waitForOperation, whenIdle } from './operation';
import { type AppRunnerDeps, RESOURCE } from './types';

/**
 * App Runner's own PauseService / ResumeService, each followed to its operation's end. Nothing numeric to save: the
 * `paused-at` tag says the pause was ours, so that resume never wakes a service someone else paused.
 */
export function appRunnerScheduler(deps: AppRunnerDeps, serviceArn: string, pollDelays?: PollDelays): Scheduler {
  const operate = async (mode: 'pause' | 'resume', timeoutMs: number) => {
    const run = newRun(deps, { serviceArn, onBusy: 'wait', timeoutMs, ...(pollDelays ? { pollDelays } : {}) });
    const service = await whenIdle(run, await describeService(deps.client, serviceArn));
    const operationId = await pauseOrResume(deps.client, service, mode);
    deps.logger.info(
      `App Runner ${mode === 'pause' ? 'PauseService' : 'ResumeService'} started: operation ${operationId}.`,
    );
    const op = await waitForOperation(run, service.name, operationId);
    if (op.status !== 'SUCCEEDED') {
      throw new DeployError(
        `App Runner could not ${mode} ${RESOURCE} ${service.name}: operation ${operationId} ended ${op.status}. ` +
          'See the service in the App Runner console for why.',
      );
    }
    return service;
  };
  return {
    async inspect(purpose = 'schedule'): Promise<PauseState> {
      const service = await describeService(deps.client, serviceArn);
      const label = `${RESOURCE} ${service.name}`;
      const platformPaused = service.status === 'PAUSED';
      // A deploy needs the tags only to say who paused a PAUSED service: a deploy role without
      // apprunner:ListTagsForResource still deploys to a running one, and to a paused one with on-paused: resume.
      const tags =
        purpose === 'deploy' && !platformPaused
          ? {}
          : await listAppRunnerTags(deps.client, serviceArn).catch((error: unknown) => {
              if (purpose !== 'deploy') throw error;
              deps.logger.debug(`Could not read the tags of ${label}: ${(error as Error).message}`);
              return {};
            });
      const saved = readPause(tags, label);
      return {
        label,
        ...(saved.paused ? { paused: 'ours' as const } : platformPaused ? { paused: 'platform' as const } : {}),
        keepRunning: saved.keepRunning,
        stopped: platformPaused,
        saved: saved.counts,
        ...(saved.at ? { pausedAt: saved.at } : {}),
        tagKeys: saved.keys,
        now: `status ${service.status}`,
      };
    },

    async pause(_state, timeoutMs) {
      // Tagged first: a pause cut short after the tag is still known as ours.
      await tagAppRunnerResource(deps.client, serviceArn, pauseTags({}, new Date(deps.clock.now())));
      await operate('pause', timeoutMs);
      return 'RUNNING → PAUSED (compute capacity 0)';
    },

    async resume(state, timeoutMs) {
      const service = state.stopped
        ? await operate('resume', timeoutMs)
        : await describeService(deps.client, serviceArn);
      await untagAppRunnerResource(deps.client, serviceArn, state.tagKeys);
      return {
        restored: state.stopped ? 'PAUSED → RUNNING' : `already ${service.status}`,
        ...(service.url ? { serviceUrl: serviceUrlOf(service.url) } : {}),
      };
    },
  };
}
