import * as core from '@actions/core';
import { type Clock, systemClock } from '../core/clock';
import { ConfigurationError, DeployError } from '../core/errors';
import type { InputReader } from '../core/input';
import { flatGroups, type Logger } from '../core/logger';
import { describeProxy } from '../core/proxy';
import { maskAccountIds, maskingLogger, masksAccountIds } from './account-mask';

/** Everything an action's main.ts touches outside itself, passed in so tests can replace any of it. */
export interface ActionDeps {
  getInput: InputReader;
  setOutput(name: string, value: string): void;
  /** Masks a value in every later log line. Call before the value is used. */
  setSecret(value: string): void;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Aborted when the runner cancels the job (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /** Appends markdown to the job summary (GITHUB_STEP_SUMMARY). */
  writeSummary(markdown: string): Promise<void>;
  saveState(name: string, value: string): void;
  getState(name: string): string;
}

export function actionDeps(): ActionDeps {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => controller.abort(new DeployError(`The job was cancelled (${signal}).`)));
  }
  return {
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (value) => core.setSecret(value),
    logger: {
      info: (m) => core.info(m),
      warning: (m) => core.warning(m),
      error: (m) => core.error(m),
      debug: (m) => core.debug(m),
      // A collapsible group in the runner's log; core.group ends it however fn ends.
      group: flatGroups((title, fn) => core.group(title, fn)),
    },
    env: process.env,
    clock: systemClock,
    signal: controller.signal,
    writeSummary: async (markdown) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(markdown, true).write();
    },
    saveState: (name, value) => core.saveState(name, value),
    getState: (name) => core.getState(name),
  };
}

/** Runs an action's main and turns whatever it throws into one clear failure line. */
export async function runAction(main: (deps: ActionDeps) => Promise<void>): Promise<void> {
  const base = actionDeps();
  // mask-aws-account-id: every line of the step (and its failure) is searched for account IDs before it is printed.
  const masking = masksAccountIds(base.getInput);
  const deps = masking ? { ...base, logger: maskingLogger(base.logger, base) } : base;
  const fail = (message: string) => {
    maskAccountIds(deps, masking, message);
    core.setFailed(message);
  };
  try {
    // Once per step, before any request: a proxy the user did not expect (a runner image's HTTPS_PROXY) shows here.
    const proxy = describeProxy();
    if (proxy) deps.logger.info(proxy);
    await main(deps);
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof DeployError) {
      fail(error.message);
    } else {
      const e = error as Error;
      deps.logger.debug(e?.stack ?? String(error));
      fail(`Unexpected error: ${e?.message ?? String(error)}`);
    }
  }
  // Pending SDK sockets or the signal listeners must not keep a finished step alive.
  process.exit(process.exitCode ?? 0);
}
