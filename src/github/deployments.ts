import { formatDuration } from '../core/poller';
import { type DeployRecord, type Outcome, parseRecord } from '../core/record';
import { recordBelongsTo, type Service } from '../core/service';
import type { GitHubClient, RepoRef } from './client';

/** The states GitHub accepts for a deployment status. */
export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';

/**
 * How GitHub should treat an environment, guessed from its name: `production_environment` lights up the
 * "production" badge and protections; `transient_environment` marks per-PR previews GitHub may clean up.
 */
export function environmentFlags(environment: string): { production: boolean; transient: boolean } {
  const name = environment.trim().toLowerCase();
  return {
    production: /^(prod|production|live)([-_./ ].*)?$/.test(name),
    transient: /(^|[-_./ ])(pr|preview|review|ephemeral)([-_./ ]?\d+)?($|[-_./ ])/.test(name) && !/^prod/.test(name),
  };
}

/**
 * The deployment status for a record's outcome. A rolled-back deploy is a `failure` (its version is not serving);
 * a failed rollback is an `error`: the environment's state is unknown and needs a person. GitHub has no cancelled
 * state: a cancelled deploy is an `error` too, since part of the target may run the unverified version until someone
 * runs the command that finishes the rollback. Never `success`, so it is never a rollback destination.
 */
export function deploymentStateOf(outcome: Outcome): DeploymentState {
  switch (outcome) {
    case 'in-progress':
      return 'in_progress';
    case 'succeeded':
      return 'success';
    case 'failed':
    case 'rolled-back':
      return 'failure';
    case 'rollback-failed':
    case 'cancelled':
      return 'error';
  }
}

/** The deploy record kept in a deployment's payload, or undefined when it holds none (another tool's deployment). */
export function recordOfPayload(payload: unknown): DeployRecord | undefined {
  try {
    return parseRecord('payload', typeof payload === 'string' ? payload : JSON.stringify(payload));
  } catch {
    return undefined;
  }
}

export interface NewDeployment {
  environment: string;
  record: DeployRecord;
  /** Undefined: the default service. */
  service?: Service;
  description?: string;
}

/** The deployment's `task`: `deploy` for the default service (as before services existed), `deploy:<service>` else. */
export function deploymentTask(service: Service | undefined): string {
  return service && !service.isDefault ? `deploy:${service.name}` : 'deploy';
}

const defaultService: Service = { name: 'default', isDefault: true };

/**
 * Creates the deployment of one deploy: `ref` is the commit SHA, `payload` the record. `auto_merge: false` and
 * `required_contexts: []` because the image is already built and tested: GitHub must neither merge the default
 * branch into the ref nor refuse the deployment while unrelated checks are pending.
 */
export async function createDeployment(octokit: GitHubClient, repo: RepoRef, input: NewDeployment): Promise<number> {
  const flags = environmentFlags(input.environment);
  const response = await octokit.rest.repos.createDeployment({
    ...repo,
    ref: input.record.commit,
    task: deploymentTask(input.service),
    environment: input.environment,
    payload: input.record as unknown as Record<string, unknown>,
    auto_merge: false,
    required_contexts: [],
    production_environment: flags.production,
    transient_environment: flags.transient,
    description: (
      input.description ??
      `aws-deploy-kit deploy of ${input.service && !input.service.isDefault ? `${input.service.name} ` : ''}${input.record.commit.slice(0, 7)}`
    ).slice(0, 140),
  });
  const data = response.data as { id?: number; message?: string };
  if (typeof data.id !== 'number') {
    throw new Error(`GitHub did not create the deployment: ${data.message ?? `HTTP ${response.status}`}`);
  }
  return data.id;
}

export interface NewStatus {
  state: DeploymentState;
  /** The service / load-balancer URL: the "View deployment" button. */
  environmentUrl?: string;
  /** The workflow run: `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`. */
  logUrl?: string;
  description?: string;
  /**
   * GitHub's own retiring: when true, a success marks every earlier successful deployment of the environment
   * inactive, whatever its service. False by default: recordDeployment retires the same service's only (a deploy of
   * the frontend must not mark the backend's deployment inactive).
   */
  autoInactive?: boolean;
}

export async function setDeploymentStatus(
  octokit: GitHubClient,
  repo: RepoRef,
  deploymentId: number,
  status: NewStatus,
): Promise<number> {
  const response = await octokit.rest.repos.createDeploymentStatus({
    ...repo,
    deployment_id: deploymentId,
    state: status.state,
    ...(status.environmentUrl ? { environment_url: status.environmentUrl } : {}),
    ...(status.logUrl ? { log_url: status.logUrl } : {}),
    ...(status.description ? { description: status.description.slice(0, 140) } : {}),
    auto_inactive: status.autoInactive ?? false,
  });
  return response.data.id;
}

/**
 * The deployment an earlier report of this same workflow run created for this commit, environment and service, found
 * by the run id and the service in its payload. Makes reporting idempotent when the workflow does not pass the
 * report's `record` output on, and keeps two services deployed by one run apart.
 */
export async function findDeploymentOfRun(
  octokit: GitHubClient,
  repo: RepoRef,
  environment: string,
  commit: string,
  runId: string,
  service: Service = defaultService,
): Promise<number | undefined> {
  const deployments = await octokit.paginate(octokit.rest.repos.listDeployments, {
    ...repo,
    environment,
    sha: commit,
    per_page: 100,
  });
  const mine = deployments.find((d) => {
    const record = recordOfPayload(d.payload);
    return record?.run?.runId === runId && recordBelongsTo(record, service);
  });
  return mine?.id;
}

/**
 * Marks the service's earlier verified deployment of the environment inactive, as GitHub's auto_inactive would but
 * for this service only. Each verified deploy retires the one before it, so the newest earlier deployment of the
 * service that is `success` or already `inactive` ends the search. Returns the ids it retired.
 */
export async function retireEarlierDeployments(
  octokit: GitHubClient,
  repo: RepoRef,
  environment: string,
  deploymentId: number,
  service: Service = defaultService,
  limit = 100,
): Promise<number[]> {
  let seen = 0;
  const pages = octokit.paginate.iterator(octokit.rest.repos.listDeployments, { ...repo, environment, per_page: 30 });
  for await (const page of pages) {
    for (const deployment of page.data) {
      if (++seen > limit) return [];
      if (deployment.id >= deploymentId) continue;
      const record = recordOfPayload(deployment.payload);
      // Another tool's deployment (GitHub Actions' own, for a job's `environment:`) is left to its owner.
      if (!record || !recordBelongsTo(record, service)) continue;
      const statuses = await octokit.rest.repos.listDeploymentStatuses({
        ...repo,
        deployment_id: deployment.id,
        per_page: 1,
      });
      const latest = statuses.data[0];
      if (latest?.state === 'inactive') return [];
      if (latest?.state !== 'success') continue;
      await setDeploymentStatus(octokit, repo, deployment.id, {
        state: 'inactive',
        ...(latest.environment_url ? { environmentUrl: latest.environment_url } : {}),
        ...(latest.log_url ? { logUrl: latest.log_url } : {}),
      });
      return [deployment.id];
    }
  }
  return [];
}

export interface RecordedDeployment {
  deploymentId: number;
  state: DeploymentState;
  /** True when this call created the deployment. */
  created: boolean;
}

/**
 * Brings the environment's GitHub Deployment in line with the record: creates it the first time (or finds the one
 * this run created), then adds the status of the record's outcome. The caller stores `deploymentId` in the record.
 */
export async function recordDeployment(
  octokit: GitHubClient,
  repo: RepoRef,
  record: DeployRecord,
  options: { environment: string; logUrl?: string; runId?: string; service?: Service },
): Promise<RecordedDeployment> {
  let deploymentId = record.github?.deploymentId;
  let created = false;
  const service = options.service ?? defaultService;
  if (deploymentId === undefined && options.runId) {
    deploymentId = await findDeploymentOfRun(octokit, repo, options.environment, record.commit, options.runId, service);
  }
  if (deploymentId === undefined) {
    deploymentId = await createDeployment(octokit, repo, { environment: options.environment, record, service });
    created = true;
  }
  const state = deploymentStateOf(record.outcome);
  await setDeploymentStatus(octokit, repo, deploymentId, {
    state,
    ...(record.target?.url ? { environmentUrl: record.target.url } : {}),
    ...(options.logUrl ? { logUrl: options.logUrl } : {}),
    description: statusDescription(record),
  });
  if (state === 'success') await retireEarlierDeployments(octokit, repo, options.environment, deploymentId, service);
  return { deploymentId, state, created };
}

function statusDescription(record: DeployRecord): string {
  const short = record.commit.slice(0, 7);
  switch (record.outcome) {
    case 'in-progress': {
      const running = record.phases.findLast((p) => p.status === 'running') ?? record.phases.at(-1);
      return running ? `${short}: ${running.name} in progress` : `${short}: starting`;
    }
    case 'succeeded':
      return record.bake && !record.bake.fired
        ? `${short} is live: verified, and baked ${formatDuration(record.bake.seconds * 1000)} with no alarm`
        : `${short} is live`;
    case 'failed':
      return `${short} failed${record.error ? `: ${record.error}` : ''}`;
    case 'rolled-back': {
      const why = record.bake?.fired ? ` (alarm ${record.bake.fired.name} fired during the bake)` : '';
      return `${short} failed${why} and was rolled back${record.previous?.commit ? ` to ${record.previous.commit.slice(0, 7)}` : ''}`;
    }
    case 'rollback-failed':
      return `${short} failed and the rollback failed too: check the environment`;
    case 'cancelled':
      return record.cancellation?.finish
        ? `${short} was cancelled before it was verified: the PR comment and the run say what runs now and how to finish the rollback`
        : `${short} was cancelled before it was verified; nothing it changed is left`;
  }
}

export interface PreviousDeployment {
  id: number;
  sha: string;
  environment: string;
  createdAt: string;
  /** `success`, or `inactive` when GitHub retired it after a later success. */
  state: 'success' | 'inactive';
  environmentUrl?: string;
  /** The deploy record from the payload; undefined only for another tool's deployment (`includeForeign`). */
  record?: DeployRecord;
}

export interface FindPreviousOptions {
  /** Only deployments created before this one (the current deploy's). */
  beforeDeploymentId?: number;
  /** Skip deployments of this commit (what runs now: rolling back to it would change nothing). */
  excludeSha?: string;
  /** Give up after looking at this many deployments. Default 100. */
  limit?: number;
  /**
   * Also accept deployments whose payload is not an aws-deploy-kit record. Off by default: a job with
   * `environment:` makes GitHub Actions create its own deployment of the environment, marked success when the JOB
   * succeeds, even when the deploy inside it was rolled back, so it says nothing about which version was good.
   */
  includeForeign?: boolean;
  /** Only this service's deployments (another tool's count as the default service's). Default: the default service. */
  service?: Service;
}

/**
 * The newest deployment of `environment` that was verified: its newest status other than `inactive` is `success`
 * (GitHub marks a good deployment inactive when a later one succeeds, so "inactive after success" counts too).
 * Failed, errored and still-running deployments are passed over. This is the rollback destination.
 */
export async function findPreviousGoodDeployment(
  octokit: GitHubClient,
  repo: RepoRef,
  environment: string,
  options: FindPreviousOptions = {},
): Promise<PreviousDeployment | undefined> {
  const limit = options.limit ?? 100;
  let seen = 0;
  const pages = octokit.paginate.iterator(octokit.rest.repos.listDeployments, { ...repo, environment, per_page: 30 });
  for await (const page of pages) {
    for (const deployment of page.data) {
      if (++seen > limit) return undefined;
      // GitHub lists newest first; ids grow with time, so the id comparison is "older than".
      if (options.beforeDeploymentId !== undefined && deployment.id >= options.beforeDeploymentId) continue;
      if (options.excludeSha && deployment.sha === options.excludeSha) continue;
      const record = recordOfPayload(deployment.payload);
      if (!record && !options.includeForeign) continue;
      if (!recordBelongsTo(record ?? {}, options.service ?? defaultService)) continue;
      const statuses = await octokit.rest.repos.listDeploymentStatuses({
        ...repo,
        deployment_id: deployment.id,
        per_page: 100,
      });
      const latest = statuses.data[0];
      const decisive = statuses.data.find((s) => s.state !== 'inactive');
      if (!latest || decisive?.state !== 'success') continue;
      const environmentUrl = decisive.environment_url || latest.environment_url;
      return {
        id: deployment.id,
        sha: deployment.sha,
        environment: deployment.environment,
        createdAt: deployment.created_at,
        state: latest.state === 'inactive' ? 'inactive' : 'success',
        ...(environmentUrl ? { environmentUrl } : {}),
        ...(record ? { record } : {}),
      };
    }
  }
  return undefined;
}
