import type { ECSExpressGatewayService, ExpressGatewayServiceConfiguration } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { findImage } from '../../aws/ecr';
import { describeExpressService, describeServiceDeployment, updateExpressContainer } from '../../aws/ecs';
import { elbv2Client } from '../../aws/elbv2';
import { DeployError } from '../../core/errors';
import { parseImageReference } from '../../core/image-reference';
import { type DeployRecord, endPhase, inPhase, recordFailure, recordOperation, startPhase } from '../../core/record';
import { commitFromTags } from '../../core/tags';
import type {
  CurrentState,
  ImageByDigest,
  RollbackRequest,
  Target,
  TargetContext,
  TargetDeployResult,
} from '../target';
import { makeWay } from './busy';
import { deploymentToStop, stopAbandoned } from './cancel';
import { ACTIVE_STATUSES, DeploymentTracker, type EcsDeps } from './deployment';
import { undoInProgress } from './rollback';
import { followRollout, OPERATION_KIND } from './rollout';
import { ecsScheduler } from './schedule';
import { clusterName } from './service-deploy';
import type { EcsExpressSettings } from './settings';
import { type EcsStarted, STATE } from './state';
import { CLIENTS, ecsDeps } from './target';
import { verifyRollback } from './verify';

export { settleAbandoned } from './target';

const RESOURCE = 'ECS Express service';

/** The configuration that serves now: the newest active one (a canary in progress has two). */
function activeConfiguration(service: ECSExpressGatewayService): ExpressGatewayServiceConfiguration | undefined {
  const all = [...(service.activeConfigurations ?? [])];
  all.sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  return all[all.length - 1];
}

const loopback = /^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?(?:\/|$)/;

/** The service's own URL: its public ingress endpoint (AWS gives a host name, served over HTTPS). */
export function expressUrl(service: ECSExpressGatewayService): string | undefined {
  const paths = activeConfiguration(service)?.ingressPaths ?? [];
  const endpoint = (paths.find((p) => p.accessType === 'PUBLIC') ?? paths[0])?.endpoint;
  if (!endpoint) return undefined;
  if (/^https?:\/\//.test(endpoint)) return endpoint.replace(/\/$/, '');
  return `${loopback.test(endpoint) ? 'http' : 'https'}://${endpoint.replace(/\/$/, '')}`;
}

function digestOf(image: string | undefined): string | undefined {
  return image ? /@(sha256:[a-f0-9]{64})$/.exec(image)?.[1] : undefined;
}

interface ExpressRun {
  deps: EcsDeps;
  settings: EcsExpressSettings;
  save: (name: string, value: string) => void;
  tracker?: DeploymentTracker;
}

/** The Express service, with the ECS service behind it (where its deployments are followed). */
async function open(run: ExpressRun) {
  const service = await describeExpressService(run.deps.client, run.settings.serviceArn);
  const name = service.serviceName ?? run.settings.serviceArn.slice(run.settings.serviceArn.lastIndexOf('/') + 1);
  const cluster = clusterName(service.cluster, 'default');
  run.tracker ??= new DeploymentTracker(run.deps, cluster, name);
  return { service, name, cluster, label: `${RESOURCE} ${name}`, tracker: run.tracker };
}

function requireActive(service: ECSExpressGatewayService, label: string): void {
  const status = service.status?.statusCode;
  if (status && status !== 'ACTIVE') {
    throw new DeployError(
      `${label} is ${status}${service.status?.statusReason ? ` (${service.status.statusReason})` : ''}: only an ACTIVE ` +
        'Express service can be updated. Nothing was changed.',
    );
  }
}

/** UpdateExpressGatewayService with the primary container's image (and environment) changed, then followed. */
async function update(
  run: ExpressRun,
  image: string,
  record: DeployRecord,
  timeoutMs: number,
  started: EcsStarted,
  environment?: Record<string, string>,
) {
  const { service, label, tracker } = await open(run);
  const container = activeConfiguration(service)?.primaryContainer;
  if (!container) throw new DeployError(`${label} has no active configuration with a primary container.`);
  const kept = (container.environment ?? []).filter((pair) => !environment || !((pair.name ?? '') in environment));
  const env = environment
    ? [...kept, ...Object.entries(environment).map(([name, value]) => ({ name, value }))]
    : container.environment;
  started.since = new Date();
  const updated = await updateExpressContainer(run.deps.client, run.settings.serviceArn, {
    ...container,
    image,
    ...(env ? { environment: env } : {}),
  });
  const target = updated?.targetConfiguration;
  started.rollout = {
    taskDefinitionArn: target?.taskDefinitionArn ?? '',
    ...(target?.serviceRevisionArn ? { revisionArn: target.serviceRevisionArn } : {}),
  };
  run.deps.logger.info(`UpdateExpressGatewayService: ${label} deploys ${image}.`);
  return followRollout(tracker, {
    ours: started.rollout,
    since: started.since,
    timeoutMs,
    label,
    record,
    ...(run.deps.signal ? { signal: run.deps.signal } : {}),
    onFound: (arn) => {
      started.deploymentArn = arn;
      run.save(STATE.deploymentArn, arn);
    },
  });
}

/** An ECS Express Mode service: its primary container's image by digest, everything else as it is. */
export function createTarget(settings: EcsExpressSettings, context: TargetContext): Target {
  const deps = ecsDeps(context);
  const run: ExpressRun = { deps, settings, save: (name, value) => context.saveState?.(name, value) };
  run.save(STATE.region, context.region);
  let started: EcsStarted = {};
  const label = `${RESOURCE} ${settings.serviceArn}`;
  let elbv2: ElasticLoadBalancingV2Client | undefined;
  return {
    kind: 'ecs-express',
    operationKind: OPERATION_KIND,
    resource: RESOURCE,
    label,
    defaultHealthPath: '/health',
    identity: { 'express-service-arn': settings.serviceArn },
    current: (repository) => current(run, repository, context),
    deploy: async (image: ImageByDigest, record: DeployRecord, timeoutMs: number): Promise<TargetDeployResult> => {
      started = {};
      return deploy(run, image, record, timeoutMs, started);
    },
    rollback: async (request: RollbackRequest) => {
      const { record } = request;
      try {
        await inPhase(record, 'rollback', deps.clock, async () => {
          const { service, label: name, tracker } = await open(run);
          const ours = started.deploymentArn;
          const now = ours && !started.ended ? await describeServiceDeployment(deps.client, ours) : undefined;
          if (ours && now && ACTIVE_STATUSES.includes(now.status ?? 'PENDING')) {
            await undoInProgress({ deps, tracker }, name, request, ours, now.status ?? 'PENDING');
          } else {
            const end = await update(run, request.image.uri, record, request.timeoutMs, {});
            if (end.failure) throw end.failure;
          }
          if (request.verify) await verifyRollback(deps, record, request.verify, expressUrl(service), name);
        });
        record.outcome = 'rolled-back';
        return undefined;
      } catch (error) {
        const failure = error instanceof DeployError ? error : new DeployError(String((error as Error)?.message));
        recordFailure(record, 'rollback-failed', failure.message);
        return failure;
      }
    },
    settleCancelled: async (record) => {
      const arn = run.tracker ? await deploymentToStop(run.tracker, started) : undefined;
      const settled = await stopAbandoned(deps.client, {
        deploymentArn: arn,
        label,
        cancelOnAbort: settings.cancelOnAbort ?? true,
        startedUpdate: started.since !== undefined && !started.ended,
      });
      run.save(STATE.settled, 'true');
      // ECS rolls it back from here; the record names the deployment even when the cancel came before our first look.
      if (arn && settled.changed) recordOperation(record, OPERATION_KIND, arn, 'ROLLBACK_REQUESTED');
      return { runsNow: settled.runsNow };
    },
    // Express Mode has no pause of its own: the ECS service it runs on is scaled, as a plain service is.
    scheduler: ecsScheduler(
      deps,
      async () => {
        const { service, name, cluster, label: named } = await open(run);
        const url = expressUrl(service);
        return { cluster, service: name, label: named, ...(url ? { url } : {}) };
      },
      () => {
        elbv2 ??=
          (context.clients?.[CLIENTS.elbv2] as ElasticLoadBalancingV2Client | undefined) ??
          elbv2Client(context.region, context.env);
        return elbv2;
      },
    ),
    planDeploy: async () => {
      const { service, name } = await open(run);
      const running = activeConfiguration(service)?.primaryContainer?.image;
      return {
        ...(running ? { running } : {}),
        line: `UpdateExpressGatewayService ${name} (${expressUrl(service) ?? 'no URL yet'}) with the image by digest`,
      };
    },
  };
}

async function deploy(
  run: ExpressRun,
  image: ImageByDigest,
  record: DeployRecord,
  timeoutMs: number,
  started: EcsStarted,
): Promise<TargetDeployResult> {
  const { deps, settings } = run;
  const outputs: Record<string, string> = { status: 'NOT_STARTED' };
  const phase = startPhase(record, 'deploy', deps.clock);
  let serviceUrl: string | undefined;
  const result = (extra: Partial<TargetDeployResult>): TargetDeployResult => ({
    ...(started.previousImage
      ? {
          previous: {
            image: started.previousImage,
            ...(digestOf(started.previousImage) ? { digest: digestOf(started.previousImage) as string } : {}),
          },
        }
      : {}),
    ...(serviceUrl ? { serviceUrl } : {}),
    needsRollback: false,
    outputs,
    ...extra,
  });
  const failed = (error: unknown, extra: Partial<TargetDeployResult> = {}) => {
    const failure = error instanceof DeployError ? error : new DeployError(String((error as Error)?.message ?? error));
    endPhase(phase, 'failed', deps.clock, failure.message);
    if (!deps.signal?.aborted)
      recordFailure(record, record.outcome === 'in-progress' ? 'failed' : record.outcome, failure.message);
    return result({ failure, ...(deps.signal?.aborted ? { cancelled: true } : {}), ...extra });
  };
  try {
    const { service, label, cluster, tracker } = await open(run);
    serviceUrl = expressUrl(service);
    record.target = {
      kind: 'ecs-express',
      id: service.serviceArn ?? settings.serviceArn,
      resource: RESOURCE,
      cluster,
      ...(serviceUrl ? { url: serviceUrl } : {}),
    };
    requireActive(service, label);
    const waited = await makeWay(deps, tracker, { onBusy: settings.onBusy ?? 'wait', timeoutMs, label });
    const before = activeConfiguration(waited ? (await open(run)).service : service);
    const running = before?.primaryContainer?.image;
    if (before?.taskDefinitionArn) outputs['previous-task-definition-arn'] = before.taskDefinitionArn;
    if (running && running !== image.uri) {
      started.previousImage = running;
      const digest = digestOf(running);
      record.previous = {
        ...record.previous,
        image: running,
        ...(digest ? { digest } : {}),
        ...(before?.taskDefinitionArn ? { revision: before.taskDefinitionArn } : {}),
      };
    } else if (running === image.uri && record.previous?.image) {
      started.previousImage = record.previous.image;
    }
    run.save(STATE.service, settings.serviceArn);
    run.save(STATE.label, label);
    run.save(STATE.cancelOnAbort, String(settings.cancelOnAbort ?? true));
    const end = await update(run, image.uri, record, timeoutMs, started, settings.containerEnvironment);
    if (end.arn) outputs['service-deployment-arn'] = end.arn;
    // The update was accepted (it would have thrown): a deployment we did not see end is at least PENDING.
    outputs.status = end.state?.status ?? 'PENDING';
    if (end.cancelled) return failed(end.failure, { cancelled: true });
    // A deployment we gave up waiting for (timed out, unreadable) goes on: a rollback stops it with ECS's own.
    started.ended = end.state !== undefined;
    run.save(STATE.settled, 'true');
    if (end.failure) {
      record.outcome = end.outcome;
      return failed(end.failure, { needsRollback: end.needsRollback });
    }
    const after = activeConfiguration((await open(run)).service);
    if (after?.taskDefinitionArn) {
      outputs['task-definition-arn'] = after.taskDefinitionArn;
      record.target.revision = after.taskDefinitionArn;
    }
    endPhase(phase, 'succeeded', deps.clock, `${end.state?.status ?? 'SUCCESSFUL'}`);
    return result({});
  } catch (error) {
    return failed(error);
  }
}

async function current(run: ExpressRun, repository: string, context: TargetContext): Promise<CurrentState> {
  const { service, name, label } = await open(run);
  const imageText = activeConfiguration(service)?.primaryContainer?.image ?? '';
  let reference: ReturnType<typeof parseImageReference>;
  try {
    reference = parseImageReference('image', imageText);
  } catch {
    throw new DeployError(`${label} runs ${imageText || '(no image)'}, not an ECR image.`);
  }
  if (reference.repository !== repository) {
    throw new DeployError(
      `${label} runs ${imageText}, from the repository ${reference.repository}, but repository is ${repository}. ` +
        `Nothing was changed. Set repository to ${reference.repository} if that is where this environment's images live.`,
    );
  }
  const image = await findImage(context.ecr, repository, reference.digest ?? (reference.tag as string));
  const digest = reference.digest ?? image?.digest;
  const commit = image ? commitFromTags(image.tags) : undefined;
  const url = expressUrl(service);
  return {
    running: { reference: imageText, ...(digest ? { digest } : {}), ...(commit ? { commit } : {}) },
    id: service.serviceArn ?? run.settings.serviceArn,
    name,
    label,
    ...(url ? { url } : {}),
  };
}
