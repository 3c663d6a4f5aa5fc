import { HealthCheckError, type HealthResult, waitUntilHealthy } from '../../core/health';
import type { ActionDeps } from '../runtime';
import { parseHealthInputs } from './inputs';

export async function run(deps: ActionDeps): Promise<void> {
  const inputs = parseHealthInputs(deps.getInput);
  try {
    const result = await waitUntilHealthy({ ...inputs, clock: deps.clock, logger: deps.logger, signal: deps.signal });
    writeOutputs(deps, result);
  } catch (error) {
    if (error instanceof HealthCheckError) writeOutputs(deps, error.result);
    throw error;
  }
}

function writeOutputs(deps: ActionDeps, result: HealthResult): void {
  deps.setOutput('healthy', String(result.healthy));
  deps.setOutput('attempts', String(result.attempts));
  deps.setOutput('last-status', result.lastStatus === undefined ? '' : String(result.lastStatus));
  deps.setOutput('duration-seconds', String(Math.round(result.durationMs / 1000)));
}
