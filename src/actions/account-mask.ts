import { accountIdsIn } from '../core/account-id';
import { type InputParser, type InputReader, inputParser } from '../core/input';
import type { Logger } from '../core/logger';
import type { ActionDeps } from './runtime';

/** The input's name, as aws-actions/configure-aws-credentials spells it. */
export const MASK_ACCOUNT_INPUT = 'mask-aws-account-id';

/** mask-aws-account-id: a boolean, false by default (an account ID is not a secret, but some teams keep it private). */
export function parseMaskAccountId(p: InputParser): boolean {
  return p.boolean(MASK_ACCOUNT_INPUT, false);
}

// Per step (its setSecret), so a value is registered once however many places name it.
const masked = new WeakMap<ActionDeps['setSecret'], Set<string>>();

/**
 * With mask-aws-account-id, registers the account IDs in `texts` (registry hosts, ARNs) as secrets, so the runner
 * shows *** for them in every later log line, the step's own and docker's. Call as soon as such a text is known,
 * before it is logged.
 */
export function maskAccountIds(
  deps: Pick<ActionDeps, 'setSecret'>,
  enabled: boolean,
  ...texts: (string | undefined)[]
): void {
  if (!enabled) return;
  const done = masked.get(deps.setSecret) ?? new Set<string>();
  masked.set(deps.setSecret, done);
  for (const id of accountIdsIn(...texts)) {
    if (done.has(id)) continue;
    done.add(id);
    deps.setSecret(id);
  }
}

/**
 * The masking of a post step, which parses no inputs: the runner hands it the main step's inputs (INPUT_*) and state
 * (STATE_*), and those hold the ARNs and registry hosts the main step knew; `known` adds what it read otherwise.
 */
export function maskInPostStep(deps: Pick<ActionDeps, 'getInput' | 'setSecret' | 'env'>, ...known: string[]): void {
  const enabled = masksAccountIds(deps.getInput);
  const given = Object.entries(deps.env)
    .filter(([name]) => name.startsWith('INPUT_') || name.startsWith('STATE_'))
    .map(([, value]) => value);
  maskAccountIds(deps, enabled, ...given, ...known);
}

/** Whether the step masks account IDs; a value that is not a boolean reads as yes (its parser then fails the step). */
export function masksAccountIds(read: InputReader): boolean {
  try {
    return parseMaskAccountId(inputParser(read));
  } catch {
    return true;
  }
}

/**
 * A logger that masks the account IDs a line names before it prints the line: the net under the explicit calls, for
 * ARNs known only from AWS's answers and errors (a task definition of another account, an AccessDenied naming the
 * caller's role).
 */
export function maskingLogger(logger: Logger, deps: Pick<ActionDeps, 'setSecret'>): Logger {
  const checked = (message: string) => {
    maskAccountIds(deps, true, message);
    return message;
  };
  return {
    info: (m) => logger.info(checked(m)),
    warning: (m) => logger.warning(checked(m)),
    error: (m) => logger.error(checked(m)),
    debug: (m) => logger.debug(checked(m)),
    group: (title, fn) => logger.group(checked(title), fn),
  };
}
