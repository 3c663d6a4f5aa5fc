import { randomUUID } from 'node:crypto';
import { ACCOUNT_ID } from './ecr';
import { LoadBalancer } from './loadbalancer';
import { type MetricStore, publishAlbAnswer, targetGroupDimension } from './metrics';
import { AwsFault, NO_RESULT } from './protocol';
import type { ServiceDefinition } from './server';
import { MAX_TAGS_PER_RESOURCE } from './tags';

const REGION = 'us-east-1';
export const AUTOSCALING_XMLNS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

/** What starts an instance's image: the sandbox's ImageRunner, or a fake in tests of the state machine. */
export interface Launcher {
  /** The manifest digest `reference` names in `repository` now; undefined when there is none. */
  resolve(repository: string, reference: string): Promise<string | undefined>;
  start(repository: string, reference: string, options?: { env?: Record<string, string> }): Promise<LaunchedImage>;
}

export interface LaunchedImage {
  url: string;
  digest: string;
  stop(): Promise<void>;
}

/**
 * How long things take in the emulated group. Every duration AWS counts in seconds (InstanceWarmup, CheckpointDelay,
 * BakeTime) lasts `secondMs` milliseconds here, so a 300-second warmup costs 3 s at the default of 10.
 */
export interface AsgTiming {
  /** From launch to starting the image (the instance "boots"). */
  bootMs: number;
  /** Interval of the load balancer's GET /health probe of each instance. */
  healthCheckMs: number;
  /** HealthCheckGracePeriod: an instance failing its probes this long after launch is marked Unhealthy. */
  graceMs: number;
  /** One second of InstanceWarmup / CheckpointDelay / BakeTime. */
  secondMs: number;
  /**
   * How long ScaleInProtectedInstances / StandbyInstances `Wait` waits before failing the refresh. Unset: AWS's one
   * hour on the scaled clock (3600 × secondMs).
   */
  waitMs?: number | undefined;
  /** Before a refresh leaves Pending. */
  pendingMs: number;
  /**
   * How many replacements in a row may turn Unhealthy before the refresh gives up. AWS replaces an unhealthy
   * instance and keeps going; it fails the refresh only when replacements keep failing (its exact threshold is not
   * documented). Optional so older timing objects stay valid; default 3.
   */
  replacementAttempts?: number;
}

export const defaultTiming: AsgTiming = {
  bootMs: 150,
  healthCheckMs: 100,
  graceMs: 3_000,
  secondMs: 10,
  pendingMs: 100,
};

type Lifecycle = 'Pending' | 'InService' | 'Terminating' | 'Terminated' | 'Standby';
type RefreshStatus =
  | 'Pending'
  | 'InProgress'
  | 'Successful'
  | 'Failed'
  | 'Cancelling'
  | 'Cancelled'
  | 'RollbackInProgress'
  | 'RollbackFailed'
  | 'RollbackSuccessful'
  | 'Baking';

const ACTIVE: readonly RefreshStatus[] = ['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'];

/** One version of the emulated launch template: the image its user data pulls at boot. */
export interface TemplateVersion {
  repository: string;
  /** A tag (the boot tag, resolved at boot) or a digest. */
  reference: string;
  env?: Record<string, string> | undefined;
}

interface LaunchTemplate {
  id: string;
  name: string;
  versions: TemplateVersion[];
  defaultVersion: number;
}

export interface EmulatedInstance {
  id: string;
  lifecycle: Lifecycle;
  health: 'Healthy' | 'Unhealthy';
  /** The template version it was launched from (a number, as text). */
  version: string;
  /** What the boot tag resolved to when it booted. */
  digest?: string;
  url?: string;
  /** The last /health probe answered 200. */
  passing: boolean;
  /** The reason of the last failed probe, as ELB reports it. */
  probeFailure?: { reason: string; description: string } | undefined;
  protectedFromScaleIn: boolean;
  launchedAt: number;
  failures: number;
  process?: LaunchedImage;
  monitor?: NodeJS.Timeout;
}

interface Preferences {
  MinHealthyPercentage: number;
  MaxHealthyPercentage: number;
  InstanceWarmup?: number | undefined;
  CheckpointPercentages?: number[] | undefined;
  CheckpointDelay?: number | undefined;
  SkipMatching: boolean;
  AutoRollback: boolean;
  ScaleInProtectedInstances: 'Refresh' | 'Ignore' | 'Wait';
  StandbyInstances: 'Terminate' | 'Ignore' | 'Wait';
  AlarmSpecification?: { Alarms: string[] } | undefined;
  BakeTime?: number | undefined;
}

export interface EmulatedRefresh {
  InstanceRefreshId: string;
  AutoScalingGroupName: string;
  Status: RefreshStatus;
  StatusReason?: string | undefined;
  StartTime: Date;
  EndTime?: Date | undefined;
  PercentageComplete: number;
  InstancesToUpdate: number;
  Preferences: Preferences;
  DesiredConfiguration?:
    | { LaunchTemplate: { LaunchTemplateId: string; LaunchTemplateName: string; Version: string } }
    | undefined;
  RollbackDetails?: {
    RollbackReason: string;
    RollbackStartTime: Date;
    PercentageCompleteOnRollback: number;
    InstancesToUpdateOnRollback: number;
  };
  /** Template version the group had when the refresh started: what a rollback relaunches. */
  previousVersion: string;
  cancelRequested: boolean;
  rollbackRequested?: string | undefined;
  launched: Set<string>;
}

export interface EmulatedGroup {
  name: string;
  arn: string;
  template: LaunchTemplate;
  /** The group's launch template version: a number, '$Latest' or '$Default'. */
  version: string;
  minSize: number;
  maxSize: number;
  desired: number;
  instances: EmulatedInstance[];
  refreshes: EmulatedRefresh[];
  targetGroupArns: string[];
  loadBalancer: LoadBalancer;
  /** Instances InService and passing health checks, each time that number changed. */
  history: { at: number; inService: number }[];
  env: Record<string, string>;
  /** DefaultInstanceWarmup in seconds; undefined when the group has none (AWS then warms up for the grace period). */
  defaultInstanceWarmup?: number | undefined;
  /**
   * EC2 (AWS's default): an instance is Healthy while it runs, whatever its application answers. ELB: an instance
   * failing the target group's health checks past the grace period is Unhealthy.
   */
  healthCheckType: 'EC2' | 'ELB';
  /** The group's tags: value and PropagateAtLaunch by key. */
  tags: Map<string, { value: string; propagateAtLaunch: boolean }>;
}

export interface CreateGroupOptions {
  name: string;
  repository: string;
  /** The tag the launch template's user data pulls at boot. Default 'latest'. */
  bootTag?: string;
  instances?: number;
  /** Register the instances in a target group (read through the ELBv2 emulator). Default true. */
  targetGroup?: boolean | undefined;
  /** The group's launch template version. Default '1'. */
  launchTemplateVersion?: string | undefined;
  /** Extra environment for every instance. */
  env?: Record<string, string> | undefined;
  /** The group's DefaultInstanceWarmup in seconds (scaled clock). Default: none. */
  defaultInstanceWarmup?: number | undefined;
  /** The group's HealthCheckType. Default 'EC2', as CreateAutoScalingGroup without one. */
  healthCheckType?: 'EC2' | 'ELB' | undefined;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  port: number;
  groupName: string;
}

class Stop extends Error {
  constructor(
    readonly kind: 'cancel' | 'rollback' | 'unhealthy',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The EC2 Auto Scaling control plane for one account, with instances that really run: each "boots" by resolving its
 * launch template's image reference (the boot tag) in the sandbox registry at that moment and running it, and the
 * group's load balancer routes to the InService instances that pass GET /health. Instance refreshes replace instances
 * in batches sized by Min/MaxHealthyPercentage, honouring warmup, checkpoints, SkipMatching, bake time, Wait
 * preferences, alarms and AutoRollback.
 */
export class AutoScalingEmulator {
  timing: AsgTiming = { ...defaultTiming };
  readonly groups = new Map<string, EmulatedGroup>();
  readonly targetGroups = new Map<string, TargetGroupState>();
  /** CloudWatch alarm names currently in ALARM: a refresh watching one of them fails (or rolls back). */
  readonly alarmsInAlarm = new Set<string>();
  /** Where the groups' load balancers publish their CloudWatch metrics (set by the sandbox). */
  metrics: MetricStore | undefined;
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly launcher: Launcher) {}

  definition(): ServiceDefinition {
    return {
      name: 'autoscaling',
      protocol: 'query',
      version: '2011-01-01',
      xmlns: AUTOSCALING_XMLNS,
      operations: {
        DescribeAutoScalingGroups: (p) => this.describeGroups(p),
        StartInstanceRefresh: (p) => this.startRefresh(p),
        DescribeInstanceRefreshes: (p) => this.describeRefreshes(p),
        CancelInstanceRefresh: (p) => this.cancelRefresh(p),
        RollbackInstanceRefresh: (p) => this.rollbackRefresh(p),
        UpdateAutoScalingGroup: (p) => this.updateGroup(p),
        CreateOrUpdateTags: (p) => this.createOrUpdateTags(p),
        DeleteTags: (p) => this.deleteTags(p),
        DescribeTags: (p) => this.describeTags(p),
      },
    };
  }

  // ---- test set-up --------------------------------------------------------------------------------------------

  /** Creates a group whose instances boot `<repository>:<bootTag>`, and waits until every instance passes /health. */
  async createGroup(options: CreateGroupOptions): Promise<EmulatedGroup> {
    const count = options.instances ?? 4;
    const template: LaunchTemplate = {
      id: `lt-${this.hex(17)}`,
      name: `${options.name}-template`,
      versions: [{ repository: options.repository, reference: options.bootTag ?? 'latest' }],
      defaultVersion: 1,
    };
    const group: EmulatedGroup = {
      name: options.name,
      arn: `arn:aws:autoscaling:${REGION}:${ACCOUNT_ID}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${options.name}`,
      template,
      version: options.launchTemplateVersion ?? '1',
      minSize: count,
      maxSize: count * 2,
      desired: count,
      instances: [],
      refreshes: [],
      targetGroupArns: [],
      loadBalancer: new LoadBalancer(() => this.routable(group).map((i) => ({ url: i.url! })), {
        name: `${options.name}-lb`,
        onAnswer: (answer) => {
          if (!this.metrics) return;
          const targetGroup = group.targetGroupArns[0];
          publishAlbAnswer(
            this.metrics,
            {
              loadBalancer: group.loadBalancer.dimension,
              ...(targetGroup ? { targetGroup: targetGroupDimension(targetGroup) } : {}),
            },
            answer,
          );
        },
      }),
      history: [],
      env: options.env ?? {},
      defaultInstanceWarmup: options.defaultInstanceWarmup,
      healthCheckType: options.healthCheckType ?? 'EC2',
      tags: new Map(),
    };
    if (options.targetGroup !== false) {
      const arn = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/${options.name}-tg/${this.hex(16)}`;
      this.targetGroups.set(arn, { arn, name: `${options.name}-tg`.slice(0, 32), port: 8080, groupName: options.name });
      group.targetGroupArns.push(arn);
    }
    this.groups.set(options.name, group);
    await group.loadBalancer.start();
    const instances = await Promise.all(
      Array.from({ length: count }, () => this.launch(group, this.resolveVersion(group, group.version))),
    );
    for (const instance of instances) {
      if (!(await this.untilPassing(instance))) {
        throw new Error(`Instance ${instance.id} of ${group.name} never passed /health (see its log)`);
      }
    }
    return group;
  }

  /** Adds a launch template version booting another image; returns its number (as text). */
  addTemplateVersion(groupName: string, version: TemplateVersion): string {
    const group = this.requireGroup(groupName);
    group.template.versions.push(version);
    return String(group.template.versions.length);
  }

  /** Marks a scale-in protected instance (ScaleInProtectedInstances) or puts one in Standby. */
  setInstance(groupName: string, index: number, change: { protectedFromScaleIn?: boolean; standby?: boolean }): void {
    const instance = this.requireGroup(groupName).instances.filter((i) => i.lifecycle !== 'Terminated')[index];
    if (!instance) throw new Error(`No instance ${index} in ${groupName}`);
    if (change.protectedFromScaleIn !== undefined) instance.protectedFromScaleIn = change.protectedFromScaleIn;
    if (change.standby !== undefined) instance.lifecycle = change.standby ? 'Standby' : 'InService';
  }

  loadBalancerUrl(groupName: string): string {
    return this.requireGroup(groupName).loadBalancer.url;
  }

  /** The fewest instances that were InService and passing /health at once since `since` (ms epoch). */
  minInService(groupName: string, since = 0): number {
    const history = this.requireGroup(groupName).history;
    let min = Number.POSITIVE_INFINITY;
    let before: number | undefined;
    for (const entry of history) {
      if (entry.at < since) before = entry.inService;
      else min = Math.min(min, entry.inService);
    }
    if (before !== undefined) min = Math.min(min, before);
    return min;
  }

  /** The live instances of a group (not terminated). */
  liveInstances(groupName: string): EmulatedInstance[] {
    return this.requireGroup(groupName).instances.filter((i) => i.lifecycle !== 'Terminated');
  }

  /** Removes a group: cancels its refresh, terminates its instances, closes its load balancer. */
  async deleteGroup(groupName: string): Promise<void> {
    const group = this.requireGroup(groupName);
    for (const refresh of group.refreshes) refresh.cancelRequested = true;
    while (this.active(group)) await delay(20);
    await Promise.all(group.instances.map((i) => this.terminate(group, i)));
    await group.loadBalancer.stop();
    for (const arn of group.targetGroupArns) this.targetGroups.delete(arn);
    this.groups.delete(groupName);
  }

  /** Waits until no refresh of any group is active; for test teardown. */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const group of this.groups.values()) {
      for (const refresh of group.refreshes) refresh.cancelRequested = true;
    }
    await this.settle();
    for (const group of this.groups.values()) {
      await Promise.all(group.instances.map((i) => this.terminate(group, i)));
      await group.loadBalancer.stop();
    }
  }

  // ---- instances ----------------------------------------------------------------------------------------------

  private hex(length: number): string {
    return randomUUID().replace(/-/g, '').slice(0, length);
  }

  private requireGroup(name: string): EmulatedGroup {
    const group = this.groups.get(name);
    if (!group) throw new Error(`No emulated Auto Scaling group ${name}`);
    return group;
  }

  /** '$Latest' / '$Default' / 'N' → the version number as text. */
  private resolveVersion(group: EmulatedGroup, version: string): string {
    if (version === '$Latest') return String(group.template.versions.length);
    if (version === '$Default') return String(group.template.defaultVersion);
    return version;
  }

  private routable(group: EmulatedGroup): EmulatedInstance[] {
    return group.instances.filter((i) => i.lifecycle === 'InService' && i.passing && i.url);
  }

  private noteCapacity(group: EmulatedGroup): void {
    const inService = this.routable(group).length;
    const last = group.history[group.history.length - 1];
    if (last?.inService !== inService) group.history.push({ at: Date.now(), inService });
  }

  private async launch(group: EmulatedGroup, version: string, refresh?: EmulatedRefresh): Promise<EmulatedInstance> {
    const instance: EmulatedInstance = {
      id: `i-${this.hex(17)}`,
      lifecycle: 'Pending',
      health: 'Healthy',
      version,
      passing: false,
      protectedFromScaleIn: false,
      launchedAt: Date.now(),
      failures: 0,
    };
    group.instances.push(instance);
    refresh?.launched.add(instance.id);
    const image = group.template.versions[Number(version) - 1];
    await delay(this.timing.bootMs);
    try {
      if (!image) throw new Error(`launch template version ${version} does not exist`);
      const digest = await this.launcher.resolve(image.repository, image.reference);
      if (!digest) throw new Error(`${image.repository}:${image.reference} is not in the registry`);
      instance.digest = digest;
      instance.process = await this.launcher.start(image.repository, digest, {
        env: { ...group.env, ...image.env },
      });
      instance.url = instance.process.url;
    } catch (error) {
      // A failed boot (image pull error) is an instance that never passes its health checks.
      instance.probeFailure = { reason: 'Target.FailedHealthChecks', description: (error as Error).message };
    }
    if (instance.lifecycle === 'Pending') instance.lifecycle = 'InService';
    this.startMonitor(group, instance);
    return instance;
  }

  private startMonitor(group: EmulatedGroup, instance: EmulatedInstance): void {
    const probe = async () => {
      if (instance.lifecycle === 'Terminated' || instance.lifecycle === 'Terminating') return;
      if (instance.url) {
        try {
          const res = await fetch(`${instance.url}/health`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          if (res.status === 200) {
            instance.passing = true;
            instance.failures = 0;
            instance.probeFailure = undefined;
          } else {
            instance.passing = false;
            instance.failures++;
            instance.probeFailure = {
              reason: 'Target.ResponseCodeMismatch',
              description: `Health checks failed with these codes: [${res.status}]`,
            };
          }
        } catch {
          instance.passing = false;
          instance.failures++;
          instance.probeFailure = { reason: 'Target.Timeout', description: 'Request timed out' };
        }
      } else {
        instance.failures++;
      }
      // With ELB health checks, past the grace period, two failed probes in a row make the instance Unhealthy (EC2
      // Auto Scaling then replaces it). With EC2 checks the probes only decide routing and target health.
      if (
        group.healthCheckType === 'ELB' &&
        !instance.passing &&
        instance.failures >= 2 &&
        Date.now() - instance.launchedAt > this.timing.graceMs
      ) {
        instance.health = 'Unhealthy';
      }
      this.noteCapacity(group);
      const state = instance.lifecycle as Lifecycle;
      if (state !== 'Terminated' && state !== 'Terminating' && !this.stopped) {
        instance.monitor = setTimeout(probe, this.timing.healthCheckMs);
      }
    };
    void probe();
  }

  private async terminate(group: EmulatedGroup, instance: EmulatedInstance): Promise<void> {
    if (instance.lifecycle === 'Terminated') return;
    instance.lifecycle = 'Terminating';
    instance.passing = false;
    if (instance.monitor) clearTimeout(instance.monitor);
    this.noteCapacity(group);
    await instance.process?.stop().catch(() => undefined);
    instance.lifecycle = 'Terminated';
  }

  /**
   * What a refresh waits for before counting a replacement: with EC2 checks, only that it runs (InService), since
   * EC2 status checks know nothing of the application; with ELB checks, that it passes the target group's health
   * check (true) or is marked Unhealthy (false).
   */
  private async untilHealthy(group: EmulatedGroup, instance: EmulatedInstance): Promise<boolean> {
    if (group.healthCheckType === 'ELB') return this.untilPassing(instance);
    for (;;) {
      if (instance.lifecycle === 'InService') return true;
      if (instance.lifecycle === 'Terminated') return false;
      await delay(Math.min(50, this.timing.healthCheckMs));
    }
  }

  /** Waits until the instance passes /health (true) or is marked Unhealthy (false). */
  private async untilPassing(instance: EmulatedInstance): Promise<boolean> {
    for (;;) {
      if (instance.passing) return true;
      if (instance.health === 'Unhealthy' || instance.lifecycle === 'Terminated') return false;
      await delay(Math.min(50, this.timing.healthCheckMs));
    }
  }

  // ---- the refresh ------------------------------------------------------------------------------------------

  private active(group: EmulatedGroup): EmulatedRefresh | undefined {
    return group.refreshes.find((r) => ACTIVE.includes(r.Status));
  }

  /** Raises the Stop a cancel, a rollback request or an alarm asks for. */
  private check(refresh: EmulatedRefresh, rollingBack: boolean): void {
    if (refresh.cancelRequested) throw new Stop('cancel', 'cancelled');
    if (rollingBack) return;
    if (refresh.rollbackRequested) throw new Stop('rollback', refresh.rollbackRequested);
    const alarm = refresh.Preferences.AlarmSpecification?.Alarms.find((a) => this.alarmsInAlarm.has(a));
    if (alarm) throw new Stop('unhealthy', `The alarm ${alarm} is in ALARM state.`);
  }

  /** Sleeps `ms`, looking at cancel / rollback / alarms every 20 ms. */
  private async pause(refresh: EmulatedRefresh, ms: number, rollingBack = false): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      this.check(refresh, rollingBack);
      const left = end - Date.now();
      if (left <= 0) return;
      await delay(Math.min(20, left));
    }
  }

  private run(group: EmulatedGroup, refresh: EmulatedRefresh): void {
    const task = this.drive(group, refresh).finally(() => this.running.delete(task));
    this.running.add(task);
  }

  private async drive(group: EmulatedGroup, refresh: EmulatedRefresh): Promise<void> {
    const prefs = refresh.Preferences;
    try {
      await this.pause(refresh, this.timing.pendingMs);
      refresh.Status = 'InProgress';
      const target = this.resolveVersion(group, refresh.DesiredConfiguration?.LaunchTemplate.Version ?? group.version);
      await this.waitForBlockers(group, refresh);
      const replace = this.toReplace(group, refresh, target);
      refresh.InstancesToUpdate = replace.length;
      await this.replaceAll(group, refresh, replace, target, false);
      if (prefs.BakeTime) {
        refresh.Status = 'Baking';
        refresh.StatusReason = 'Waiting for bake time to pass.';
        const end = Date.now() + prefs.BakeTime * this.timing.secondMs;
        while (Date.now() < end) {
          await this.pause(refresh, Math.min(50, end - Date.now()));
          const sick = group.instances.find((i) => i.lifecycle === 'InService' && i.health === 'Unhealthy');
          if (sick) throw new Stop('unhealthy', `Instance ${sick.id} became unhealthy while baking.`);
        }
      }
      if (refresh.DesiredConfiguration) group.version = refresh.DesiredConfiguration.LaunchTemplate.Version;
      this.finish(refresh, 'Successful', undefined);
      refresh.PercentageComplete = 100;
    } catch (error) {
      if (!(error instanceof Stop)) {
        this.finish(refresh, 'Failed', `Emulator error: ${(error as Error).message}`);
        return;
      }
      if (error.kind === 'cancel') {
        this.finish(refresh, 'Cancelled', 'Cancelled due to user request.');
      } else if (error.kind === 'rollback' || (prefs.AutoRollback && refresh.DesiredConfiguration)) {
        await this.rollback(group, refresh, error.kind === 'rollback' ? error.message : `${error.message}`);
      } else {
        this.finish(refresh, 'Failed', error.message);
      }
    }
  }

  private finish(refresh: EmulatedRefresh, status: RefreshStatus, reason: string | undefined): void {
    refresh.Status = status;
    refresh.StatusReason = reason;
    refresh.EndTime = new Date();
  }

  /** ScaleInProtectedInstances / StandbyInstances = Wait: wait for them to go, then fail after waitMs. */
  private async waitForBlockers(group: EmulatedGroup, refresh: EmulatedRefresh): Promise<void> {
    const prefs = refresh.Preferences;
    const blocking = () =>
      group.instances.filter(
        (i) =>
          (prefs.ScaleInProtectedInstances === 'Wait' && i.protectedFromScaleIn && i.lifecycle === 'InService') ||
          (prefs.StandbyInstances === 'Wait' && i.lifecycle === 'Standby'),
      );
    const end = Date.now() + (this.timing.waitMs ?? 3600 * this.timing.secondMs);
    while (blocking().length > 0) {
      const ids = blocking().map((i) => i.id);
      refresh.StatusReason = `Waiting for instances to be unprotected or leave Standby: ${ids.join(', ')}.`;
      if (Date.now() >= end) {
        throw new Stop(
          'unhealthy',
          `Instance refresh failed: instances ${ids.join(', ')} stayed protected from scale in or in Standby.`,
        );
      }
      await this.pause(refresh, 50);
    }
    refresh.StatusReason = undefined;
  }

  private toReplace(group: EmulatedGroup, refresh: EmulatedRefresh, target: string): EmulatedInstance[] {
    const prefs = refresh.Preferences;
    const candidates = group.instances.filter((i) => {
      if (i.lifecycle === 'Standby') return prefs.StandbyInstances === 'Terminate';
      if (i.lifecycle !== 'InService') return false;
      return !(i.protectedFromScaleIn && prefs.ScaleInProtectedInstances === 'Ignore');
    });
    if (!prefs.SkipMatching) return candidates;
    // As in AWS, "matching" is the launch template version only: EC2 Auto Scaling cannot know which image the user
    // data pulls, so an instance booted from an older digest of the same boot tag counts as matching.
    return candidates.filter((i) => !(i.version === target && i.health === 'Healthy'));
  }

  /**
   * Replaces instances batch by batch. MaxHealthyPercentage > 100 launches a batch before terminating the old
   * instances; otherwise at most (100 - MinHealthyPercentage)% are terminated first, and always at least one.
   */
  private async replaceAll(
    group: EmulatedGroup,
    refresh: EmulatedRefresh,
    replace: EmulatedInstance[],
    version: string,
    rollingBack: boolean,
  ): Promise<void> {
    const prefs = refresh.Preferences;
    const capacity = Math.max(group.desired, 1);
    const launchFirst = prefs.MaxHealthyPercentage > 100;
    const batch = launchFirst
      ? Math.max(1, Math.floor((capacity * (prefs.MaxHealthyPercentage - 100)) / 100))
      : Math.max(1, capacity - Math.ceil((capacity * prefs.MinHealthyPercentage) / 100));
    const total = replace.length;
    const checkpoints = rollingBack ? [] : [...(prefs.CheckpointPercentages ?? [])];
    // A list ending below 100 (e.g. [20, 50]) replaces only that share of the group, then ends after its delay.
    const last = checkpoints[checkpoints.length - 1] ?? 100;
    const remaining = [...replace];
    // AWS's default warmup: the group's DefaultInstanceWarmup, else its HealthCheckGracePeriod.
    // The grace period is kept in milliseconds of the emulator's clock (timing.graceMs), the others in scaled seconds.
    const warmupSeconds = prefs.InstanceWarmup ?? group.defaultInstanceWarmup;
    const warmupMs = warmupSeconds !== undefined ? warmupSeconds * this.timing.secondMs : this.timing.graceMs;
    let done = 0;
    const progress = () => {
      refresh.PercentageComplete = total === 0 ? 100 : Math.floor((done / total) * 100);
      refresh.InstancesToUpdate = total - done;
    };
    progress();
    while (remaining.length > 0) {
      this.check(refresh, rollingBack);
      // Paced so as not to overshoot the next checkpoint: "sometimes replaces fewer, never more".
      const next = checkpoints[0];
      const upToCheckpoint = next === undefined ? batch : Math.ceil((total * next) / 100) - done;
      const old = remaining.splice(0, Math.max(1, Math.min(batch, upToCheckpoint)));
      refresh.StatusReason = launchFirst
        ? `Launching ${old.length} new instance(s) before terminating old ones.`
        : `Waiting for ${old.length} replacement instance(s) to pass health checks.`;
      if (!launchFirst) await Promise.all(old.map((i) => this.terminate(group, i)));
      await Promise.all(old.map(() => this.launchHealthy(group, refresh, version, rollingBack)));
      if (launchFirst) await Promise.all(old.map((i) => this.terminate(group, i)));
      if (warmupMs > 0) {
        refresh.StatusReason = 'Waiting for instances to warm up before continuing.';
        await this.pause(refresh, warmupMs, rollingBack);
      }
      done += old.length;
      progress();
      const reached = checkpoints.filter((c) => c <= refresh.PercentageComplete && c < 100);
      if (reached.length > 0) {
        checkpoints.splice(0, reached.length);
        refresh.StatusReason = `Waiting for checkpoint delay at ${reached[reached.length - 1]}% complete.`;
        // AWS's default CheckpointDelay when only CheckpointPercentages is given: one hour.
        await this.pause(refresh, (prefs.CheckpointDelay ?? 3600) * this.timing.secondMs, rollingBack);
      }
      refresh.StatusReason = undefined;
      if (last < 100 && refresh.PercentageComplete >= last) {
        refresh.InstancesToUpdate = 0;
        return;
      }
    }
  }

  /**
   * Launches one replacement and waits for it to be healthy. As AWS does, an Unhealthy replacement is terminated
   * and replaced; only `replacementAttempts` unhealthy ones in a row fail the refresh.
   */
  private async launchHealthy(
    group: EmulatedGroup,
    refresh: EmulatedRefresh,
    version: string,
    rollingBack: boolean,
  ): Promise<EmulatedInstance> {
    const attempts = Math.max(1, this.timing.replacementAttempts ?? 3);
    for (let attempt = 1; ; attempt++) {
      this.check(refresh, rollingBack);
      const instance = await this.launch(group, version, refresh);
      if (await this.untilHealthy(group, instance)) return instance;
      const why = instance.probeFailure?.description ?? 'it failed its health checks';
      if (attempt >= attempts) {
        throw new Stop(
          'unhealthy',
          `${rollingBack ? 'Rollback' : 'Instance refresh'} failed: replacement instance ${instance.id} is unhealthy ` +
            `(${why}), after ${attempt} replacement(s) in a row turned unhealthy.`,
        );
      }
      refresh.StatusReason = `Replacing unhealthy instance ${instance.id} (${why}).`;
      await this.terminate(group, instance);
    }
  }

  private async rollback(group: EmulatedGroup, refresh: EmulatedRefresh, reason: string): Promise<void> {
    refresh.Status = 'RollbackInProgress';
    refresh.StatusReason = reason;
    refresh.RollbackDetails = {
      RollbackReason: reason,
      RollbackStartTime: new Date(),
      PercentageCompleteOnRollback: refresh.PercentageComplete,
      InstancesToUpdateOnRollback: refresh.launched.size,
    };
    const previous = this.resolveVersion(group, refresh.previousVersion);
    const replace = group.instances.filter(
      (i) => (i.lifecycle === 'InService' || i.lifecycle === 'Pending') && refresh.launched.has(i.id),
    );
    try {
      await this.replaceAll(group, refresh, replace, previous, true);
      this.finish(refresh, 'RollbackSuccessful', reason);
      refresh.PercentageComplete = 100;
    } catch (error) {
      if (error instanceof Stop && error.kind === 'cancel') this.finish(refresh, 'Cancelled', 'Rollback cancelled.');
      else this.finish(refresh, 'RollbackFailed', (error as Error).message);
    }
  }

  // ---- operations ---------------------------------------------------------------------------------------------

  private groupOrFault(p: Record<string, unknown>): EmulatedGroup {
    const name = p.AutoScalingGroupName;
    if (typeof name !== 'string' || name === '') {
      throw new AwsFault('ValidationError', "1 validation error detected: Value null at 'autoScalingGroupName'");
    }
    const group = this.groups.get(name);
    if (!group) throw new AwsFault('ValidationError', `AutoScalingGroup name not found - ${name}`);
    return group;
  }

  private groupView(group: EmulatedGroup) {
    const template = (version: string) => ({
      LaunchTemplateId: group.template.id,
      LaunchTemplateName: group.template.name,
      Version: version,
    });
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      LaunchTemplate: template(group.version),
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desired,
      DefaultCooldown: 300,
      ...(group.defaultInstanceWarmup !== undefined ? { DefaultInstanceWarmup: group.defaultInstanceWarmup } : {}),
      AvailabilityZones: [`${REGION}a`],
      LoadBalancerNames: [],
      TargetGroupARNs: group.targetGroupArns,
      HealthCheckType: group.healthCheckType,
      Tags: tagViews(group),
      HealthCheckGracePeriod: Math.round(this.timing.graceMs / 1000),
      Instances: group.instances
        .filter((i) => i.lifecycle !== 'Terminated')
        .map((i) => ({
          InstanceId: i.id,
          InstanceType: 't3.micro',
          AvailabilityZone: `${REGION}a`,
          LifecycleState: i.lifecycle,
          HealthStatus: i.health,
          LaunchTemplate: template(i.version),
          ProtectedFromScaleIn: i.protectedFromScaleIn,
        })),
      CreatedTime: new Date(),
      ServiceLinkedRoleARN: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    };
  }

  /**
   * MinSize, MaxSize and DesiredCapacity (the rest of UpdateAutoScalingGroup is accepted and ignored): a new desired
   * capacity launches or terminates instances at once, as a scaling activity would.
   */
  private updateGroup(p: Record<string, unknown>) {
    const group = this.groupOrFault(p);
    const min = int(p.MinSize, 'minSize', 0, 1_000_000) ?? group.minSize;
    const max = int(p.MaxSize, 'maxSize', 0, 1_000_000) ?? group.maxSize;
    if (min > max)
      throw new AwsFault('ValidationError', `Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
    // Without a desired capacity, AWS moves the current one into the new [min, max].
    const desired =
      int(p.DesiredCapacity, 'desiredCapacity', 0, 1_000_000) ?? Math.min(max, Math.max(min, group.desired));
    if (desired < min || desired > max) {
      throw new AwsFault(
        'ValidationError',
        `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
      );
    }
    group.minSize = min;
    group.maxSize = max;
    if (desired !== group.desired) {
      group.desired = desired;
      const work: Promise<void> = this.scaleTo(group).finally(() => this.running.delete(work));
      this.running.add(work);
    }
    return NO_RESULT;
  }

  /** Launches or terminates instances until the live ones match the desired capacity. */
  private async scaleTo(group: EmulatedGroup): Promise<void> {
    const live = group.instances.filter((i) => i.lifecycle !== 'Terminated' && i.lifecycle !== 'Terminating');
    const extra = live.slice(group.desired);
    const missing = Math.max(0, group.desired - live.length);
    await Promise.all([
      ...extra.map((i) => this.terminate(group, i)),
      ...Array.from({ length: missing }, () => this.launch(group, this.resolveVersion(group, group.version))),
    ]);
  }

  private createOrUpdateTags(p: Record<string, unknown>) {
    const byGroup = this.tagsByGroup(p, true);
    for (const [group, tags] of byGroup) {
      const keys = new Set([...group.tags.keys(), ...tags.map((t) => t.Key)]);
      if (keys.size > MAX_TAGS_PER_RESOURCE) {
        throw new AwsFault(
          'LimitExceeded',
          `The number of tags for ${group.name} would exceed the limit of ${MAX_TAGS_PER_RESOURCE}.`,
        );
      }
    }
    for (const [group, tags] of byGroup) {
      for (const tag of tags) {
        group.tags.set(tag.Key, { value: tag.Value ?? '', propagateAtLaunch: tag.PropagateAtLaunch === 'true' });
      }
    }
    return NO_RESULT;
  }

  private deleteTags(p: Record<string, unknown>) {
    for (const [group, tags] of this.tagsByGroup(p, false)) for (const tag of tags) group.tags.delete(tag.Key);
    return NO_RESULT;
  }

  /** The tags of a CreateOrUpdateTags / DeleteTags request by group, every one checked before any is applied. */
  private tagsByGroup(p: Record<string, unknown>, withValues: boolean) {
    type GivenTag = {
      ResourceId?: string;
      ResourceType?: string;
      Key?: string;
      Value?: string;
      PropagateAtLaunch?: string;
    };
    const tags = p.Tags as GivenTag[] | undefined;
    if (!Array.isArray(tags) || tags.length === 0) {
      throw new AwsFault(
        'ValidationError',
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
      );
    }
    const byGroup = new Map<EmulatedGroup, (GivenTag & { Key: string })[]>();
    for (const tag of tags) {
      if (tag.ResourceType !== 'auto-scaling-group')
        throw new AwsFault(
          'ValidationError',
          `Invalid resource type: ${tag.ResourceType ?? 'null'}. Expected auto-scaling-group.`,
        );
      const group = this.groups.get(tag.ResourceId ?? '');
      if (!group)
        throw new AwsFault('ValidationError', `AutoScalingGroup name not found - ${tag.ResourceId ?? 'null'}`);
      const key = tag.Key ?? '';
      if (key.length < 1 || key.length > 128)
        throw new AwsFault('ValidationError', `Tag key must be 1 to 128 characters long: ${JSON.stringify(key)}`);
      if (key.toLowerCase().startsWith('aws:'))
        throw new AwsFault('ValidationError', `Tag keys starting with aws: are reserved for AWS use: ${key}`);
      if (withValues && (tag.Value ?? '').length > 256)
        throw new AwsFault('ValidationError', `Tag value of ${key} must be at most 256 characters long`);
      byGroup.set(group, [...(byGroup.get(group) ?? []), { ...tag, Key: key }]);
    }
    return byGroup;
  }

  /** DescribeTags with the auto-scaling-group, key, value and propagate-at-launch filters. */
  private describeTags(p: Record<string, unknown>) {
    const filters = (p.Filters as { Name?: string; Values?: string[] }[] | undefined) ?? [];
    const allowed = ['auto-scaling-group', 'key', 'value', 'propagate-at-launch'];
    for (const f of filters) {
      if (!allowed.includes(f.Name ?? ''))
        throw new AwsFault(
          'ValidationError',
          `Filter type ${f.Name ?? 'null'} is not correct. Allowed Filter types are: ${allowed.join(' ')}`,
        );
    }
    const matches = (name: string, value: string) =>
      filters.filter((f) => f.Name === name).every((f) => (f.Values ?? []).includes(value));
    const all = [...this.groups.values()]
      .flatMap((g) => tagViews(g))
      .filter(
        (t) =>
          matches('auto-scaling-group', t.ResourceId) &&
          matches('key', t.Key) &&
          matches('value', t.Value) &&
          matches('propagate-at-launch', String(t.PropagateAtLaunch)),
      );
    return page(all, p, 'Tags');
  }

  private describeGroups(p: Record<string, unknown>) {
    const names = p.AutoScalingGroupNames as string[] | undefined;
    const groups = [...this.groups.values()].filter((g) => !names || names.includes(g.name));
    return page(
      groups.map((g) => this.groupView(g)),
      p,
      'AutoScalingGroups',
    );
  }

  private startRefresh(p: Record<string, unknown>) {
    const group = this.groupOrFault(p);
    const strategy = (p.Strategy as string | undefined) ?? 'Rolling';
    if (strategy !== 'Rolling' && strategy !== 'ReplaceRootVolume') {
      throw new AwsFault('ValidationError', `Invalid strategy ${strategy}`);
    }
    const prefs = parsePreferences((p.Preferences as Record<string, unknown> | undefined) ?? {});
    const desired = p.DesiredConfiguration as { LaunchTemplate?: Record<string, string> } | undefined;
    let desiredConfiguration: EmulatedRefresh['DesiredConfiguration'];
    if (desired?.LaunchTemplate) {
      const lt = desired.LaunchTemplate;
      if (lt.LaunchTemplateId !== group.template.id && lt.LaunchTemplateName !== group.template.name) {
        throw new AwsFault(
          'ValidationError',
          `The launch template ${lt.LaunchTemplateId ?? lt.LaunchTemplateName} does not exist.`,
        );
      }
      const version = lt.Version ?? '$Default';
      const number = this.resolveVersion(group, version);
      if (!/^\d+$/.test(number) || Number(number) < 1 || Number(number) > group.template.versions.length) {
        throw new AwsFault('ValidationError', `The specified launch template version ${version} does not exist.`);
      }
      desiredConfiguration = {
        LaunchTemplate: {
          LaunchTemplateId: group.template.id,
          LaunchTemplateName: group.template.name,
          Version: version,
        },
      };
    }
    if (prefs.AutoRollback && !desiredConfiguration) {
      throw new AwsFault('ValidationError', 'AutoRollback requires a DesiredConfiguration.');
    }
    if (prefs.AutoRollback && desiredConfiguration && isFloating(desiredConfiguration.LaunchTemplate.Version)) {
      throw new AwsFault(
        'ValidationError',
        'AutoRollback is not supported when the desired configuration uses $Latest or $Default.',
      );
    }
    const active = this.active(group);
    if (active) {
      throw new AwsFault(
        'InstanceRefreshInProgress',
        `An Instance Refresh is already in progress and blocks the execution of this Instance Refresh (${active.InstanceRefreshId}).`,
      );
    }
    const refresh: EmulatedRefresh = {
      InstanceRefreshId: randomUUID(),
      AutoScalingGroupName: group.name,
      Status: 'Pending',
      StartTime: new Date(),
      PercentageComplete: 0,
      InstancesToUpdate: group.instances.filter((i) => i.lifecycle === 'InService').length,
      Preferences: prefs,
      DesiredConfiguration: desiredConfiguration,
      previousVersion: group.version,
      cancelRequested: false,
      launched: new Set(),
    };
    group.refreshes.unshift(refresh);
    this.run(group, refresh);
    return { InstanceRefreshId: refresh.InstanceRefreshId };
  }

  private refreshView(refresh: EmulatedRefresh) {
    const { previousVersion, cancelRequested, rollbackRequested, launched, ...wire } = refresh;
    return {
      ...wire,
      ProgressDetails: {
        LivePoolProgress: {
          PercentageComplete: refresh.PercentageComplete,
          InstancesToUpdate: refresh.InstancesToUpdate,
        },
      },
    };
  }

  private describeRefreshes(p: Record<string, unknown>) {
    const group = this.groupOrFault(p);
    const ids = p.InstanceRefreshIds as string[] | undefined;
    const refreshes = group.refreshes.filter((r) => !ids || ids.includes(r.InstanceRefreshId));
    return page(
      refreshes.map((r) => this.refreshView(r)),
      p,
      'InstanceRefreshes',
    );
  }

  private cancelRefresh(p: Record<string, unknown>) {
    const group = this.groupOrFault(p);
    const active = this.active(group);
    if (!active || active.Status === 'Cancelling') {
      throw new AwsFault(
        'ActiveInstanceRefreshNotFound',
        `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`,
      );
    }
    active.cancelRequested = true;
    active.Status = 'Cancelling';
    return { InstanceRefreshId: active.InstanceRefreshId };
  }

  private rollbackRefresh(p: Record<string, unknown>) {
    const group = this.groupOrFault(p);
    const active = this.active(group);
    if (!active || active.Status === 'Cancelling') {
      throw new AwsFault(
        'ActiveInstanceRefreshNotFound',
        `No in progress or pending Instance Refresh found for Auto Scaling group ${group.name}`,
      );
    }
    if (active.Status === 'RollbackInProgress') {
      throw new AwsFault('IrreversibleInstanceRefresh', 'The instance refresh is already rolling back.');
    }
    if (!active.DesiredConfiguration) {
      throw new AwsFault(
        'IrreversibleInstanceRefresh',
        'The instance refresh cannot be rolled back because it was started without a desired configuration.',
      );
    }
    if (isFloating(active.DesiredConfiguration.LaunchTemplate.Version) || isFloating(active.previousVersion)) {
      throw new AwsFault(
        'IrreversibleInstanceRefresh',
        'The instance refresh cannot be rolled back because the launch template version is $Latest or $Default.',
      );
    }
    active.rollbackRequested = 'Rollback requested by user.';
    return { InstanceRefreshId: active.InstanceRefreshId };
  }
}

function isFloating(version: string): boolean {
  return version === '$Latest' || version === '$Default';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function int(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AwsFault('ValidationError', `Value ${String(value)} at '${name}' must be between ${min} and ${max}.`);
  }
  return n;
}

function bool(value: unknown): boolean {
  return value === 'true' || value === true;
}

function parsePreferences(raw: Record<string, unknown>): Preferences {
  const min = int(raw.MinHealthyPercentage, 'minHealthyPercentage', 0, 100) ?? 90;
  const max = int(raw.MaxHealthyPercentage, 'maxHealthyPercentage', 100, 200) ?? 100;
  if (max - min > 100) {
    throw new AwsFault(
      'ValidationError',
      'The difference between MaxHealthyPercentage and MinHealthyPercentage must not exceed 100.',
    );
  }
  const checkpoints = raw.CheckpointPercentages as string[] | undefined;
  const percentages = checkpoints?.map((c) => int(c, 'checkpointPercentages', 1, 100)!);
  // Ascending and unique; the last need not be 100 (a partial refresh), as the model's documentation says.
  if (percentages && !percentages.every((c, i) => i === 0 || c > percentages[i - 1]!)) {
    throw new AwsFault('ValidationError', 'CheckpointPercentages must be unique and in ascending order.');
  }
  if (raw.CheckpointDelay !== undefined && !percentages) {
    throw new AwsFault('ValidationError', 'CheckpointDelay can be specified only together with CheckpointPercentages.');
  }
  const alarms = (raw.AlarmSpecification as { Alarms?: string[] } | undefined)?.Alarms;
  if (alarms && alarms.length > 10) throw new AwsFault('ValidationError', 'At most 10 alarms can be specified.');
  const choice = <T extends string>(value: unknown, allowed: readonly T[], fallback: T, name: string): T => {
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) throw new AwsFault('ValidationError', `Invalid value ${value} for ${name}.`);
    return value as T;
  };
  return {
    MinHealthyPercentage: min,
    MaxHealthyPercentage: max,
    InstanceWarmup: int(raw.InstanceWarmup, 'instanceWarmup', 0, 2_147_483_647),
    CheckpointPercentages: percentages,
    // Reported back as AWS fills it in: one hour when only CheckpointPercentages was given.
    CheckpointDelay: int(raw.CheckpointDelay, 'checkpointDelay', 0, 172_800) ?? (percentages ? 3600 : undefined),
    SkipMatching: bool(raw.SkipMatching),
    AutoRollback: bool(raw.AutoRollback),
    ScaleInProtectedInstances: choice(
      raw.ScaleInProtectedInstances,
      ['Refresh', 'Ignore', 'Wait'] as const,
      // The API's default (the console's is Ignore).
      'Wait',
      'ScaleInProtectedInstances',
    ),
    StandbyInstances: choice(
      raw.StandbyInstances,
      ['Terminate', 'Ignore', 'Wait'] as const,
      'Wait',
      'StandbyInstances',
    ),
    AlarmSpecification: alarms ? { Alarms: alarms } : undefined,
    BakeTime: int(raw.BakeTime, 'bakeTime', 0, 172_800),
  };
}

/** MaxRecords / NextToken paging as the Auto Scaling API does it: 50 by default, at most 100. */
function tagViews(group: EmulatedGroup) {
  return [...group.tags].map(([Key, tag]) => ({
    ResourceId: group.name,
    ResourceType: 'auto-scaling-group',
    Key,
    Value: tag.value,
    PropagateAtLaunch: tag.propagateAtLaunch,
  }));
}

function page<T>(items: T[], p: Record<string, unknown>, key: string) {
  if (p.MaxRecords !== undefined && Number(p.MaxRecords) > 100) {
    throw new AwsFault(
      'ValidationError',
      `1 validation error detected: Value '${String(p.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: ` +
        'Member must have value less than or equal to 100',
    );
  }
  const max = int(p.MaxRecords, 'maxRecords', 1, 100) ?? 50;
  const start = p.NextToken === undefined ? 0 : Number(Buffer.from(String(p.NextToken), 'base64url').toString());
  if (!Number.isInteger(start) || start < 0) throw new AwsFault('InvalidNextToken', 'The NextToken is invalid.');
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { [key]: slice, ...(next ? { NextToken: next } : {}) };
}
