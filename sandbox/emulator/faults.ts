/** Faults the emulator injects into matching calls, so tests see what AWS does on a bad day. */
export type FaultKind =
  /** HTTP 400 `Throttling` (query services) or `ThrottlingException` (JSON services), as AWS answers; the SDK retries it. */
  | 'throttle'
  /** HTTP 500/503 InternalFailure / ServiceUnavailable. */
  | 'server-error'
  /** The TCP connection is destroyed without an answer. */
  | 'reset'
  /** The answer is delayed by latencyMs, then served normally. */
  | 'latency'
  /** HTTP 400 ExpiredTokenException, as when a session token runs out mid-job. */
  | 'expired-token';

export interface FaultSpec {
  kind: FaultKind;
  /** 'ecr' | 'apprunner' | 'autoscaling' | 'elbv2' | 'ecs'; any service when omitted. */
  service?: string;
  /** An operation name (e.g. 'GetAuthorizationToken'); any operation when omitted. */
  operation?: string;
  /** How many matching calls to affect; Infinity for all of them. Default 1. */
  times?: number;
  latencyMs?: number;
  /** The HTTP status of a throttle (default 400, as AWS) or a server error (default 500). */
  status?: number;
}

interface ActiveFault extends Required<Pick<FaultSpec, 'kind' | 'times'>> {
  spec: FaultSpec;
}

/** A request rate above which calls are throttled, as AWS's per-account API rate limits do. */
export interface RateLimitSpec {
  /** A service name as in FaultSpec; every service when omitted. */
  service?: string;
  /** An operation name; every operation when omitted. */
  operation?: string;
  /** Calls allowed in any one-second window; the calls above it answer ThrottlingException / Throttling. */
  perSecond: number;
}

interface ActiveRateLimit {
  spec: RateLimitSpec;
  /** When the admitted calls of the last second arrived (ms epoch). */
  admitted: number[];
}

export class FaultInjector {
  private readonly active: ActiveFault[] = [];
  private readonly limits: ActiveRateLimit[] = [];

  add(spec: FaultSpec): void {
    this.active.push({ kind: spec.kind, times: spec.times ?? 1, spec });
  }

  /**
   * Throttles matching calls above `perSecond` in any sliding one-second window (a throttled call does not use up the
   * allowance), until clear(). The answer is AWS's throttling error for the protocol, HTTP 400.
   */
  rateLimit(spec: RateLimitSpec): void {
    if (!(spec.perSecond > 0)) throw new Error('rateLimit needs perSecond > 0');
    this.limits.push({ spec, admitted: [] });
  }

  clear(): void {
    this.active.length = 0;
    this.limits.length = 0;
  }

  /** The fault to apply to this call, if any (and uses it up). Latency stacks with a following fault. */
  take(service: string, operation: string): { latencyMs: number; fault?: FaultSpec } {
    const now = Date.now();
    for (const limit of this.limits) {
      if (limit.spec.service && limit.spec.service !== service) continue;
      if (limit.spec.operation && limit.spec.operation !== operation) continue;
      while (limit.admitted.length > 0 && now - limit.admitted[0]! >= 1_000) limit.admitted.shift();
      if (limit.admitted.length >= limit.spec.perSecond) return { latencyMs: 0, fault: { kind: 'throttle' } };
      limit.admitted.push(now);
    }
    let latencyMs = 0;
    for (const fault of this.active) {
      if (fault.times <= 0) continue;
      if (fault.spec.service && fault.spec.service !== service) continue;
      if (fault.spec.operation && fault.spec.operation !== operation) continue;
      fault.times--;
      if (fault.kind === 'latency') {
        latencyMs += fault.spec.latencyMs ?? 1_000;
        continue;
      }
      return { latencyMs, fault: fault.spec };
    }
    return { latencyMs };
  }
}
