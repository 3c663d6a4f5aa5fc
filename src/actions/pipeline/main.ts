import type { ActionDeps } from '../runtime';
import type { PipelineServices } from './execute';
import { parsePipelineInputs } from './inputs';

export type { PipelineServices } from './execute';

/**
 * The all-in-one action: every input is parsed and checked (by the single actions' own parsers) before any AWS
 * module is loaded; then build-push → deploy → verify → roll back on failure → report.
 */
export async function run(deps: ActionDeps, services: PipelineServices = {}): Promise<void> {
  const inputs = parsePipelineInputs(deps.getInput, deps.env);
  const { execute } = await import(/* webpackMode: "eager" */ './execute');
  await execute(deps, inputs, services);
}
