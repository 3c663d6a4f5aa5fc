import { DeployError } from '../../core/errors';
import { HealthCheckError, waitUntilHealthy } from '../../core/health';
import { type DeployRecord, recordHealth } from '../../core/record';
import type { VerifyOptions } from '../target';
import type { EcsDeps } from './deployment';

/** A path ("/health") is resolved against the service's URL; a service without one needs a full URL. */
export function resolveUrl(url: string, serviceUrl: string | undefined, label: string): string {
  if (!url.startsWith('/')) return url;
  if (!serviceUrl) {
    throw new DeployError(
      `${label} has no URL of its own to check ${url} at: set health-url to a full URL through its load balancer.`,
    );
  }
  return new URL(url, serviceUrl).href;
}

/** The check of a rolled-back-to version: it answers, and serves its version when one is expected. */
export async function verifyRollback(
  deps: EcsDeps,
  record: DeployRecord,
  verify: VerifyOptions,
  serviceUrl: string | undefined,
  label: string,
): Promise<void> {
  const url = resolveUrl(verify.url, serviceUrl, label);
  try {
    const health = await waitUntilHealthy({
      ...verify,
      url,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    recordHealth(record, { ...health, url });
  } catch (error) {
    if (error instanceof HealthCheckError)
      recordHealth(record, { ...error.result, url, healthy: false }, error.message);
    throw error;
  }
}
