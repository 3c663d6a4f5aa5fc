import { readFileSync } from 'node:fs';
import { type DeployRecord, serializeRecord } from '../../core/record';
import { describeGitHubError, type GitHubClient, type RepoRef, repoFrom, runUrlFrom } from '../../github/client';
import { pullRequestsFor, upsertServiceSection } from '../../github/comment';
import { recordDeployment } from '../../github/deployments';
import { displayPhase, type RenderContext, renderComment, serviceRow } from '../../github/render';
import { writeDeploySummary } from '../../github/summary';
import { githubFor } from '../compose';
import type { ActionDeps } from '../runtime';
import { parseReportInputs, type ReportInputs } from './inputs';

/**
 * Reports a deploy: its GitHub Deployment and status, the sticky pull-request comment, the job summary. Only a
 * malformed input fails the step; anything GitHub refuses becomes a warning, because a report must never turn a
 * good deploy red.
 */
export async function run(deps: ActionDeps, services: ReportServices = {}): Promise<void> {
  await execute(deps, parseReportInputs(deps.getInput, deps.env), services);
}

/** Replaceable parts, for tests. */
export interface ReportServices {
  github?: GitHubClient;
}

/** Reports `inputs.record`; returns the record as reported (with the GitHub deployment id once there is one). */
export async function execute(
  deps: ActionDeps,
  inputs: ReportInputs,
  services: ReportServices = {},
): Promise<DeployRecord> {
  if (inputs.token) deps.setSecret(inputs.token);
  const record: DeployRecord = structuredClone(inputs.record);
  // Records carry their service from here on, so the report, the rollback and the next deploy can tell them apart.
  record.service ??= inputs.service.name;
  const repo = repoFrom(deps.env);
  const runUrl = runUrlFrom(deps.env);
  const context = (): RenderContext => ({
    ...(inputs.environment ? { environment: inputs.environment } : {}),
    ...(inputs.service.isDefault ? {} : { service: inputs.service.name }),
    serverUrl: deps.env.GITHUB_SERVER_URL?.trim() || 'https://github.com',
    ...(repo ? { repository: `${repo.owner}/${repo.repo}` } : {}),
    ...(runUrl ? { runUrl } : {}),
    now: deps.clock.now(),
  });
  deps.setOutput('phase', displayPhase(record));

  const octokit = await githubClient(deps, inputs, repo, services.github);
  if (octokit && repo && inputs.deployment) await reportDeployment(deps, octokit, repo, record, inputs, runUrl);
  if (octokit && repo && inputs.comment) await reportComment(deps, octokit, repo, record, inputs, context());
  if (inputs.summary) {
    try {
      await writeDeploySummary(deps.writeSummary, record, context());
    } catch (error) {
      deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
    }
  }
  deps.setOutput('record', serializeRecord(record));
  return record;
}

async function githubClient(
  deps: ActionDeps,
  inputs: ReportInputs,
  repo: RepoRef | undefined,
  given: GitHubClient | undefined,
): Promise<GitHubClient | undefined> {
  if (!inputs.comment && !inputs.deployment) return undefined;
  if (!inputs.token) {
    deps.logger.warning(
      'No github-token was given: the GitHub Deployment and the pull-request comment are skipped (the job summary ' +
        'is still written). Leave github-token at its default, the workflow token.',
    );
    return undefined;
  }
  if (!repo) {
    deps.logger.warning(
      'GITHUB_REPOSITORY is not set: the GitHub Deployment and the pull-request comment are skipped.',
    );
    return undefined;
  }
  return githubFor(deps, inputs.token, given);
}

async function reportDeployment(
  deps: ActionDeps,
  octokit: GitHubClient,
  repo: RepoRef,
  record: DeployRecord,
  inputs: ReportInputs,
  runUrl: string | undefined,
): Promise<void> {
  if (!inputs.environment) {
    deps.logger.warning(
      'The record names no environment and the environment input is empty: no GitHub Deployment is recorded. ' +
        'Set environment on the deploy step or on this one.',
    );
    return;
  }
  const runId = record.run?.runId ?? deps.env.GITHUB_RUN_ID;
  try {
    const result = await recordDeployment(octokit, repo, record, {
      environment: inputs.environment,
      ...(runUrl ? { logUrl: runUrl } : {}),
      ...(runId ? { runId } : {}),
      service: inputs.service,
    });
    record.github = { deploymentId: result.deploymentId };
    deps.setOutput('deployment-id', String(result.deploymentId));
    deps.logger.info(
      `${result.created ? 'Created' : 'Updated'} GitHub deployment ${result.deploymentId} of ${inputs.environment}` +
        `${inputs.service.isDefault ? '' : ` (service ${inputs.service.name})`}: ${result.state}.`,
    );
  } catch (error) {
    deps.logger.warning(
      describeGitHubError(`record the GitHub deployment of ${inputs.environment}`, error, 'deployments: write'),
    );
  }
}

function eventPayload(env: NodeJS.ProcessEnv): unknown {
  if (!env.GITHUB_EVENT_PATH) return undefined;
  try {
    return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

async function reportComment(
  deps: ActionDeps,
  octokit: GitHubClient,
  repo: RepoRef,
  record: DeployRecord,
  inputs: ReportInputs,
  context: RenderContext,
): Promise<void> {
  let pulls: number[];
  try {
    pulls = await pullRequestsFor(octokit, repo, {
      eventName: deps.env.GITHUB_EVENT_NAME ?? '',
      payload: eventPayload(deps.env),
      sha: record.commit,
    });
  } catch (error) {
    deps.logger.warning(
      describeGitHubError(
        `find the pull requests of commit ${record.commit.slice(0, 7)}`,
        error,
        'pull-requests: read, contents: read',
      ),
    );
    return;
  }
  if (pulls.length === 0) {
    deps.logger.warning(
      `No pull request contains commit ${record.commit.slice(0, 7)}: no deploy comment was written (the job summary ` +
        'has the report). Comments need `permissions: { pull-requests: write }` once there is a pull request.',
    );
    return;
  }
  const section = {
    service: inputs.service.name,
    updatedAt: new Date(context.now).toISOString(),
    row: serviceRow(record, inputs.service.name, context),
    body: renderComment(record, context),
  };
  const urls: string[] = [];
  for (const pull of pulls) {
    try {
      const result = await upsertServiceSection(octokit, repo, pull, inputs.environment ?? 'default', section, {
        sleep: (ms) => deps.clock.sleep(ms),
      });
      urls.push(result.url);
      const rows =
        result.services.length > 1 ? ` (${result.services.length} services: ${result.services.join(', ')})` : '';
      deps.logger.info(
        `${result.action === 'created' ? 'Commented on' : 'Updated the comment on'} pull request #${pull}: ${result.url}` +
          rows +
          (result.removed > 0 ? ` (removed ${result.removed} duplicate${result.removed === 1 ? '' : 's'})` : ''),
      );
    } catch (error) {
      deps.logger.warning(describeGitHubError(`comment on pull request #${pull}`, error, 'pull-requests: write'));
    }
  }
  if (urls[0]) deps.setOutput('comment-url', urls[0]);
}
