import type { ActionDeps } from '../runtime';
import type { PromoteServices } from './execute';
import { parsePromoteInputs } from './inputs';

export type { PromoteServices } from './execute';

/** promote: parse and check every input, then (and only then) load the ECR code and run it. */
export async function run(deps: ActionDeps, services: PromoteServices = {}): Promise<void> {
  const inputs = parsePromoteInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
