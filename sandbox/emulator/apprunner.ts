import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheckConfiguration, SourceConfiguration } from '@aws-sdk/client-apprunner';
import { poll } from '../../src/core/poller';
import type { SandboxRegistry } from '../registry';
import type { ImageRunner, RunningImage } from '../runner';
import { ACCOUNT_ID } from './ecr';
import { AwsFault, epochSeconds } from './protocol';
import type { ServiceDefinition } from './server';
import { applyTags, removeTags, type TagRules } from './tags';

const TAG_RULES: TagRules = { invalid: 'InvalidRequestException', tooMany: 'InvalidRequestException' };

const REGION = 'us-east-1';

export interface AppRunnerTiming {
  /** Provisioning time of a new revision before its health checks start. */
  deployMs: number;
  /** How long a new revision has to pass HealthyThreshold checks in a row before the deployment fails. */
  healthCheckMs: number;
  /** Time an operation spends PENDING, and a rollback ROLLBACK_IN_PROGRESS. */
  pendingMs: number;
}

type ServiceStatus = 'CREATE_FAILED' | 'RUNNING' | 'DELETED' | 'PAUSED' | 'OPERATION_IN_PROGRESS';
type OperationType = 'CREATE_SERVICE' | 'UPDATE_SERVICE' | 'START_DEPLOYMENT' | 'PAUSE_SERVICE' | 'RESUME_SERVICE';
export type OperationStatus =
  | 'PENDING'
  | 'IN_PROGRESS'
  | 'FAILED'
  | 'SUCCEEDED'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_FAILED'
  | 'ROLLBACK_SUCCEEDED';

interface OperationState {
  id: string;
  type: OperationType;
  status: OperationStatus;
  startedAt: Date;
  updatedAt: Date;
  endedAt?: Date;
  /** Resolves with the final status. */
  done: Promise<OperationStatus>;
}

interface ServiceState {
  name: string;
  id: string;
  arn: string;
  createdAt: Date;
  updatedAt: Date;
  status: ServiceStatus;
  source: SourceConfiguration;
  healthCheck: HealthCheck;
  instance: Record<string, unknown>;
  timing?: Partial<AppRunnerTiming> | undefined;
  front: Server;
  frontPort: number;
  live?: RunningImage | undefined;
  /** The digest the service was running when paused: what ResumeService brings back. */
  pausedDigest?: string | undefined;
  /** What the auto-deploy watcher last saw the tracked tag resolve to. */
  watched?: { identifier: string; digest: string };
  /** Newest first. */
  operations: OperationState[];
  current?: OperationState | undefined;
  /** Why the last deployment failed, for test diagnostics. */
  lastFailure?: string | undefined;
  tags: Map<string, string>;
}

export interface CreateServiceInput {
  ServiceName: string;
  SourceConfiguration: SourceConfiguration;
  HealthCheckConfiguration?: HealthCheckConfiguration;
  InstanceConfiguration?: Record<string, unknown>;
}

/** HealthCheckConfiguration with App Runner's defaults filled in. */
interface HealthCheck {
  Protocol: 'TCP' | 'HTTP';
  Path: string;
  Interval: number;
  Timeout: number;
  HealthyThreshold: number;
  UnhealthyThreshold: number;
}

function withHealthCheck(base: HealthCheck, given: unknown): HealthCheck {
  const merged = { ...base };
  for (const [key, value] of Object.entries((given ?? {}) as Record<string, unknown>))
    if (value !== undefined && value !== null && key in merged) (merged as Record<string, unknown>)[key] = value;
  return merged;
}

const DEFAULT_HEALTH_CHECK: HealthCheck = {
  Protocol: 'TCP',
  Path: '/',
  Interval: 5,
  Timeout: 2,
  HealthyThreshold: 1,
  UnhealthyThreshold: 5,
};

/**
 * The App Runner control plane over the sandbox registry. A deployment really runs the image it names (with the
 * ImageRunner), health-checks it as configured and, when it fails, rolls back by itself the way App Runner does:
 * the operation ends ROLLBACK_SUCCEEDED while the service goes back to RUNNING on the old revision. Each service has
 * a stable front port (its ServiceUrl) proxying HTTP to whichever revision is live.
 */
export class AppRunnerEmulator {
  /** Defaults for services without their own timing; tests may change it. */
  timing: AppRunnerTiming = { deployMs: 1_000, healthCheckMs: 1_500, pendingMs: 200 };
  /** How often tags of auto-deploying services are looked at. */
  autoDeployPollMs = 500;
  readonly services = new Map<string, ServiceState>();
  private readonly aborter = new AbortController();
  private watcher: NodeJS.Timeout | undefined;
  private watching = false;

  constructor(
    private readonly registry: SandboxRegistry,
    private readonly runner: ImageRunner,
  ) {}

  definition(): ServiceDefinition {
    return {
      name: 'apprunner',
      protocol: 'json',
      targetPrefix: 'AppRunner',
      contentType: 'application/x-amz-json-1.0',
      operations: {
        CreateService: async (p) => {
          const created = await this.create(p);
          return { Service: this.view(created.service), OperationId: created.operationId };
        },
        DescribeService: (p) => ({ Service: this.view(this.lookup(p)) }),
        UpdateService: (p) => this.update(p),
        StartDeployment: (p) => this.startDeployment(p),
        ListOperations: (p) => this.listOperations(p),
        PauseService: (p) => this.pause(p),
        ResumeService: (p) => this.resume(p),
        TagResource: (p) => {
          applyTags(this.lookupArn(p).tags, tagList(p.Tags), TAG_RULES);
          return {};
        },
        UntagResource: (p) => {
          const keys = p.TagKeys;
          if (!Array.isArray(keys)) throw new AwsFault('InvalidRequestException', 'TagKeys is required.');
          removeTags(this.lookupArn(p).tags, keys as string[], TAG_RULES);
          return {};
        },
        ListTagsForResource: (p) => ({
          Tags: [...this.lookupArn(p).tags].map(([Key, Value]) => ({ Key, Value })),
        }),
      },
    };
  }

  /** Test set-up: CreateService without the wire. The first deployment runs in the background. */
  async createService(
    input: CreateServiceInput,
    options: { timing?: Partial<AppRunnerTiming> } = {},
  ): Promise<{ ServiceArn: string; ServiceUrl: string; OperationId: string }> {
    const { service, operationId } = await this.create(input as unknown as Record<string, unknown>, options.timing);
    return { ServiceArn: service.arn, ServiceUrl: this.url(service.arn), OperationId: operationId };
  }

  /** Per-service timing (overrides `timing` field by field). */
  setTiming(serviceArn: string, timing: Partial<AppRunnerTiming>): void {
    this.require(serviceArn).timing = timing;
  }

  /** http://127.0.0.1:PORT: the service's stable front, whichever revision is live. */
  url(serviceArn: string): string {
    return `http://127.0.0.1:${this.require(serviceArn).frontPort}`;
  }

  /** The manifest digest of the revision serving traffic; undefined while none does (first deploy, paused). */
  liveDigest(serviceArn: string): string | undefined {
    return this.require(serviceArn).live?.digest;
  }

  /** Why the service's last deployment failed (health check, missing image), if one did. */
  lastFailure(serviceArn: string): string | undefined {
    return this.require(serviceArn).lastFailure;
  }

  /** Resolves with the operation's final status (the current one when no id is given; undefined if none runs). */
  async settled(serviceArn: string, operationId?: string): Promise<OperationStatus | undefined> {
    const service = this.require(serviceArn);
    const op = operationId ? service.operations.find((o) => o.id === operationId) : service.current;
    return op?.done;
  }

  async stop(): Promise<void> {
    this.aborter.abort();
    if (this.watcher) clearInterval(this.watcher);
    await Promise.all(
      [...this.services.values()].map(async (service) => {
        await Promise.all(service.operations.map((op) => op.done));
        await service.live?.stop();
        service.front.closeAllConnections();
        await new Promise<void>((resolve) => service.front.close(() => resolve()));
      }),
    );
  }

  // --- operations -------------------------------------------------------------------------------------------------

  private async create(p: Record<string, unknown>, timing?: Partial<AppRunnerTiming>) {
    const name = requireString(p, 'ServiceName');
    if (!/^[A-Za-z0-9][A-Za-z0-9-_]{3,39}$/.test(name))
      throw new AwsFault(
        'InvalidRequestException',
        `1 validation error detected: Value '${name}' at 'serviceName' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9-_]{3,39}`,
      );
    if ([...this.services.values()].some((s) => s.name === name))
      throw new AwsFault('InvalidRequestException', `Service with the provided name already exists: ${name}`);
    const source = requireSource(p.SourceConfiguration);
    const id = randomBytes(16).toString('hex');
    const arn = `arn:aws:apprunner:${REGION}:${ACCOUNT_ID}:service/${name}/${id}`;
    const front = this.frontServer(arn);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const address = front.address();
    const now = new Date();
    const service: ServiceState = {
      name,
      id,
      arn,
      createdAt: now,
      updatedAt: now,
      status: 'OPERATION_IN_PROGRESS',
      source,
      healthCheck: withHealthCheck(DEFAULT_HEALTH_CHECK, p.HealthCheckConfiguration),
      instance: { Cpu: '1024', Memory: '2048', ...(p.InstanceConfiguration as Record<string, unknown>) },
      timing,
      front,
      frontPort: typeof address === 'object' && address ? address.port : 0,
      operations: [],
      tags: new Map(),
    };
    if (p.Tags !== undefined) applyTags(service.tags, tagList(p.Tags), TAG_RULES);
    this.services.set(arn, service);
    this.startWatcher();
    const op = this.begin(service, 'CREATE_SERVICE', (o) => this.deploy(service, o, { first: true }));
    return { service, operationId: op.id };
  }

  private update(p: Record<string, unknown>) {
    const service = this.lookup(p);
    this.requireIdle(service, 'updated');
    // AWS: a CREATE_FAILED service is rebuilt "using UpdateService" (the Service.Status documentation).
    const rebuild = service.status === 'CREATE_FAILED';
    if (service.status !== 'RUNNING' && service.status !== 'PAUSED' && !rebuild) throw invalidState(service, 'updated');
    const previous = service.source;
    if (p.SourceConfiguration !== undefined) {
      const given = p.SourceConfiguration as SourceConfiguration;
      service.source = {
        ...previous,
        ...given,
        ImageRepository: given.ImageRepository
          ? requireSource({ ImageRepository: given.ImageRepository }).ImageRepository
          : previous.ImageRepository,
      };
    }
    if (p.HealthCheckConfiguration !== undefined)
      service.healthCheck = withHealthCheck(service.healthCheck, p.HealthCheckConfiguration);
    if (p.InstanceConfiguration !== undefined)
      service.instance = { ...service.instance, ...(p.InstanceConfiguration as Record<string, unknown>) };
    // A paused service takes the new configuration without running it: ResumeService deploys.
    const paused = service.status === 'PAUSED';
    const op = this.begin(service, 'UPDATE_SERVICE', (o) =>
      paused
        ? this.finishQuietly(service, o, 'PAUSED')
        : this.deploy(service, o, rebuild ? { first: true } : { first: false, previous }),
    );
    return { Service: this.view(service), OperationId: op.id };
  }

  private startDeployment(p: Record<string, unknown>) {
    const service = this.lookup(p);
    // The model lists no InvalidStateException for StartDeployment (only InvalidRequestException,
    // ResourceNotFoundException, InternalServiceErrorException): a busy or not-running service is a bad request.
    if (service.current || service.status !== 'RUNNING')
      throw new AwsFault('InvalidRequestException', invalidState(service, 'deployed').message);
    const op = this.begin(service, 'START_DEPLOYMENT', (o) =>
      this.deploy(service, o, { first: false, previous: service.source }),
    );
    return { OperationId: op.id };
  }

  private pause(p: Record<string, unknown>) {
    const service = this.lookup(p);
    this.requireIdle(service, 'paused');
    if (service.status !== 'RUNNING') throw invalidState(service, 'paused');
    const op = this.begin(service, 'PAUSE_SERVICE', async (o) => {
      await this.wait(this.timingOf(service).pendingMs);
      this.mark(service, o, 'IN_PROGRESS');
      const live = service.live;
      service.pausedDigest = live?.digest;
      service.live = undefined;
      await live?.stop();
      this.end(service, o, 'SUCCEEDED', 'PAUSED');
    });
    return { Service: this.view(service), OperationId: op.id };
  }

  private resume(p: Record<string, unknown>) {
    const service = this.lookup(p);
    this.requireIdle(service, 'resumed');
    if (service.status !== 'PAUSED') throw invalidState(service, 'resumed');
    const op = this.begin(service, 'RESUME_SERVICE', (o) =>
      this.deploy(service, o, { first: false, previous: service.source, digest: service.pausedDigest }),
    );
    return { Service: this.view(service), OperationId: op.id };
  }

  private listOperations(p: Record<string, unknown>) {
    const service = this.lookup(p);
    const max = p.MaxResults === undefined ? 20 : Number(p.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 20)
      throw new AwsFault(
        'InvalidRequestException',
        `1 validation error detected: Value '${String(p.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 20`,
      );
    let from = 0;
    if (p.NextToken !== undefined) {
      const id = Buffer.from(String(p.NextToken), 'base64url').toString();
      from = service.operations.findIndex((o) => o.id === id);
      if (from < 0) throw new AwsFault('InvalidRequestException', 'Invalid NextToken');
    }
    const page = service.operations.slice(from, from + max);
    const next = service.operations[from + max];
    return {
      OperationSummaryList: page.map((o) => ({
        Id: o.id,
        Type: o.type,
        Status: o.status,
        TargetArn: service.arn,
        StartedAt: epochSeconds(o.startedAt),
        UpdatedAt: epochSeconds(o.updatedAt),
        ...(o.endedAt ? { EndedAt: epochSeconds(o.endedAt) } : {}),
      })),
      ...(next ? { NextToken: Buffer.from(next.id).toString('base64url') } : {}),
    };
  }

  // --- deployments ------------------------------------------------------------------------------------------------

  /**
   * Runs the configured image as a new revision; on success it takes the traffic and the old one stops, otherwise
   * it stops and the service returns to the previous configuration (or CREATE_FAILED when there is none).
   */
  private async deploy(
    service: ServiceState,
    op: OperationState,
    how: { first: boolean; previous?: SourceConfiguration; digest?: string | undefined },
  ): Promise<void> {
    const timing = this.timingOf(service);
    await this.wait(timing.pendingMs);
    this.mark(service, op, 'IN_PROGRESS');
    let revision: RunningImage | undefined;
    try {
      const image = service.source.ImageRepository!;
      const { repository, reference } = parseIdentifier(image.ImageIdentifier!, this.registry.host);
      const digest = how.digest ?? (await this.runner.resolve(repository, reference));
      if (!digest) throw new Error(`image ${image.ImageIdentifier} was not found in the registry`);
      if (!reference.startsWith('sha256:')) service.watched = { identifier: image.ImageIdentifier!, digest };
      revision = await this.runner.start(repository, digest, {
        env: image.ImageConfiguration?.RuntimeEnvironmentVariables ?? {},
      });
      await this.wait(timing.deployMs);
      await this.healthy(service, revision, timing.healthCheckMs);
      const old = service.live;
      service.live = revision;
      await old?.stop();
      service.lastFailure = undefined;
      this.end(service, op, 'SUCCEEDED', 'RUNNING');
    } catch (error) {
      await revision?.stop();
      if (this.aborter.signal.aborted) return this.end(service, op, 'FAILED', service.status);
      service.lastFailure = error instanceof Error ? error.message : String(error);
      if (how.first) return this.end(service, op, 'FAILED', 'CREATE_FAILED');
      if (op.type === 'RESUME_SERVICE') return this.end(service, op, 'FAILED', 'PAUSED');
      this.mark(service, op, 'ROLLBACK_IN_PROGRESS');
      await this.wait(timing.pendingMs).catch(() => undefined);
      if (how.previous) service.source = how.previous;
      this.end(service, op, 'ROLLBACK_SUCCEEDED', 'RUNNING');
    }
  }

  /** HealthyThreshold passing checks in a row within the health-check window, as App Runner requires. */
  private async healthy(service: ServiceState, revision: RunningImage, windowMs: number): Promise<void> {
    const check = service.healthCheck;
    const threshold = Math.max(1, check.HealthyThreshold);
    const intervalMs = Math.min(200, Math.max(50, windowMs / 10));
    let inARow = 0;
    let last = 'no check ran';
    try {
      await poll({
        what: `health of ${service.name}`,
        timeoutMs: windowMs + threshold * intervalMs,
        minDelayMs: intervalMs,
        maxDelayMs: intervalMs,
        signal: this.aborter.signal,
        check: async () => {
          if (!revision.running) throw new Error(`the revision exited; see ${revision.logFile}`);
          last = await probe(revision.port, check);
          inARow = last === 'ok' ? inARow + 1 : 0;
          return inARow >= threshold ? { done: true, value: undefined } : { done: false };
        },
      });
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the revision exited')) throw error;
      throw new Error(`${check.Protocol} health check on ${check.Path} failed: ${last}`);
    }
  }

  private finishQuietly(service: ServiceState, op: OperationState, status: ServiceStatus): Promise<void> {
    return this.wait(this.timingOf(service).pendingMs).then(() => this.end(service, op, 'SUCCEEDED', status));
  }

  // --- auto deployments -------------------------------------------------------------------------------------------

  /**
   * Watches the tags of services with AutoDeploymentsEnabled: a push or retag moves the tag's digest in the registry
   * (docker pushes never pass through the ECR emulator), and that starts a deployment as App Runner's does.
   */
  private startWatcher(): void {
    if (this.watcher) return;
    this.watcher = setInterval(() => {
      if (this.watching) return;
      this.watching = true;
      this.checkTags()
        .catch(() => undefined)
        .finally(() => {
          this.watching = false;
        });
    }, this.autoDeployPollMs);
    this.watcher.unref();
  }

  private async checkTags(): Promise<void> {
    for (const service of this.services.values()) {
      const identifier = service.source.ImageRepository?.ImageIdentifier;
      if (!service.source.AutoDeploymentsEnabled || !identifier || service.current || service.status !== 'RUNNING')
        continue;
      const { repository, reference } = parseIdentifier(identifier, this.registry.host);
      if (reference.startsWith('sha256:')) continue;
      const digest = await this.runner.resolve(repository, reference);
      if (!digest || service.current || this.aborter.signal.aborted) continue;
      if (service.watched?.identifier !== identifier) {
        service.watched = { identifier, digest };
        continue;
      }
      if (service.watched.digest === digest) continue;
      service.watched = { identifier, digest };
      this.begin(service, 'START_DEPLOYMENT', (o) =>
        this.deploy(service, o, { first: false, previous: service.source, digest }),
      );
    }
  }

  // --- state helpers ----------------------------------------------------------------------------------------------

  private begin(
    service: ServiceState,
    type: OperationType,
    body: (op: OperationState) => Promise<void>,
  ): OperationState {
    const now = new Date();
    let settle: (status: OperationStatus) => void = () => undefined;
    const op: OperationState = {
      id: randomUUID(),
      type,
      status: 'PENDING',
      startedAt: now,
      updatedAt: now,
      done: new Promise((resolve) => {
        settle = resolve;
      }),
    };
    service.operations.unshift(op);
    service.current = op;
    service.status = 'OPERATION_IN_PROGRESS';
    service.updatedAt = now;
    body(op)
      .catch((error: unknown) => {
        service.lastFailure = error instanceof Error ? error.message : String(error);
        if (!op.endedAt) this.end(service, op, 'FAILED', service.live ? 'RUNNING' : 'CREATE_FAILED');
      })
      .finally(() => settle(op.status));
    return op;
  }

  private mark(service: ServiceState, op: OperationState, status: OperationStatus): void {
    op.status = status;
    op.updatedAt = new Date();
    service.updatedAt = op.updatedAt;
  }

  private end(service: ServiceState, op: OperationState, status: OperationStatus, serviceStatus: ServiceStatus) {
    this.mark(service, op, status);
    op.endedAt = op.updatedAt;
    service.status = serviceStatus;
    if (service.current === op) service.current = undefined;
  }

  private wait(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.aborter.signal });
  }

  private timingOf(service: ServiceState): AppRunnerTiming {
    return { ...this.timing, ...service.timing };
  }

  private requireIdle(service: ServiceState, doing: string): void {
    if (service.current) throw invalidState(service, doing);
  }

  private lookup(p: Record<string, unknown>): ServiceState {
    return this.require(requireString(p, 'ServiceArn'));
  }

  /** The tag operations name a resource by ResourceArn; only services are emulated. */
  private lookupArn(p: Record<string, unknown>): ServiceState {
    return this.require(requireString(p, 'ResourceArn'));
  }

  private require(arn: string): ServiceState {
    const service = this.services.get(arn);
    if (!service) throw new AwsFault('ResourceNotFoundException', `Service with ARN ${arn} not found`);
    return service;
  }

  private view(service: ServiceState) {
    return {
      ServiceName: service.name,
      ServiceId: service.id,
      ServiceArn: service.arn,
      ServiceUrl: `127.0.0.1:${service.frontPort}`,
      CreatedAt: epochSeconds(service.createdAt),
      UpdatedAt: epochSeconds(service.updatedAt),
      Status: service.status,
      SourceConfiguration: service.source,
      InstanceConfiguration: service.instance,
      HealthCheckConfiguration: service.healthCheck,
      AutoScalingConfigurationSummary: {
        AutoScalingConfigurationArn: `arn:aws:apprunner:${REGION}:${ACCOUNT_ID}:autoscalingconfiguration/DefaultConfiguration/1/00000000000000000000000000000001`,
        AutoScalingConfigurationName: 'DefaultConfiguration',
        AutoScalingConfigurationRevision: 1,
      },
      NetworkConfiguration: {
        EgressConfiguration: { EgressType: 'DEFAULT' },
        IngressConfiguration: { IsPubliclyAccessible: true },
        IpAddressType: 'IPV4',
      },
    };
  }

  /** The service's front: forwards each request to the live revision, so the URL survives deployments. */
  private frontServer(arn: string): Server {
    return createServer((req, res) => {
      const live = this.services.get(arn)?.live;
      if (!live?.running) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable: no running revision\n');
        return;
      }
      const upstream = request(
        { host: '127.0.0.1', port: live.port, method: req.method, path: req.url, headers: req.headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('Bad Gateway\n');
      });
      req.pipe(upstream);
    });
  }
}

/** One health check: 'ok' or what went wrong. */
function probe(port: number, check: HealthCheck): Promise<string> {
  const timeoutMs = Math.min(1_000, Math.max(1, check.Timeout) * 1_000);
  if (check.Protocol === 'HTTP') {
    return fetch(`http://127.0.0.1:${port}${check.Path.startsWith('/') ? '' : '/'}${check.Path}`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        return res.status >= 200 && res.status < 300 ? 'ok' : `HTTP ${res.status}`;
      })
      .catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
  }
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve('TCP connect timed out');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

/** `<registry host>/<repository>:<tag>` or `…@sha256:…` into repository and reference in the sandbox registry. */
export function parseIdentifier(identifier: string, registryHost: string): { repository: string; reference: string } {
  if (!identifier.startsWith(`${registryHost}/`))
    throw new Error(`image ${identifier} is not in the sandbox registry ${registryHost}`);
  const rest = identifier.slice(registryHost.length + 1);
  const at = rest.indexOf('@');
  if (at > 0) return { repository: rest.slice(0, at), reference: rest.slice(at + 1) };
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon).includes('/'))
    return { repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
  return { repository: rest, reference: 'latest' };
}

function requireString(p: Record<string, unknown>, field: string): string {
  const value = p[field];
  if (typeof value !== 'string' || value === '')
    throw new AwsFault('InvalidRequestException', `1 validation error detected: ${field} must not be null`);
  return value;
}

function requireSource(value: unknown): SourceConfiguration {
  const source = value as SourceConfiguration | undefined;
  const image = source?.ImageRepository;
  if (!image) {
    throw new AwsFault(
      'InvalidRequestException',
      'SourceConfiguration must have ImageRepository (the sandbox emulates image services only)',
    );
  }
  if (typeof image.ImageIdentifier !== 'string' || image.ImageIdentifier === '')
    throw new AwsFault('InvalidRequestException', 'ImageRepository.ImageIdentifier must not be null');
  if (image.ImageRepositoryType !== 'ECR' && image.ImageRepositoryType !== 'ECR_PUBLIC')
    throw new AwsFault(
      'InvalidRequestException',
      `ImageRepository.ImageRepositoryType must be ECR or ECR_PUBLIC, not ${String(image.ImageRepositoryType)}`,
    );
  return {
    ...source,
    ImageRepository: {
      ...image,
      ImageConfiguration: { Port: '8080', ...image.ImageConfiguration },
    },
  };
}

function invalidState(service: ServiceState, doing: string): AwsFault {
  return new AwsFault(
    'InvalidStateException',
    `Service ${service.arn} cannot be ${doing} while it is ${service.status}` +
      (service.current ? ` (operation ${service.current.id} is ${service.current.status})` : ''),
  );
}

/** [{Key, Value}] as the tag APIs send it, checked for shape. */
function tagList(value: unknown): { key: string; value: string }[] {
  if (!Array.isArray(value)) throw new AwsFault('InvalidRequestException', 'Tags is required.');
  return value.map((t: { Key?: unknown; Value?: unknown }) => {
    if (typeof t?.Key !== 'string')
      throw new AwsFault('InvalidRequestException', "1 validation error detected: Value null at 'tags.member.key'");
    return { key: t.Key, value: typeof t.Value === 'string' ? t.Value : '' };
  });
}
