import type { ActionDeps } from '../runtime';
import type { BuildPushServices } from './execute';
import { parseBuildPushInputs } from './inputs';

export type { BuildPushServices } from './execute';

/** build-push: parse and check every input, then (and only then) load the ECR and docker code and run it. */
export async function run(deps: ActionDeps, services: BuildPushServices = {}): Promise<void> {
  const inputs = parseBuildPushInputs(deps.getInput, deps.env, services.cwd ?? process.cwd());
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  const step = await execute(deps, inputs, services);
  if (step.error) throw step.error;
}
