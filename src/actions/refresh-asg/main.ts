import type { ActionDeps } from '../runtime';
import type { RefreshAsgServices } from './execute';
import { parseRefreshAsgInputs } from './inputs';

export type { RefreshAsgServices } from './execute';

/** refresh-asg: parse and check every input, then (and only then) load the Auto Scaling code and run it. */
export async function run(deps: ActionDeps, services: RefreshAsgServices = {}): Promise<void> {
  const inputs = parseRefreshAsgInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
