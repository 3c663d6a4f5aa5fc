import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  type StartInstanceRefreshCommandInput,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { awsErrorName, DeployError, withContext, wrapAwsError } from '../core/errors';
import { clientSettings, type RequestOptions } from './clients';

export function autoScalingClient(region: string, env: NodeJS.ProcessEnv = process.env): AutoScalingClient {
  return new AutoScalingClient(clientSettings(region, env));
}

export interface GroupInfo {
  name: string;
  /** Undefined for groups on a launch configuration or a mixed instances policy. */
  launchTemplate?: { id: string; name: string; version: string };
  targetGroupArns: string[];
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  /** The group's tags by key. */
  tags: Record<string, string>;
  instances: {
    id: string;
    lifecycleState: string;
    healthStatus: string;
    version?: string;
    protectedFromScaleIn?: boolean;
  }[];
  /** Seconds; what a refresh warms up for when InstanceWarmup is not given (else HealthCheckGracePeriod). */
  defaultInstanceWarmup?: number;
  /** EC2 (AWS's default: status checks only, blind to the application) or ELB (also the target groups' checks). */
  healthCheckType: string;
  /** HealthCheckGracePeriod in seconds (0 when the group was created by the API without one). */
  healthCheckGracePeriod: number;
}

export async function describeGroup(client: AutoScalingClient, name: string): Promise<GroupInfo> {
  const out = await withContext(`describe the Auto Scaling group ${name}`, () =>
    client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
  );
  const group = out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
  if (!group) {
    throw new DeployError(
      `The Auto Scaling group ${name} does not exist in this account and region. Check asg-name and region, and ` +
        'that the role may call autoscaling:DescribeAutoScalingGroups.',
    );
  }
  const lt = group.LaunchTemplate;
  return {
    name,
    ...(lt?.LaunchTemplateId
      ? {
          launchTemplate: {
            id: lt.LaunchTemplateId,
            name: lt.LaunchTemplateName ?? '',
            version: lt.Version ?? '$Default',
          },
        }
      : {}),
    targetGroupArns: group.TargetGroupARNs ?? [],
    desiredCapacity: group.DesiredCapacity ?? 0,
    minSize: group.MinSize ?? 0,
    maxSize: group.MaxSize ?? 0,
    tags: Object.fromEntries((group.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    healthCheckType: group.HealthCheckType ?? 'EC2',
    healthCheckGracePeriod: group.HealthCheckGracePeriod ?? 0,
    instances: (group.Instances ?? []).map((i) => ({
      id: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? '',
      healthStatus: i.HealthStatus ?? '',
      ...(i.LaunchTemplate?.Version ? { version: i.LaunchTemplate.Version } : {}),
      ...(i.ProtectedFromScaleIn ? { protectedFromScaleIn: true } : {}),
    })),
    ...(group.DefaultInstanceWarmup !== undefined ? { defaultInstanceWarmup: group.DefaultInstanceWarmup } : {}),
  };
}

export type RefreshStatus =
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

const activeStatuses = new Set<string>(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export function isActiveStatus(status: string | undefined): boolean {
  return status !== undefined && activeStatuses.has(status);
}

/** What the toolkit needs of one refresh. */
export interface RefreshView {
  id: string;
  status: string;
  statusReason?: string;
  percentageComplete?: number;
  instancesToUpdate?: number;
  startTime?: Date;
  endTime?: Date;
  hasDesiredConfiguration: boolean;
  rollback?: {
    reason?: string;
    startTime?: Date;
    percentageCompleteOnRollback?: number;
    instancesToUpdateOnRollback?: number;
  };
}

export function viewOf(refresh: InstanceRefresh): RefreshView {
  const r = refresh.RollbackDetails;
  const rollback: NonNullable<RefreshView['rollback']> = {};
  if (r?.RollbackReason) rollback.reason = r.RollbackReason;
  if (r?.RollbackStartTime) rollback.startTime = r.RollbackStartTime;
  if (r?.PercentageCompleteOnRollback !== undefined)
    rollback.percentageCompleteOnRollback = r.PercentageCompleteOnRollback;
  if (r?.InstancesToUpdateOnRollback !== undefined)
    rollback.instancesToUpdateOnRollback = r.InstancesToUpdateOnRollback;
  return {
    id: refresh.InstanceRefreshId ?? '',
    status: refresh.Status ?? 'Pending',
    ...(refresh.StatusReason ? { statusReason: refresh.StatusReason } : {}),
    ...(refresh.PercentageComplete !== undefined ? { percentageComplete: refresh.PercentageComplete } : {}),
    ...(refresh.InstancesToUpdate !== undefined ? { instancesToUpdate: refresh.InstancesToUpdate } : {}),
    ...(refresh.StartTime ? { startTime: refresh.StartTime } : {}),
    ...(refresh.EndTime ? { endTime: refresh.EndTime } : {}),
    hasDesiredConfiguration: Boolean(refresh.DesiredConfiguration?.LaunchTemplate),
    ...(r ? { rollback } : {}),
  };
}

/** Raised when the group already has an active refresh (InstanceRefreshInProgress). */
export class RefreshInProgressError extends DeployError {
  override readonly name = 'RefreshInProgressError';
}

export async function startRefresh(
  client: AutoScalingClient,
  input: StartInstanceRefreshCommandInput,
): Promise<string> {
  const group = input.AutoScalingGroupName;
  try {
    const out = await client.send(new StartInstanceRefreshCommand(input));
    if (!out.InstanceRefreshId)
      throw new DeployError(`StartInstanceRefresh for ${group} returned no InstanceRefreshId.`);
    return out.InstanceRefreshId;
  } catch (error) {
    if (awsErrorName(error) === 'InstanceRefreshInProgressFault') {
      throw new RefreshInProgressError(
        `Could not start the instance refresh of ${group}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw wrapAwsError(`start the instance refresh of ${group}`, error);
  }
}

export async function getRefresh(
  client: AutoScalingClient,
  group: string,
  id: string,
  options: RequestOptions = {},
): Promise<RefreshView> {
  // Not wrapped: the poller must see throttling and 5xx as they are, to widen its delay instead of failing.
  const out = await client.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, InstanceRefreshIds: [id] }),
    options,
  );
  const refresh = out.InstanceRefreshes?.find((r) => r.InstanceRefreshId === id);
  if (!refresh) throw new DeployError(`The instance refresh ${id} of ${group} was not found.`);
  return viewOf(refresh);
}

/**
 * The group's active refresh, if any. Only one refresh can be active at a time and a new one cannot start while it
 * is, so the active one is always the newest: one record is enough.
 */
export async function activeRefresh(client: AutoScalingClient, group: string): Promise<RefreshView | undefined> {
  const out = await withContext(`list the instance refreshes of ${group}`, () =>
    client.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, MaxRecords: 1 })),
  );
  const newest = out.InstanceRefreshes?.[0];
  return newest && isActiveStatus(newest.Status) ? viewOf(newest) : undefined;
}

/** Cancels the active refresh; undefined when there was none to cancel. */
export async function cancelRefresh(
  client: AutoScalingClient,
  group: string,
  options: RequestOptions = {},
): Promise<string | undefined> {
  try {
    const out = await client.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: group }), options);
    return out.InstanceRefreshId;
  } catch (error) {
    if (awsErrorName(error) === 'ActiveInstanceRefreshNotFoundFault') return undefined;
    throw wrapAwsError(`cancel the instance refresh of ${group}`, error);
  }
}

/** Raised when AWS refuses RollbackInstanceRefresh (no DesiredConfiguration, $Latest/$Default, or nothing active). */
export class RollbackRefusedError extends DeployError {
  override readonly name = 'RollbackRefusedError';
}

export async function rollbackRefresh(client: AutoScalingClient, group: string): Promise<string> {
  try {
    const out = await client.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: group }));
    return out.InstanceRefreshId ?? '';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'IrreversibleInstanceRefreshFault' || name === 'ActiveInstanceRefreshNotFoundFault') {
      throw new RollbackRefusedError(
        `AWS refused to roll back the instance refresh of ${group}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    throw wrapAwsError(`roll back the instance refresh of ${group}`, error);
  }
}

/** One progress line: "InProgress, 50% complete, 2 instances left: Waiting for instances to warm up." */
export function describeProgress(refresh: RefreshView): string {
  const parts = [refresh.status];
  if (refresh.percentageComplete !== undefined) parts.push(`${refresh.percentageComplete}% complete`);
  if (refresh.instancesToUpdate !== undefined) {
    parts.push(`${refresh.instancesToUpdate} instance${refresh.instancesToUpdate === 1 ? '' : 's'} left`);
  }
  const line = parts.join(', ');
  return refresh.statusReason ? `${line}: ${refresh.statusReason}` : line;
}

/** UpdateAutoScalingGroup with MinSize and DesiredCapacity only (MaxSize, the template and the rest stay). */
export async function resizeGroup(
  client: AutoScalingClient,
  name: string,
  size: { minSize: number; desiredCapacity: number },
): Promise<void> {
  await withContext(`set the Auto Scaling group ${name} to min ${size.minSize}, desired ${size.desiredCapacity}`, () =>
    client.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        MinSize: size.minSize,
        DesiredCapacity: size.desiredCapacity,
      }),
    ),
  );
}

/** CreateOrUpdateTags on the group; PropagateAtLaunch false: our bookkeeping is not the instances' business. */
export async function tagGroup(client: AutoScalingClient, name: string, tags: Record<string, string>): Promise<void> {
  await withContext(`tag the Auto Scaling group ${name}`, () =>
    client.send(
      new CreateOrUpdateTagsCommand({
        Tags: Object.entries(tags).map(([Key, Value]) => ({
          ResourceId: name,
          ResourceType: 'auto-scaling-group',
          Key,
          Value,
          PropagateAtLaunch: false,
        })),
      }),
    ),
  );
}

export async function untagGroup(client: AutoScalingClient, name: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await withContext(`remove the tags ${keys.join(', ')} from the Auto Scaling group ${name}`, () =>
    client.send(
      new DeleteTagsCommand({
        Tags: keys.map((Key) => ({ ResourceId: name, ResourceType: 'auto-scaling-group', Key })),
      }),
    ),
  );
}
