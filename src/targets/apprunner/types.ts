import type { AppRunnerClient } from '@aws-sdk/client-apprunner';
import type { Clock } from '../../core/clock';
import type { DeployError } from '../../core/errors';
import type { HealthCheckOptions, HealthResult } from '../../core/health';
import type { Logger } from '../../core/logger';
import type { PollDelays } from '../../core/poller';
import type { DeployRecord } from '../../core/record';

export interface AppRunnerDeps {
  client: AppRunnerClient;
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  random?: () => number;
}

/** What an App Runner target is, for people: the record's `target.resource`. */
export const RESOURCE = 'App Runner service';

export type AppRunnerOnBusy = 'wait' | 'fail';

/** The health check run after App Runner reports success. `url` may be a path ("/version") on the service URL. */
export type VerifyOptions = Omit<HealthCheckOptions, 'clock' | 'signal' | 'logger'>;

export interface DeployAppRunnerOptions {
  serviceArn: string;
  /** `<registry>/<repository>@sha256:…` (pinned) or `<registry>/<repository>:<tag>`. */
  image: string;
  /** Bounds waiting for a busy service plus waiting for our own operation. */
  timeoutMs: number;
  onBusy: AppRunnerOnBusy;
  /** false: return once the deployment has started. */
  wait: boolean;
  record: DeployRecord;
  verify?: VerifyOptions;
  /** Roll back to the previous image when `verify` fails after App Runner reported success. */
  rollbackOnFailure?: boolean;
  /** Poll delays for the operation; DEFAULT_POLL_DELAYS otherwise. */
  pollDelays?: PollDelays;
}

export interface AppRunnerDeployResult {
  operationId?: string;
  /** Last status seen of our operation (SUCCEEDED, ROLLBACK_SUCCEEDED, IN_PROGRESS…). */
  status: string;
  serviceUrl: string;
  previousImage?: string;
  health?: HealthResult;
  record: DeployRecord;
  /** Set when the step must fail; the record's outcome and error say the same. */
  failure?: DeployError;
}

export interface RollbackAppRunnerOptions {
  serviceArn: string;
  /** The image to go back to: by digest, so that a moved tag cannot bring anything else. */
  image: string;
  timeoutMs: number;
  onBusy: AppRunnerOnBusy;
  record: DeployRecord;
  /** Checks that the old version answers again. */
  verify?: VerifyOptions;
  /** Why the rollback happens, for the log. */
  reason?: string;
  /** Poll delays for the operation; DEFAULT_POLL_DELAYS otherwise. */
  pollDelays?: PollDelays;
}
