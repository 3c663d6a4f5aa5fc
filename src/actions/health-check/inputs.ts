import { ConfigurationError } from '../../core/errors';
import type { HealthCheckOptions } from '../../core/health';
import { type InputParser, type InputReader, inputParser } from '../../core/input';

export type HealthInputs = Omit<HealthCheckOptions, 'clock' | 'signal' | 'logger'>;

export interface HealthInputOptions {
  /** Accept a path ("/version"), resolved later against a service URL. */
  allowPath?: boolean;
  /** The names the inputs have in the action that reads them (deploy-apprunner calls `url` health-url). */
  rename?: Record<string, string>;
}

/** The inputs of a health check, shared by health-check and the deploy actions that verify what they deployed. */
export function parseHealthInputs(read: InputReader, options: HealthInputOptions = {}): HealthInputs {
  const named = (name: string) => options.rename?.[name] ?? name;
  const p = inputParser(read);
  const url = p.required('url', 'an http:// or https:// URL');
  if (!(options.allowPath && url.startsWith('/'))) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new ConfigurationError(
        named('url'),
        url,
        options.allowPath
          ? 'an http:// or https:// URL, or a path on the service such as /version'
          : 'an http:// or https:// URL such as https://example.com/health',
      );
    }
  }
  const expectedBodyText = p.optional('expected-body');
  let expectedBody: RegExp | undefined;
  if (expectedBodyText !== undefined) {
    try {
      expectedBody = new RegExp(expectedBodyText);
    } catch (error) {
      throw new ConfigurationError(
        'expected-body',
        expectedBodyText,
        `a JavaScript regular expression (${(error as Error).message})`,
      );
    }
  }
  const expectedVersion = p.optional('expected-version');
  const timeoutMinutes = p.number(named('timeout-minutes'), 5, 0.01, 360);
  return {
    url,
    expectedStatus: p.integer('expected-status', 200, 100, 599) ?? 200,
    ...(expectedBody ? { expectedBody } : {}),
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    consecutiveSuccesses: p.integer('consecutive-successes', 3, 1, 100) ?? 3,
    intervalMs: p.number('interval-seconds', 5, 0.1, 600) * 1000,
    timeoutMs: timeoutMinutes * 60_000,
    requestTimeoutMs: p.number('request-timeout-seconds', 10, 0.1, 300) * 1000,
  };
}

/** How a deploy step (the all-in-one action, deploy-ecs) checks the new version, by those actions' `health-…` inputs. */
export function parseVerifyTimings(p: InputParser): {
  expectedStatus: number;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  consecutiveSuccesses: number;
} {
  return {
    expectedStatus: p.integer('expected-status', 200, 100, 599) ?? 200,
    healthTimeoutMs: p.number('health-timeout-minutes', 5, 0.1, 120) * 60_000,
    healthIntervalMs: p.number('health-interval-seconds', 5, 0.1, 600) * 1000,
    consecutiveSuccesses: p.integer('health-consecutive-successes', 3, 1, 100) ?? 3,
  };
}
