import type { ActionDeps } from '../runtime';
import type { ScheduleServices } from './execute';
import { parseScheduleInputs } from './inputs';

export type { ScheduleServices } from './execute';

/** schedule: parse and check every input, then (and only then) load the AWS code and pause or resume. */
export async function run(deps: ActionDeps, services: ScheduleServices = {}): Promise<void> {
  const inputs = parseScheduleInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
