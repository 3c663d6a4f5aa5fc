import { accountIdsIn } from '../core/account-id';
import type { InputParser } from '../core/input';
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
