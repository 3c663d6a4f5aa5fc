import type { ECRClient } from '@aws-sdk/client-ecr';
import type { PollDelays } from '../core/poller';
import type { DeployRecord } from '../core/record';
import { apiUrlFrom, createGitHubClient, type GitHubClient } from '../github/client';
import type { TargetContext } from '../targets/target';
import type { ActionDeps } from './runtime';

/** What a step's `execute` gives back: the record it wrote, its typed result, or what failed it. */
export interface StepResult<T> {
  record: DeployRecord;
  value?: T;
  /** What failed the step; the record says the same. */
  error?: unknown;
}

/**
 * The deps of a step run inside the all-in-one action: its outputs and job summary stay the caller's (the
 * all-in-one action writes its own), everything else is shared.
 */
export function innerStep(deps: ActionDeps, options: { summary?: boolean } = {}): ActionDeps {
  return {
    ...deps,
    getInput: () => '',
    setOutput: () => {},
    ...(options.summary ? {} : { writeSummary: async () => {} }),
  };
}

/** The context a step gives its deploy target: the job's clock, logger, signal and state, and any injected clients. */
export function targetContext(
  deps: ActionDeps,
  region: string,
  ecr: ECRClient,
  services: { clients?: Record<string, unknown>; pollDelays?: PollDelays } = {},
): TargetContext {
  return {
    region,
    env: deps.env,
    clock: deps.clock,
    logger: deps.logger,
    signal: deps.signal,
    ecr,
    ...(services.clients ? { clients: services.clients } : {}),
    ...(services.pollDelays ? { pollDelays: services.pollDelays } : {}),
    saveState: (name, value) => deps.saveState(name, value),
  };
}

/** The GitHub client of a step: the injected one (tests), else one for `token` at the runner's API URL. */
export async function githubFor(deps: ActionDeps, token: string, given?: GitHubClient): Promise<GitHubClient> {
  return (
    given ??
    createGitHubClient(token, {
      apiUrl: apiUrlFrom(deps.env),
      clock: deps.clock,
      logger: deps.logger,
      signal: deps.signal,
    })
  );
}
