import type { ActionDeps } from '../actions/runtime';
import { systemClock } from '../core/clock';
import { DeployError } from '../core/errors';
import { flatGroups } from '../core/logger';

export interface TerminalRun {
  deps: ActionDeps;
  outputs: Record<string, string>;
  summaries: string[];
}

/**
 * ActionDeps for a terminal: progress goes to stderr (so --json stdout stays clean), outputs are collected, and every
 * value passed to setSecret is masked in what is printed, as the runner does.
 */
export function terminalDeps(getInput: (name: string) => string, env: NodeJS.ProcessEnv): TerminalRun {
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  const secrets: string[] = [];
  const state: Record<string, string> = {};
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  const print = (prefix: string, message: string) => process.stderr.write(`${prefix}${mask(message)}\n`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new DeployError('Interrupted (SIGINT).')));
  process.once('SIGTERM', () => controller.abort(new DeployError('Terminated (SIGTERM).')));
  const deps: ActionDeps = {
    getInput,
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: (value) => {
      if (value) secrets.push(value);
    },
    logger: {
      info: (m) => print('', m),
      warning: (m) => print('warning: ', m),
      error: (m) => print('error: ', m),
      debug: (m) => {
        if (env.ADK_DEBUG) print('debug: ', m);
      },
      // No collapsing in a terminal: a heading line before the group's lines.
      group: flatGroups((title, fn) => {
        print('', `\n━━ ${title} ━━`);
        return fn();
      }),
    },
    env,
    clock: systemClock,
    signal: controller.signal,
    writeSummary: async (markdown) => {
      summaries.push(mask(markdown));
    },
    saveState: (name, value) => {
      state[name] = value;
    },
    getState: (name) => state[name] ?? '',
  };
  return { deps, outputs, summaries };
}
