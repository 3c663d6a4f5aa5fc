import { randomBytes } from 'node:crypto';
import type { LaunchedImage } from '../autoscaling';
import { ACCOUNT_ID } from '../ecr';
import type { LoadBalancer } from '../loadbalancer';
import { AwsFault } from '../protocol';

export const REGION = 'us-east-1';
export const ARN_PREFIX = `arn:aws:ecs:${REGION}:${ACCOUNT_ID}`;

/**
 * How long things take in the emulated ECS. AWS's minutes (bakeTimeInMinutes, canary and linear step bakes) last
 * `minuteMs` milliseconds here, so Express Mode's 3-minute bakes cost 3 × minuteMs.
 */
export interface EcsTiming {
  /** From a task's creation (PROVISIONING / PENDING) to starting its image. */
  taskStartMs: number;
  /** Interval of the target group's health check of each task. */
  healthCheckMs: number;
  /**
   * A task failing its health checks (or never answering) this long after its image started is stopped as failed
   * ("Task failed ELB health checks"), as ECS does once the load balancer marks it unhealthy.
   */
  unhealthyAfterMs: number;
  /** How long a service deployment stays PENDING before it starts. */
  pendingMs: number;
  /** One minute of bakeTimeInMinutes / canaryBakeTimeInMinutes / stepBakeTimeInMinutes. */
  minuteMs: number;
  /** The deployment loop's tick: how often it looks at tasks, alarms and stop requests. */
  tickMs: number;
}

export const defaultEcsTiming: EcsTiming = {
  taskStartMs: 150,
  healthCheckMs: 100,
  unhealthyAfterMs: 2_000,
  pendingMs: 100,
  minuteMs: 200,
  tickMs: 25,
};

export type ServiceStatus = 'ACTIVE' | 'DRAINING' | 'INACTIVE';
export type Strategy = 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
export type ControllerType = 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
export type ServiceDeploymentStatus =
  | 'PENDING'
  | 'SUCCESSFUL'
  | 'STOPPED'
  | 'STOP_REQUESTED'
  | 'IN_PROGRESS'
  | 'ROLLBACK_REQUESTED'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_SUCCESSFUL'
  | 'ROLLBACK_FAILED';
export type LifecycleStage =
  | 'RECONCILE_SERVICE'
  | 'PRE_SCALE_UP'
  | 'SCALE_UP'
  | 'POST_SCALE_UP'
  | 'TEST_TRAFFIC_SHIFT'
  | 'POST_TEST_TRAFFIC_SHIFT'
  | 'PRODUCTION_TRAFFIC_SHIFT'
  | 'POST_PRODUCTION_TRAFFIC_SHIFT'
  | 'BAKE_TIME'
  | 'CLEAN_UP';
export type MonitorStatus = 'TRIGGERED' | 'MONITORING' | 'MONITORING_COMPLETE' | 'DISABLED';

export const ACTIVE_DEPLOYMENT: readonly ServiceDeploymentStatus[] = [
  'PENDING',
  'IN_PROGRESS',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
];

/** deploymentConfiguration as the wire has it, with AWS's defaults filled in. */
export interface DeploymentConfiguration {
  deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
  maximumPercent: number;
  minimumHealthyPercent: number;
  alarms: { alarmNames: string[]; enable: boolean; rollback: boolean };
  strategy: Strategy;
  bakeTimeInMinutes?: number;
  canaryConfiguration?: { canaryPercent?: number; canaryBakeTimeInMinutes?: number };
  linearConfiguration?: { stepPercent?: number; stepBakeTimeInMinutes?: number };
}

export interface Cluster {
  name: string;
  arn: string;
  tags: { key: string; value: string }[];
}

export interface RegisteredTaskDefinition {
  /** The described taskDefinition, read-only members included. */
  body: Record<string, unknown> & { family: string; revision: number; taskDefinitionArn: string };
  tags: { key: string; value: string }[];
}

export interface ContainerDef {
  name: string;
  image: string;
  essential?: boolean;
  environment?: { name?: string; value?: string }[];
  portMappings?: { containerPort?: number }[];
}

export interface ServiceRevision {
  arn: string;
  taskDefinitionArn: string;
  /** Per container: the image as written and the digest it resolved to when the revision was made. */
  containerImages: { containerName: string; image: string; imageDigest?: string }[];
  createdAt: Date;
}

export interface Task {
  id: string;
  arn: string;
  revisionArn: string;
  state: 'PROVISIONING' | 'RUNNING' | 'STOPPING' | 'STOPPED';
  /** Its essential container's process, once started. */
  process?: LaunchedImage;
  /** Sidecar processes (non-essential containers), if any. */
  sidecars: LaunchedImage[];
  port?: number;
  digest?: string;
  /** The last health check answered 200. */
  passing: boolean;
  /** Passed at least once: counts as healthy for the deployment. */
  everPassed: boolean;
  consecutiveFailures: number;
  probeFailure?: { reason: string; description: string } | undefined;
  startedAt?: number;
  createdAt: number;
  /** Why it stopped as failed (counted in failedTasks and the circuit breaker). */
  stoppedReason?: string;
  monitor?: NodeJS.Timeout;
}

/** One entry of the service's deployments[] (the "ECS deployment" of a revision). */
export interface EcsDeployment {
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  revisionArn: string;
  taskDefinitionArn: string;
  failedTasks: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ServiceDeployment {
  id: string;
  arn: string;
  status: ServiceDeploymentStatus;
  statusReason?: string | undefined;
  lifecycleStage?: LifecycleStage | undefined;
  createdAt: Date;
  startedAt?: Date | undefined;
  finishedAt?: Date | undefined;
  stoppedAt?: Date | undefined;
  updatedAt: Date;
  sourceRevisionArns: string[];
  targetRevisionArn: string;
  configuration: DeploymentConfiguration;
  rollback?: { reason: string; startedAt: Date; serviceRevisionArn: string } | undefined;
  circuitBreaker: { status: MonitorStatus; failureCount: number; threshold: number };
  alarms: { status: MonitorStatus; alarmNames: string[]; triggeredAlarmNames: string[] };
  /** What StopServiceDeployment (or a newer deployment) asked for. */
  stopRequest?: { type: 'ROLLBACK' | 'ABORT' | 'SUPERSEDED'; reason: string } | undefined;
  /** The ECS deployment (deployments[] entry) of the target revision. */
  ecsDeployment: EcsDeployment;
  /** Resolves once the deployment has ended. */
  done?: Promise<void>;
}

export interface ExpressConfig {
  executionRoleArn: string;
  infrastructureRoleArn: string;
  taskRoleArn?: string | undefined;
  cpu: string;
  memory: string;
  healthCheckPath: string;
  primaryContainer: Record<string, unknown> & { image: string; containerPort?: number };
  networkConfiguration?: Record<string, unknown> | undefined;
  scalingTarget?: Record<string, unknown> | undefined;
  /** Per revision: the configuration it was made from. */
  byRevision: Map<string, { config: Omit<ExpressConfig, 'byRevision'>; createdAt: Date }>;
}

export interface Service {
  name: string;
  arn: string;
  cluster: Cluster;
  status: ServiceStatus;
  desiredCount: number;
  taskDefinitionArn: string;
  controller: ControllerType;
  configuration: DeploymentConfiguration;
  containerName: string;
  containerPort: number;
  healthCheckPath: string;
  targetGroupArn: string;
  createdAt: Date;
  /** Newest first. */
  events: { id: string; createdAt: Date; message: string }[];
  revisions: ServiceRevision[];
  /** Newest first. */
  serviceDeployments: ServiceDeployment[];
  ecsDeployments: EcsDeployment[];
  tasks: Task[];
  /** The share of production traffic per revision ARN (percent); the load balancer routes by it. */
  traffic: Map<string, number>;
  loadBalancer: LoadBalancer;
  express?: ExpressConfig | undefined;
  tags: { key: string; value: string }[];
  /** Healthy and live (provisioning or running) task counts, each time either changed. */
  capacity: { at: number; healthy: number; live: number }[];
}

export function randomId(length = 22): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

export function randomDigits(length: number): string {
  let out = String(1 + Math.floor(Math.random() * 9));
  while (out.length < length) out += String(Math.floor(Math.random() * 10));
  return out;
}

export function clusterArn(name: string): string {
  return `${ARN_PREFIX}:cluster/${name}`;
}

export function serviceArn(cluster: string, name: string): string {
  return `${ARN_PREFIX}:service/${cluster}/${name}`;
}

/** The name in a cluster reference: a name or a cluster ARN. */
export function clusterName(ref: unknown): string {
  if (ref === undefined || ref === null || ref === '') return 'default';
  if (typeof ref !== 'string') throw new AwsFault('InvalidParameterException', 'cluster must be a string.');
  const m = /^arn:aws:ecs:[^:]+:\d{12}:cluster\/(.+)$/.exec(ref);
  return m ? m[1]! : ref;
}

/** The service name in a service reference: a name, or a service ARN (long or old short format). */
export function serviceName(ref: string): { name: string; cluster?: string } {
  const long = /^arn:aws:ecs:[^:]+:\d{12}:service\/([^/]+)\/([^/]+)$/.exec(ref);
  if (long) return { cluster: long[1]!, name: long[2]! };
  const short = /^arn:aws:ecs:[^:]+:\d{12}:service\/([^/]+)$/.exec(ref);
  if (short) return { name: short[1]! };
  return { name: ref };
}

/** A registry reference split as ECS would pull it: `host/repo:tag` or `host/repo@sha256:…`. */
export function parseImage(image: string): { host: string; repository: string; reference: string } | undefined {
  const at = image.indexOf('@');
  let name = image;
  let reference = 'latest';
  if (at >= 0) {
    name = image.slice(0, at);
    reference = image.slice(at + 1);
  } else {
    const colon = image.lastIndexOf(':');
    if (colon > image.lastIndexOf('/')) {
      name = image.slice(0, colon);
      reference = image.slice(colon + 1);
    }
  }
  const slash = name.indexOf('/');
  if (slash < 0) return undefined;
  return { host: name.slice(0, slash), repository: name.slice(slash + 1), reference };
}

/** The circuit breaker's failed-task threshold: 0.5 × desired count, at least 3 and at most 200 (AWS API docs). */
export function circuitBreakerThreshold(desired: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desired * 0.5)));
}

export function invalid(message: string): AwsFault {
  return new AwsFault('InvalidParameterException', message);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** deploymentConfiguration from the wire, over `base` (or AWS's defaults), validated as AWS documents. */
export function parseDeploymentConfiguration(
  raw: unknown,
  base: DeploymentConfiguration | undefined,
): DeploymentConfiguration {
  const given = (raw ?? {}) as Record<string, unknown>;
  const out: DeploymentConfiguration = structuredClone(
    base ?? {
      deploymentCircuitBreaker: { enable: false, rollback: false },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      alarms: { alarmNames: [], enable: false, rollback: false },
      strategy: 'ROLLING',
    },
  );
  const int = (key: string, min: number, max: number) => {
    const v = given[key];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
      throw invalid(`${key} must be an integer between ${min} and ${max}.`);
    }
    return v as number;
  };
  out.maximumPercent = int('maximumPercent', 0, 2_147_483_647) ?? out.maximumPercent;
  out.minimumHealthyPercent = int('minimumHealthyPercent', 0, 100) ?? out.minimumHealthyPercent;
  if (given.strategy !== undefined) {
    if (!['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'].includes(given.strategy as string)) {
      throw invalid(`Invalid deployment strategy ${String(given.strategy)}.`);
    }
    out.strategy = given.strategy as Strategy;
  }
  const bake = int('bakeTimeInMinutes', 0, 1440);
  if (bake !== undefined) out.bakeTimeInMinutes = bake;
  const cb = given.deploymentCircuitBreaker as { enable?: boolean; rollback?: boolean } | undefined;
  if (cb) out.deploymentCircuitBreaker = { enable: cb.enable === true, rollback: cb.rollback === true };
  const alarms = given.alarms as { alarmNames?: string[]; enable?: boolean; rollback?: boolean } | undefined;
  if (alarms) {
    if ((alarms.alarmNames ?? []).length > 10) throw invalid('alarmNames can have at most 10 alarms.');
    out.alarms = {
      alarmNames: alarms.alarmNames ?? [],
      enable: alarms.enable === true,
      rollback: alarms.rollback === true,
    };
  }
  if (given.canaryConfiguration)
    out.canaryConfiguration = given.canaryConfiguration as NonNullable<DeploymentConfiguration['canaryConfiguration']>;
  if (given.linearConfiguration)
    out.linearConfiguration = given.linearConfiguration as NonNullable<DeploymentConfiguration['linearConfiguration']>;
  // The model: "You must provide this parameter when you use the BLUE_GREEN deployment strategy."
  if (out.strategy === 'BLUE_GREEN' && out.bakeTimeInMinutes === undefined) {
    throw invalid('bakeTimeInMinutes must be specified for the BLUE_GREEN deployment strategy.');
  }
  if (out.strategy === 'ROLLING' && out.maximumPercent < 100 && out.minimumHealthyPercent === 100) {
    throw invalid('maximumPercent must be at least 100 when minimumHealthyPercent is 100.');
  }
  return out;
}
