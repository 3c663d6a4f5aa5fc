import type { ECRClient } from '@aws-sdk/client-ecr';
import type { Clock } from '../core/clock';
import type { DeployError } from '../core/errors';
import type { HealthCheckOptions } from '../core/health';
import type { Logger } from '../core/logger';
import type { PollDelays } from '../core/poller';
import type { DeployRecord, RecordCancellation } from '../core/record';

/**
 * The seam between the platform-neutral flow (the all-in-one action, the rollback action, the CLI) and one deploy
 * platform. A platform is one folder of src/targets/ that implements `Target`; src/targets/index.ts is the only
 * place that knows which folders exist. Nothing above this interface compares platform names.
 */

/** What every platform operation is given. */
export interface TargetContext {
  region: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
  /** Aborted when the job is cancelled. */
  signal?: AbortSignal;
  /** Where the images live: every platform deploys ECR images. */
  ecr: ECRClient;
  /** SDK clients to use instead of new ones (tests inject them), by the name each platform documents. */
  clients?: Record<string, unknown>;
  pollDelays?: PollDelays;
  /**
   * Saves what the step's post step needs to finish an operation this step started if the step is killed outright
   * (GitHub's saveState). Absent outside a runner.
   */
  saveState?(name: string, value: string): void;
}

/** What the target runs now. */
export interface RunningImage {
  /** As configured: `<registry>/<repo>@sha256:…`, `<registry>/<repo>:<tag>`, or `<repo>:<boot-tag>`. */
  reference: string;
  /** undefined when the tag names nothing (yet) or the image is gone. */
  digest?: string;
  commit?: string;
}

export interface CurrentState {
  running: RunningImage;
  /** ARN or group name, for the record. */
  id: string;
  /** A human name: the service name or the group name. */
  name: string;
  /** "App Runner service web", "Auto Scaling group web-asg". */
  label: string;
  /** More about how it runs the image, for the log: "boot tag web:staging". */
  detail?: string;
  /** The service URL, when the platform gives one. */
  url?: string;
}

/** An image to deploy or to go back to: always by digest, so that a moved tag cannot bring anything else. */
export interface ImageByDigest {
  /** `<registry>/<repository>@sha256:…` */
  uri: string;
  digest: string;
  repository: string;
  commit?: string;
}

/** How to check that a version answers: a URL, or (where the platform gives a URL) a path on it. */
export type VerifyOptions = Omit<HealthCheckOptions, 'clock' | 'signal' | 'logger'>;

export interface TargetDeployResult {
  /** What ran before this deploy: the automatic rollback destination. */
  previous?: { image: string; digest?: string };
  /** The URL the platform serves the new version at, when it gives one. */
  serviceUrl?: string;
  /** Set when the deploy failed; the record's outcome and error say the same. */
  failure?: DeployError;
  /** A failed deploy that left the target on a mix of versions, for our rollback (the platform did not undo it). */
  needsRollback: boolean;
  /** The job was cancelled during the deploy: what was started is stopped (see `cancelled` in the record). */
  cancelled?: boolean;
  /** Outputs of the platform's own (refresh-id, previous-launch-template-version…), for the action's outputs. */
  outputs: Record<string, string>;
}

export interface RollbackRequest {
  image: ImageByDigest;
  record: DeployRecord;
  timeoutMs: number;
  /** Why, for the log. */
  reason: string;
  /** Checks that the old version answers again. */
  verify?: VerifyOptions;
  /** The deploy being undone, when this job made it: what it changed besides the image (a template version). */
  undoing?: TargetDeployResult;
}

export interface Target {
  /** The record's `target.kind`. */
  readonly kind: string;
  /** The record fields it owns: `target` (with this kind and resource) and `operations` of this kind. */
  readonly operationKind: string;
  /** What it is, for people: "App Runner service", "Auto Scaling group" (the record's `target.resource`). */
  readonly resource: string;
  /** A name for log lines before anything is read: "App Runner service arn:…", "Auto Scaling group web-asg". */
  readonly label: string;
  /**
   * What a health URL defaults to when health-url is not given: a path on the service URL, or undefined when the
   * platform gives no URL (health-url is then required).
   */
  readonly defaultHealthPath?: string;
  /** The action inputs that name this target (`asg-name`, `service-arn`…), for a command that finishes a rollback. */
  readonly identity: Record<string, string>;
  /** What runs now, with its digest and commit when ECR knows them. */
  current(repository: string): Promise<CurrentState>;
  /**
   * Deploys `image` and follows the platform's own operation to its end (honouring on-busy and cancellation). Never
   * throws for a failed deploy: the result carries the failure, and the record says the same.
   */
  deploy(image: ImageByDigest, record: DeployRecord, timeoutMs: number): Promise<TargetDeployResult>;
  /**
   * Puts `request.image` back and checks it answers. Sets the record's outcome to `rolled-back` or `rollback-failed`
   * and returns the failure instead of throwing it.
   */
  rollback(request: RollbackRequest): Promise<DeployError | undefined>;
  /**
   * After the job was cancelled: stops what this target's deploy started and quickly puts back what can be put back
   * (never starting an operation nothing would watch), and says what each part of the target runs now. `finish` is
   * the platform's own command that completes the rollback, when it has one.
   */
  settleCancelled(record: DeployRecord): Promise<RecordCancellation>;
  /** The dry-run plan's deploy line: what a deploy would do, changing nothing. */
  planDeploy(repository: string): Promise<{ running?: string; line: string }>;
  /** Scheduled pause and resume (scale to zero off-hours), where the platform can do it. */
  readonly scheduler?: Scheduler;
}

/**
 * What a scheduled pause found on the resource. What a pause changes is saved as tags on the resource itself
 * (src/core/pause-tags.ts), so a resume from any machine puts back exactly that.
 */
export interface PauseState {
  /** "ECS service web (cluster prod)". */
  label: string;
  /** `ours`: our paused- tags are on it; `platform`: the platform says paused (App Runner PAUSED) without our tags. */
  paused?: 'ours' | 'platform';
  /** Tagged aws-deploy-kit:keep-running=true: never paused. */
  keepRunning: boolean;
  /** True when it runs nothing now (desired count 0, PAUSED). */
  stopped: boolean;
  /** What the tags saved: `{ desired: 3, min: 2 }`. */
  saved: Record<string, number>;
  /** When the pause happened, as the tag says. */
  pausedAt?: string;
  /** Our tag keys on it (what resume removes). */
  tagKeys: string[];
  /** What it runs now, for the log: "desired count 3". */
  now: string;
}

export interface Scheduler {
  /**
   * `deploy`: only whether a deploy would find it paused; a platform may then skip reading what only a pause or
   * resume needs (so that a deploy role needs no extra permission for a target that runs).
   */
  inspect(purpose?: 'schedule' | 'deploy'): Promise<PauseState>;
  /** Saves what it changes as tags, then scales to zero (following the platform's operation). Returns what changed. */
  pause(state: PauseState, timeoutMs: number): Promise<string>;
  /**
   * Puts back what the tags saved, removes the tags, and waits until the platform runs it again (and its target groups
   * say healthy, where it has them). Returns what changed and the service URL when the platform gives one.
   */
  resume(state: PauseState, timeoutMs: number): Promise<{ restored: string; serviceUrl?: string }>;
}

/** What a post step gives the platform: the state its main step saved, and the job's context. */
export interface PostStepDeps {
  getState(name: string): string;
  saveState(name: string, value: string): void;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
}

/** What a post step found and did about a deploy its main step left behind. */
export interface AbandonedRun {
  /** "Auto Scaling refresh of web-asg", for the summary's title. */
  what: string;
  /** What was done and what is left, in sentences, for the log. */
  summary: string;
  /** Whether anything was stopped or put back, or is left to do (a warning), or all had ended (an info line). */
  changed: boolean;
  cancellation: RecordCancellation;
}

/**
 * What a platform can run, known before anything is built: the all-in-one action checks the build's inputs against it
 * before any AWS call. Each platform folder states its own (`capabilities.ts`, free of SDK imports).
 */
export interface TargetCapabilities {
  /**
   * Whether it runs an image index (a manifest list): what a multi-platform build or attestations (provenance,
   * SBOM) push. `why` says why not, for the error.
   */
  imageIndex: { runs: true } | { runs: false; why: string };
}
