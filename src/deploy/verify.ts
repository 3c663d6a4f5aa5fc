import type { Clock } from '../core/clock';
import { HealthCheckError, waitUntilHealthy } from '../core/health';
import type { Logger } from '../core/logger';
import { type DeployRecord, inPhase, recordHealth } from '../core/record';
import { redactUrl } from '../core/redact';

export interface VerifyPlan {
  /** Must answer `expectedStatus` `consecutiveSuccesses` times in a row. */
  healthUrl: string;
  /** Must serve `expectedVersion`; checked only when that is set. */
  versionUrl: string;
  expectedVersion?: string;
  expectedStatus: number;
  timeoutMs: number;
  intervalMs: number;
  consecutiveSuccesses: number;
}

/** An `expected-version` input: `sha` for the commit being deployed, any other string for itself. */
export type ExpectedVersion = { kind: 'sha' } | { kind: 'literal'; value: string };

export function parseExpectedVersion(text: string): ExpectedVersion {
  return text.toLowerCase() === 'sha' ? { kind: 'sha' } : { kind: 'literal', value: text };
}

/** The string to find at the version URL, or undefined for no version check. */
export function expectedVersionFor(
  expected: ExpectedVersion | undefined,
  commit: string | undefined,
): string | undefined {
  if (!expected) return undefined;
  return expected.kind === 'sha' ? commit : expected.value;
}

export interface VerifyContext {
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * The `verify` phase of a deploy, the same on every platform: the health URL answers healthily, then the version
 * URL serves the expected version. The record keeps what was found, with the real number of attempts (a failed
 * check's count comes from its HealthCheckError). Throws the check's error when it fails.
 */
export async function verifyNewVersion(context: VerifyContext, record: DeployRecord, plan: VerifyPlan): Promise<void> {
  const probe = {
    clock: context.clock,
    logger: context.logger,
    ...(context.signal ? { signal: context.signal } : {}),
    timeoutMs: plan.timeoutMs,
    intervalMs: plan.intervalMs,
    consecutiveSuccesses: plan.consecutiveSuccesses,
  };
  let attempts = 0;
  await inPhase(record, 'verify', context.clock, async () => {
    try {
      const health = await waitUntilHealthy({ ...probe, url: plan.healthUrl, expectedStatus: plan.expectedStatus });
      attempts = health.attempts;
      recordHealth(record, { ...health, url: plan.healthUrl });
      if (!plan.expectedVersion) return;
      const version = await waitUntilHealthy({ ...probe, url: plan.versionUrl, expectedVersion: plan.expectedVersion });
      recordHealth(
        record,
        { ...health, url: plan.healthUrl, attempts: attempts + version.attempts },
        `${redactUrl(plan.versionUrl)} serves ${plan.expectedVersion}`,
      );
    } catch (error) {
      const result = error instanceof HealthCheckError ? error.result : undefined;
      recordHealth(
        record,
        {
          url: plan.healthUrl,
          healthy: false,
          attempts: attempts + (result?.attempts ?? 0),
          ...(result?.lastStatus !== undefined ? { lastStatus: result.lastStatus } : {}),
        },
        (error as Error).message,
      );
      throw error;
    }
  });
}
