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

/** Runs `work` as a collapsible group of the log. */
export async function group<T>(logger: ActionDeps['logger'], title: string, work: () => Promise<T>): Promise<T> {
  const grouped = logger as ActionDeps['logger'] & { group?: (title: string, work: () => Promise<T>) => Promise<T> };
  if (grouped.group) return grouped.group(title, work);
  logger.info(`\n━━ ${title} ━━`);
  return work();
}
