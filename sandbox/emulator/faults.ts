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
  /** 'ecr' | 'apprunner' | 'autoscaling' | 'elbv2'; any service when omitted. */
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

export class FaultInjector {
  private readonly active: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    this.active.push({ kind: spec.kind, times: spec.times ?? 1, spec });
  }

  clear(): void {
    this.active.length = 0;
  }

  /** The fault to apply to this call, if any (and uses it up). Latency stacks with a following fault. */
  take(service: string, operation: string): { latencyMs: number; fault?: FaultSpec } {
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
