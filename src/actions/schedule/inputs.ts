import { ConfigurationError } from '../../core/errors';
import { type InputReader, inputParser } from '../../core/input';
import { validateEnvironment, validateRegion } from '../../core/validate';
import type { TargetSpec } from '../../targets';
import { parseVerifyTimings } from '../health-check/inputs';
import { parseTargetOf } from '../rollback/inputs';

export type ScheduleMode = 'pause' | 'resume';

export interface ScheduleInputs {
  mode: ScheduleMode;
  /** For the log and the summary only: the resource is named by the target inputs. */
  environment: string;
  target: TargetSpec;
  region: string;
  /** After a resume: a URL, or a path on the service's own URL (App Runner, ECS Express); undefined: none. */
  healthUrl?: string;
  expectedStatus: number;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  consecutiveSuccesses: number;
  /** Bounds the platform's part: the pause or resume operation, the tasks or instances starting or stopping. */
  timeoutMs: number;
}

/** The platforms whose service has a URL of its own, where health-url defaults to /health on it. */
const OWN_URL: readonly string[] = ['apprunner', 'ecs-express'];

/** Parses and checks every input before any AWS call. */
export function parseScheduleInputs(read: InputReader, env: NodeJS.ProcessEnv): ScheduleInputs {
  const p = inputParser(read);
  const mode = p.oneOf('mode', ['pause', 'resume'] as const, 'pause');
  if (p.optional('mode') === undefined) throw new ConfigurationError('mode', '', '"pause" or "resume"');
  const environment = p.required('environment', 'the environment being paused or resumed, e.g. "staging"');
  validateEnvironment('environment', environment);
  const { target, region: arnRegion } = parseTargetOf(read, environment);
  const region = validateRegion(
    'region',
    p.optional('region') ?? arnRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  );
  const healthUrl = p.optional('health-url') ?? (OWN_URL.includes(target.kind) ? '/health' : undefined);
  if (healthUrl !== undefined && !healthUrl.startsWith('/')) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(healthUrl);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      throw new ConfigurationError('health-url', healthUrl, 'an http:// or https:// URL, or a path such as /health');
  } else if (healthUrl !== undefined && !OWN_URL.includes(target.kind)) {
    throw new ConfigurationError(
      'health-url',
      healthUrl,
      `a full URL through the load balancer (target ${target.kind} has no URL of its own to put a path on)`,
    );
  }
  return {
    mode,
    environment,
    target,
    region,
    ...(healthUrl !== undefined ? { healthUrl } : {}),
    ...parseVerifyTimings(p),
    timeoutMs: p.number('timeout-minutes', 20, 0.1, 360) * 60_000,
  };
}
