import type { ActionDeps } from './runtime';

export interface StepRun {
  outputs: Record<string, string>;
  /** What the step threw, if it failed: its outputs (the record among them) are still there. */
  error?: unknown;
}

/**
 * Runs another action's `run(deps)` inside this one, with exactly the inputs given (nothing leaks from the outer step's
 * inputs), its outputs captured, and its job summary left to the caller. This is how the all-in-one action reuses the
 * single actions' code paths rather than a copy of them.
 */
export async function runStep(
  deps: ActionDeps,
  main: (deps: ActionDeps) => Promise<void>,
  inputs: Record<string, string | undefined>,
  options: { summary?: boolean } = {},
): Promise<StepRun> {
  const outputs: Record<string, string> = {};
  const stepDeps: ActionDeps = {
    ...deps,
    getInput: (name) => inputs[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    ...(options.summary ? {} : { writeSummary: async () => {} }),
  };
  try {
    await main(stepDeps);
    return { outputs };
  } catch (error) {
    return { outputs, error };
  }
}
