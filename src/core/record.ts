import type { Clock } from './clock';
import { ConfigurationError } from './errors';
import { redactUrl } from './redact';

/**
 * The deploy record: the one value that flows through every action (see DESIGN.md "The data that flows through").
 * Each action appends what it did and writes the whole record out as its `record` output.
 */
export const RECORD_SCHEMA = 'aws-deploy-kit/deploy-record';
export const RECORD_VERSION = 1;

/**
 * `cancelled`: the job was cancelled mid-deploy. What the step had started was stopped and the boot tag (or the
 * platform's equivalent) put back; `cancellation` says what each part of the target runs now and the command that
 * finishes the rollback. Never a verified deploy.
 */
export type Outcome = 'in-progress' | 'succeeded' | 'failed' | 'rolled-back' | 'rollback-failed' | 'cancelled';
/** `bake`: after the verification, the alarms are watched for the bake time (src/deploy/bake.ts). */
export type PhaseName = 'build' | 'promote' | 'deploy' | 'verify' | 'bake' | 'rollback' | 'report';
export type PhaseStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
/** The platform's name, as src/targets/index.ts knows it (`apprunner`, `asg`, …). */
export type TargetKind = string;

export interface RecordImage {
  repository: string;
  registry: string;
  /** `<registry>/<repository>@sha256:…` */
  uri: string;
  digest: string;
  tags: string[];
  /** True when nothing was built because the commit's image was already pushed. */
  reused: boolean;
}

/** The record's image for an image given by digest URI (`<registry>/<repository>@sha256:…`), with no tags known. */
export function recordImageOf(
  image: { uri: string; repository: string; digest: string },
  reused: boolean,
): RecordImage {
  return {
    repository: image.repository,
    registry: image.uri.slice(0, image.uri.indexOf('/')),
    uri: image.uri,
    digest: image.digest,
    tags: [],
    reused,
  };
}

export interface RecordPhase {
  name: PhaseName;
  status: PhaseStatus;
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface RecordHealth {
  url: string;
  healthy: boolean;
  attempts: number;
  lastStatus?: number;
  detail?: string;
}

/** What a cancelled deploy left behind, written when the outcome is `cancelled`. */
export interface RecordCancellation {
  /** One line per part of the target, what it runs now: the platform operation, the instances, the boot tag. */
  runsNow: string[];
  /** The one command that finishes the rollback; undefined when the cancel left nothing to finish. */
  finish?: string;
}

/** What the bake watched and found (set when a bake ran). */
export interface RecordBake {
  /** Seconds the alarms were to be watched. */
  seconds: number;
  /** Every alarm watched, with its state when the bake ended (or fired). */
  alarms: { name: string; state: string }[];
  /** Alarms already in ALARM before the deploy started: not held against this version. */
  alreadyInAlarm: string[];
  /** The alarm that went into ALARM during the bake: the version was rolled back for it. */
  fired?: { name: string; reason: string; at: string };
}

export interface DeployRecord {
  schema: typeof RECORD_SCHEMA;
  version: typeof RECORD_VERSION;
  commit: string;
  environment?: string;
  /**
   * The service of the environment this deploy is for (src/core/service.ts); records written before services
   * existed name none and belong to the default service.
   */
  service?: string;
  image?: RecordImage;
  /** `resource` says what it is, for people ("Auto Scaling group"); records of earlier versions have none. */
  target?: {
    kind: TargetKind;
    id: string;
    url?: string;
    resource?: string;
    /** Where the resource lives, when the platform has such a thing: the ECS cluster. */
    cluster?: string;
    /** The platform's revision this deploy put in place: the ECS task definition ARN. */
    revision?: string;
  };
  /** What the target ran before this deploy: the rollback destination (`revision`: its task definition ARN). */
  previous?: { image?: string; digest?: string; commit?: string; revision?: string };
  /** The platform operations this deploy started (`apprunner-operation`, `instance-refresh`, …). */
  operations: { kind: string; id: string; status?: string }[];
  phases: RecordPhase[];
  health?: RecordHealth;
  bake?: RecordBake;
  outcome: Outcome;
  error?: string;
  /** Set with outcome `cancelled`. */
  cancellation?: RecordCancellation;
  run?: { repository?: string; runId?: string; runAttempt?: string; serverUrl?: string; event?: string; ref?: string };
  /** The GitHub Deployment that tracks this deploy (set by the report action), so later reports update it. */
  github?: { deploymentId: number };
}

/** Which workflow run made the record, from the runner's GITHUB_* variables (empty outside Actions). */
export function runFromEnv(env: NodeJS.ProcessEnv): NonNullable<DeployRecord['run']> {
  const run: NonNullable<DeployRecord['run']> = {};
  if (env.GITHUB_REPOSITORY) run.repository = env.GITHUB_REPOSITORY;
  if (env.GITHUB_RUN_ID) run.runId = env.GITHUB_RUN_ID;
  if (env.GITHUB_RUN_ATTEMPT) run.runAttempt = env.GITHUB_RUN_ATTEMPT;
  if (env.GITHUB_SERVER_URL) run.serverUrl = env.GITHUB_SERVER_URL;
  if (env.GITHUB_EVENT_NAME) run.event = env.GITHUB_EVENT_NAME;
  if (env.GITHUB_REF) run.ref = env.GITHUB_REF;
  return run;
}

export function newRecord(
  commit: string,
  fields: Partial<Omit<DeployRecord, 'schema' | 'version'>> = {},
): DeployRecord {
  return {
    schema: RECORD_SCHEMA,
    version: RECORD_VERSION,
    commit,
    operations: [],
    phases: [],
    outcome: 'in-progress',
    ...fields,
  };
}

export function startPhase(record: DeployRecord, name: PhaseName, clock: Clock): RecordPhase {
  const phase: RecordPhase = { name, status: 'running', startedAt: new Date(clock.now()).toISOString() };
  record.phases.push(phase);
  return phase;
}

export function endPhase(
  phase: RecordPhase,
  status: Exclude<PhaseStatus, 'running'>,
  clock: Clock,
  detail?: string,
): void {
  phase.status = status;
  phase.endedAt = new Date(clock.now()).toISOString();
  if (detail !== undefined) phase.detail = detail;
}

/** Runs `work` as a phase of the record: timed, and marked failed (then rethrown) when it throws. */
export async function inPhase<T>(
  record: DeployRecord,
  name: PhaseName,
  clock: Clock,
  work: () => Promise<T>,
): Promise<T> {
  const phase = startPhase(record, name, clock);
  try {
    const value = await work();
    if (phase.status === 'running') endPhase(phase, 'succeeded', clock);
    return value;
  } catch (error) {
    endPhase(phase, 'failed', clock, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** Adds a platform operation to the record, or updates its status when the record has it already. */
export function recordOperation(record: DeployRecord, kind: string, id: string, status: string): void {
  const existing = record.operations.find((op) => op.kind === kind && op.id === id);
  if (existing) existing.status = status;
  else record.operations.push({ kind, id, status });
}

/** What a health check found, with its real attempt count; the URL is stored without credentials. */
export function recordHealth(
  record: DeployRecord,
  health: { url: string; healthy: boolean; attempts: number; lastStatus?: number | undefined },
  detail?: string,
): RecordHealth {
  record.health = {
    url: redactUrl(health.url),
    healthy: health.healthy,
    attempts: health.attempts,
    ...(health.lastStatus !== undefined ? { lastStatus: health.lastStatus } : {}),
    ...(detail !== undefined ? { detail } : {}),
  };
  return record.health;
}

/** Ends the record in `outcome` with `message` as its error. */
export function recordFailure(record: DeployRecord, outcome: Outcome, message: string): void {
  record.outcome = outcome;
  record.error = message;
}

/** Marks the record cancelled: the outcome, what runs now and the command that finishes the rollback, and why. */
export function recordCancelled(record: DeployRecord, cancellation: RecordCancellation, message: string): void {
  record.outcome = 'cancelled';
  record.cancellation = {
    runsNow: [...cancellation.runsNow],
    ...(cancellation.finish ? { finish: cancellation.finish } : {}),
  };
  record.error = message;
}

export function serializeRecord(record: DeployRecord): string {
  return JSON.stringify(record);
}

const outcomes: readonly string[] = [
  'in-progress',
  'succeeded',
  'failed',
  'rolled-back',
  'rollback-failed',
  'cancelled',
];

/**
 * Reads a record given as an input. A malformed one is a ConfigurationError naming the input and what is wrong,
 * never a crash halfway through a deploy.
 */
export function parseRecord(input: string, text: string): DeployRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      input,
      abbreviate(text),
      `the JSON deploy record output by an earlier aws-deploy-kit step (${(error as Error).message})`,
    );
  }
  const problem = recordProblem(value);
  if (problem) {
    throw new ConfigurationError(
      input,
      abbreviate(text),
      `a deploy record of schema ${RECORD_SCHEMA} version ${RECORD_VERSION} (${problem})`,
    );
  }
  return value as DeployRecord;
}

function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.schema !== RECORD_SCHEMA) return `"schema" is ${JSON.stringify(r.schema)}`;
  if (r.version !== RECORD_VERSION)
    return `"version" is ${JSON.stringify(r.version)}; this toolkit reads version ${RECORD_VERSION}`;
  if (typeof r.commit !== 'string' || r.commit === '') return '"commit" is missing';
  if (
    r.service !== undefined &&
    (typeof r.service !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(r.service))
  )
    return `"service" is ${JSON.stringify(r.service)}`;
  if (!Array.isArray(r.phases)) return '"phases" is not a list';
  if (!Array.isArray(r.operations)) return '"operations" is not a list';
  if (typeof r.outcome !== 'string' || !outcomes.includes(r.outcome))
    return `"outcome" is ${JSON.stringify(r.outcome)}`;
  if (r.image !== undefined) {
    const image = r.image as Record<string, unknown>;
    if (typeof image !== 'object' || typeof image.digest !== 'string' || typeof image.uri !== 'string')
      return '"image" lacks uri or digest';
    if (!Array.isArray(image.tags)) return '"image.tags" is not a list';
  }
  if (r.target !== undefined) {
    const target = r.target as Record<string, unknown>;
    if (
      typeof target !== 'object' ||
      typeof target.kind !== 'string' ||
      !/^[a-z][a-z0-9-]*$/.test(target.kind) ||
      typeof target.id !== 'string'
    ) {
      return '"target" needs a kind (a platform name such as "apprunner") and an id';
    }
  }
  if (r.cancellation !== undefined) {
    const c = r.cancellation as Record<string, unknown>;
    if (
      typeof c !== 'object' ||
      c === null ||
      !Array.isArray(c.runsNow) ||
      !c.runsNow.every((line) => typeof line === 'string') ||
      (c.finish !== undefined && typeof c.finish !== 'string')
    ) {
      return '"cancellation" needs runsNow (a list of strings) and an optional finish command';
    }
  }
  if (r.github !== undefined) {
    const github = r.github as Record<string, unknown>;
    if (typeof github !== 'object' || github === null || !Number.isSafeInteger(github.deploymentId))
      return '"github.deploymentId" is not a whole number';
  }
  return undefined;
}

function abbreviate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
