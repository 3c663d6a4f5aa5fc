import type { ECRClient } from '@aws-sdk/client-ecr';
import { describeRepository, ecrClient, findImage, listTaggedImages } from '../../aws/ecr';
import { DeployError } from '../../core/errors';
import type { PollDelays } from '../../core/poller';
import { type DeployRecord, newRecord, runFromEnv, serializeRecord } from '../../core/record';
import { markVerified, readPointers } from '../../deploy/pointers';
import { rollBack } from '../../deploy/rollback';
import { planRollback, type RollbackSources, short } from '../../deploy/rollback-plan';
import { expectedVersionFor } from '../../deploy/verify';
import { describeGitHubError, type GitHubClient, type RepoRef, repoFrom, runUrlFrom } from '../../github/client';
import { findPreviousGoodDeployment, recordDeployment } from '../../github/deployments';
import { openTarget } from '../../targets';
import { maskAccountIds } from '../account-mask';
import { githubFor, targetContext } from '../compose';
import type { ActionDeps } from '../runtime';
import type { RollbackInputs } from './inputs';
import { rollbackSummary } from './summary';

/** Replaceable parts, for tests. */
export interface RollbackServices {
  ecr?: ECRClient;
  /** The platform's SDK clients, by the names its target.ts documents. */
  clients?: Record<string, unknown>;
  github?: GitHubClient;
  pollDelays?: PollDelays;
}

/**
 * Puts an environment back on an earlier image, by digest, without a rebuild: finds the target (to-sha, the previous
 * verified GitHub deployment, or the ECR pointer tag), deploys it, checks it, then moves the ECR pointers and records
 * a GitHub deployment. Anything GitHub refuses is a warning: the rollback itself matters more.
 */
export async function execute(
  deps: ActionDeps,
  inputs: RollbackInputs,
  services: RollbackServices = {},
): Promise<void> {
  if (inputs.token) deps.setSecret(inputs.token);
  const { logger } = deps;
  maskAccountIds(deps, inputs.maskAwsAccountId, JSON.stringify(inputs.target));
  const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
  const context = targetContext(deps, inputs.region, ecr, services);
  const target = await openTarget(inputs.target, context);

  const repositoryInfo = await describeRepository(ecr, inputs.repository);
  if (!repositoryInfo) {
    throw new DeployError(
      `The ECR repository ${inputs.repository} does not exist in ${inputs.region}: there is nothing to roll back to. ` +
        'Check repository and region.',
    );
  }
  maskAccountIds(deps, inputs.maskAwsAccountId, repositoryInfo.uri);
  const current = await target.current(inputs.repository);
  const repo = repoFrom(deps.env);
  const octokit = await githubClient(deps, inputs, repo, services.github);
  const plan = await planRollback(
    {
      environment: inputs.environment,
      service: inputs.service,
      repository: inputs.repository,
      current: current.running,
      ...toSha(inputs),
    },
    sources(inputs, ecr, octokit, repo, octokit ? undefined : noGitHubReason(inputs, repo)),
    logger,
  );
  const image = { uri: `${repositoryInfo.uri}@${plan.digest}`, digest: plan.digest, commit: plan.commit };
  logger.info(
    `Rollback plan for ${inputs.environment} (${current.label}${current.detail ? `, ${current.detail}` : ''}):\n` +
      `  runs now:     ${current.running.reference}${current.running.commit ? ` (commit ${short(current.running.commit)})` : ''}\n` +
      `  roll back to: ${image.uri} (commit ${short(plan.commit)})\n` +
      `  chosen from:  ${plan.from}`,
  );
  deps.setOutput('sha', plan.commit);
  deps.setOutput('image', image.uri);

  if (inputs.dryRun) {
    logger.info('dry-run is true: nothing was changed.');
    await summarize(deps, rollbackSummary({ inputs, current, plan, image: image.uri }));
    return;
  }

  const record = newRecord(plan.commit, {
    environment: inputs.environment,
    service: inputs.service.name,
    image: {
      repository: inputs.repository,
      registry: repositoryInfo.uri.slice(0, repositoryInfo.uri.indexOf('/')),
      uri: image.uri,
      digest: plan.digest,
      tags: plan.tags,
      reused: true,
    },
    target: {
      kind: target.kind,
      id: current.id,
      resource: target.resource,
      ...(current.url ? { url: current.url } : {}),
    },
    previous: {
      // By digest when ECR knows it: what the target ran, even if its tag has moved since.
      image: current.running.digest ? `${repositoryInfo.uri}@${current.running.digest}` : current.running.reference,
      ...(current.running.digest ? { digest: current.running.digest } : {}),
      ...(current.running.commit ? { commit: current.running.commit } : {}),
    },
    run: runFromEnv(deps.env),
  });
  const expectedVersion = expectedVersionFor(inputs.expectedVersion, image.commit);
  const failure = await rollBack(
    target,
    {
      image: { ...image, repository: inputs.repository },
      record,
      timeoutMs: inputs.timeoutMs,
      reason: `rollback of ${inputs.environment} (${plan.from})`,
      ...(inputs.health ? { verify: { ...inputs.health, ...(expectedVersion ? { expectedVersion } : {}) } } : {}),
    },
    logger,
  );
  if (!failure) {
    // The target speaks of a deploy that was rolled back; here the rollback is the deploy.
    record.outcome = 'succeeded';
    try {
      await markVerified(ecr, {
        repository: inputs.repository,
        environment: inputs.environment,
        service: inputs.service,
        digest: plan.digest,
        logger,
        repositoryInfo,
      });
    } catch (error) {
      logger.warning(
        `The rollback worked, but the ECR pointer tags were not moved: ${(error as Error).message} A later ` +
          'token-less rollback would use stale pointers.',
      );
    }
    logger.info(`${inputs.environment} is back on commit ${short(plan.commit)} (${plan.digest}).`);
  }
  if (octokit && repo) await recordOnGitHub(deps, octokit, repo, record, inputs);
  deps.setOutput('record', serializeRecord(record));
  await summarize(deps, rollbackSummary({ inputs, current, plan, image: image.uri, record }));
  if (failure) throw failure;
}

function toSha(inputs: RollbackInputs): { toSha?: string } {
  return inputs.toSha ? { toSha: inputs.toSha } : {};
}

function noGitHubReason(inputs: RollbackInputs, repo: RepoRef | undefined): string {
  if (!inputs.token) return 'No github-token was given';
  if (!repo) return 'GITHUB_REPOSITORY is not set';
  return 'GitHub cannot be asked';
}

async function githubClient(
  deps: ActionDeps,
  inputs: RollbackInputs,
  repo: RepoRef | undefined,
  given: GitHubClient | undefined,
): Promise<GitHubClient | undefined> {
  if (!inputs.token || !repo) return undefined;
  return githubFor(deps, inputs.token, given);
}

function sources(
  inputs: RollbackInputs,
  ecr: ECRClient,
  octokit: GitHubClient | undefined,
  repo: RepoRef | undefined,
  noDeploymentsReason: string | undefined,
): RollbackSources {
  return {
    findImage: (tagOrDigest) => findImage(ecr, inputs.repository, tagOrDigest),
    listTaggedImages: () => listTaggedImages(ecr, inputs.repository),
    previousPointer: async () =>
      (await readPointers(ecr, inputs.repository, inputs.environment, inputs.service)).previous,
    ...(octokit && repo
      ? {
          deployments: (before: number | undefined) =>
            findPreviousGoodDeployment(octokit, repo, inputs.environment, {
              service: inputs.service,
              ...(before !== undefined ? { beforeDeploymentId: before } : {}),
            }),
        }
      : {}),
    ...(noDeploymentsReason ? { noDeploymentsReason } : {}),
  };
}

async function recordOnGitHub(
  deps: ActionDeps,
  octokit: GitHubClient,
  repo: RepoRef,
  record: DeployRecord,
  inputs: RollbackInputs,
): Promise<void> {
  const runUrl = runUrlFrom(deps.env);
  try {
    const result = await recordDeployment(octokit, repo, record, {
      environment: inputs.environment,
      ...(runUrl ? { logUrl: runUrl } : {}),
      ...(deps.env.GITHUB_RUN_ID ? { runId: deps.env.GITHUB_RUN_ID } : {}),
      service: inputs.service,
    });
    record.github = { deploymentId: result.deploymentId };
    deps.setOutput('deployment-id', String(result.deploymentId));
    deps.logger.info(
      `Recorded GitHub deployment ${result.deploymentId} of ${inputs.environment} for commit ` +
        `${short(record.commit)}: ${result.state}.`,
    );
  } catch (error) {
    deps.logger.warning(
      describeGitHubError(`record the GitHub deployment of ${inputs.environment}`, error, 'deployments: write'),
    );
  }
}

async function summarize(deps: ActionDeps, markdown: string): Promise<void> {
  await deps.writeSummary(markdown).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
}
