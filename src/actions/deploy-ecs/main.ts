import type { ActionDeps } from '../runtime';
import type { DeployEcsServices } from './execute';
import { parseDeployEcsInputs } from './inputs';

export type { DeployEcsServices } from './execute';

/** deploy-ecs: parse and check every input (the task-definition file read), then load the ECS code and run it. */
export async function run(deps: ActionDeps, services: DeployEcsServices = {}): Promise<void> {
  const inputs = parseDeployEcsInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
