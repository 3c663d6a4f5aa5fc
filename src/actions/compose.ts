import type { DeployRecord } from '../core/record';
import type { ActionDeps } from './runtime';

/** What a step's `execute` gives back: the record it wrote, its typed result, or what failed it. */
export interface StepResult<T> {
  record: DeployRecord;
  value?: T;
  /** What failed the step; the record says the same. */
  error?: unknown;
}

/**
 * The deps of a step run inside the all-in-one action: its outputs and job summary stay the caller's (the
 * all-in-one action writes its own), everything else is shared.
 */
export function innerStep(deps: ActionDeps, options: { summary?: boolean } = {}): ActionDeps {
  return {
    ...deps,
    getInput: () => '',
    setOutput: () => {},
    ...(options.summary ? {} : { writeSummary: async () => {} }),
  };
}
