import type { ActionDeps } from '../runtime';
import type { DeployAppRunnerServices } from './execute';
import { parseDeployAppRunnerInputs } from './inputs';

export type { DeployAppRunnerServices } from './execute';

/** deploy-apprunner: parse and check every input, then (and only then) load the App Runner code and run it. */
export async function run(deps: ActionDeps, services: DeployAppRunnerServices = {}): Promise<void> {
  const inputs = parseDeployAppRunnerInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
