import { HealthCheckError, type HealthResult, waitUntilHealthy } from '../../core/health';
import {
  type DeployRecord,
  inPhase,
  parseRecord,
  recordFailure,
  recordHealth,
  serializeRecord,
} from '../../core/record';
import { stampService, validateServiceName } from '../../core/service';
import type { ActionDeps } from '../runtime';
import { type HealthInputs, parseHealthInputs } from './inputs';

export interface HealthCheckStepInputs {
  check: HealthInputs;
  /** The record of the deploy being checked, when given: it gets a `verify` phase and the health found. */
  record?: DeployRecord;
}

export function parseHealthCheckStepInputs(
  read: (name: string) => string,
  env: NodeJS.ProcessEnv = {},
): HealthCheckStepInputs {
  const check = parseHealthInputs(read);
  const text = read('record').trim();
  const record = text ? parseRecord('record', text) : undefined;
  // Checked even without a record, so a misspelt service fails here as on every other step.
  const service = read('service').trim() || undefined;
  if (record) stampService(service, env, record);
  else if (service !== undefined) validateServiceName('service', service);
  return { check, ...(record ? { record } : {}) };
}

export async function run(deps: ActionDeps): Promise<void> {
  const step = await execute(deps, parseHealthCheckStepInputs(deps.getInput, deps.env));
  if (step.error) throw step.error;
}

/**
 * Probes the URL until it answers healthily (or the check times out). With a record, the check is its `verify`
 * phase: the record gets the health found with the real attempt count, and `failed` when the check failed.
 */
export async function execute(
  deps: ActionDeps,
  inputs: HealthCheckStepInputs,
): Promise<{ result?: HealthResult; record?: DeployRecord; error?: unknown }> {
  const { check, record } = inputs;
  const probe = () => waitUntilHealthy({ ...check, clock: deps.clock, logger: deps.logger, signal: deps.signal });
  try {
    const result = record ? await inPhase(record, 'verify', deps.clock, probe) : await probe();
    writeOutputs(deps, result);
    if (record) {
      recordHealth(record, result);
      deps.setOutput('record', serializeRecord(record));
    }
    return { result, ...(record ? { record } : {}) };
  } catch (error) {
    const result = error instanceof HealthCheckError ? error.result : undefined;
    if (result) writeOutputs(deps, result);
    if (record) {
      recordHealth(record, result ?? { url: check.url, healthy: false, attempts: 0 }, (error as Error).message);
      recordFailure(record, 'failed', (error as Error).message);
      deps.setOutput('record', serializeRecord(record));
    }
    return { ...(result ? { result } : {}), ...(record ? { record } : {}), error };
  }
}

function writeOutputs(deps: ActionDeps, result: HealthResult): void {
  deps.setOutput('healthy', String(result.healthy));
  deps.setOutput('attempts', String(result.attempts));
  deps.setOutput('last-status', result.lastStatus === undefined ? '' : String(result.lastStatus));
  deps.setOutput('duration-seconds', String(Math.round(result.durationMs / 1000)));
}
