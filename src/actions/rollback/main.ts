import type { ActionDeps } from '../runtime';
import type { RollbackServices } from './execute';
import { parseRollbackInputs } from './inputs';

export type { RollbackServices } from './execute';

/** rollback: parse and check every input, then (and only then) load the AWS and GitHub code and run it. */
export async function run(deps: ActionDeps, services: RollbackServices = {}): Promise<void> {
  const inputs = parseRollbackInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
