import type { ActionDeps } from '../runtime';
import type { EcrCleanupServices } from './execute';
import { parseEcrCleanupInputs } from './inputs';

export type { EcrCleanupServices } from './execute';

/** ecr-cleanup: parse and check every input, then (and only then) load the AWS and GitHub code and run it. */
export async function run(deps: ActionDeps, services: EcrCleanupServices = {}): Promise<void> {
  const inputs = parseEcrCleanupInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
