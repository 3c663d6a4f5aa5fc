import type { ECRClient } from '@aws-sdk/client-ecr';
import { describeRepository, ecrClient } from '../../aws/ecr';
import {
  type DeleteFailure,
  deleteImages,
  getLifecyclePolicy,
  listAllImages,
  putLifecyclePolicy,
} from '../../aws/ecr-cleanup';
import { DeployError } from '../../core/errors';
import { type CleanupPlan, planCleanup, type RunningImage, type VerifiedDeployment } from '../../deploy/cleanup-plan';
import { lifecyclePolicyFor } from '../../deploy/lifecycle-policy';
import { describeGitHubError, type GitHubClient, repoFrom } from '../../github/client';
import { verifiedDeployments } from '../../github/deployment-history';
import { openTarget } from '../../targets';
import { githubFor, targetContext } from '../compose';
import type { ActionDeps } from '../runtime';
import type { EcrCleanupInputs } from './inputs';
import { formatBytes, planSummary, planText } from './report';

export interface EcrCleanupServices {
  ecr?: ECRClient;
  github?: GitHubClient;
  clients?: Record<string, unknown>;
}

const ALLOW =
  'Set keep-without-history: true to clean up anyway, keeping only what the pointer tags, keep-tags, keep-images, the target and keep-days protect.';

/**
 * The deployment history, or a refusal: without it the cleanup cannot know which images `rollback --to-sha` or the
 * rollback's own search would go back to, and deleting those is what this action exists to avoid.
 */
async function history(
  deps: ActionDeps,
  inputs: EcrCleanupInputs,
  given: GitHubClient | undefined,
  notes: string[],
): Promise<VerifiedDeployment[]> {
  const repo = repoFrom(deps.env);
  const reason = !inputs.token
    ? 'no github-token was given'
    : !repo
      ? 'GITHUB_REPOSITORY is not set (owner/name)'
      : undefined;
  let problem: string | undefined;
  if (reason) problem = `Could not read the GitHub Deployments of this repository: ${reason}.`;
  else {
    try {
      const octokit = await githubFor(deps, inputs.token, given);
      return await verifiedDeployments(octokit, repo!, {
        repository: inputs.repository,
        perGroup: inputs.keepDeployments,
      });
    } catch (error) {
      problem = describeGitHubError(
        `read the GitHub Deployments of ${repo!.owner}/${repo!.repo} (the verified deploys whose images a rollback goes back to)`,
        error,
        'deployments: read',
      );
    }
  }
  if (!inputs.keepWithoutHistory) throw new DeployError(`${problem} Nothing was deleted. ${ALLOW}`);
  const note = `${problem} keep-without-history is true: going on without the verified deployments.`;
  deps.logger.warning(note);
  notes.push(note);
  return [];
}

async function runningNow(deps: ActionDeps, inputs: EcrCleanupInputs, ecr: ECRClient, services: EcrCleanupServices) {
  if (!inputs.target) return [];
  const target = await openTarget(inputs.target, targetContext(deps, inputs.region, ecr, services));
  const current = await target.current(inputs.repository);
  if (!current.running.digest) {
    throw new DeployError(
      `Could not tell which image ${current.label} runs (${current.running.reference}): nothing was deleted. ` +
        'Check the target inputs, or leave target empty to rely on the pointer tags.',
    );
  }
  const running: RunningImage = { label: current.label, digest: current.running.digest };
  return [running];
}

async function applyLifecyclePolicy(deps: ActionDeps, inputs: EcrCleanupInputs, ecr: ECRClient): Promise<string> {
  const text = JSON.stringify(
    lifecyclePolicyFor({
      untaggedDays: inputs.keepDays,
      keepTags: inputs.keepTags,
      includeBuildCache: inputs.includeBuildCache,
    }),
    null,
    2,
  );
  if (inputs.dryRun) {
    deps.logger.info(`dry-run: the lifecycle policy that would be written:\n${text}`);
    return 'would write';
  }
  const existing = await getLifecyclePolicy(ecr, inputs.repository);
  if (existing !== undefined && JSON.stringify(JSON.parse(existing)) === JSON.stringify(JSON.parse(text))) {
    deps.logger.info(`The lifecycle policy of ${inputs.repository} is already this one.`);
    return 'unchanged';
  }
  await putLifecyclePolicy(ecr, inputs.repository, text);
  deps.logger.info(
    `Wrote the lifecycle policy of ${inputs.repository}${existing ? ' (it replaces the one before)' : ''}:\n${text}`,
  );
  return existing ? 'replaced' : 'written';
}

async function deleteInWaves(ecr: ECRClient, repository: string, plan: CleanupPlan) {
  const deleted: string[] = [];
  const failures: DeleteFailure[] = [];
  for (const wave of plan.waves) {
    // An image listed by an index that ECR refused to delete would be refused too: leave it for the next run.
    const blocked = new Set(failures.map((f) => f.digest));
    const go = wave.filter((digest) => !blocked.has(digest));
    const result = await deleteImages(ecr, repository, go);
    deleted.push(...result.deleted);
    failures.push(...result.failures);
  }
  return { deleted, failures };
}

/** Deletes what no rollback needs from one ECR repository: the plan first, then (dry-run: false) the deletions. */
export async function execute(
  deps: ActionDeps,
  inputs: EcrCleanupInputs,
  services: EcrCleanupServices = {},
): Promise<void> {
  if (inputs.token) deps.setSecret(inputs.token);
  const { logger } = deps;
  const ecr = services.ecr ?? ecrClient(inputs.region, deps.env);
  const info = await describeRepository(ecr, inputs.repository);
  if (!info)
    throw new DeployError(
      `The ECR repository ${inputs.repository} does not exist in ${inputs.region}: there is nothing to clean up. Check repository and region.`,
    );
  const notes: string[] = [];
  const deployments = await history(deps, inputs, services.github, notes);
  const running = await runningNow(deps, inputs, ecr, services);
  const images = await listAllImages(ecr, inputs.repository);
  const plan = planCleanup(
    { images, deployments, running },
    {
      keepDeployments: inputs.keepDeployments,
      keepDays: inputs.keepDays,
      keepTags: inputs.keepTags,
      keepImages: inputs.keepImages,
      includeBuildCache: inputs.includeBuildCache,
      now: new Date(deps.clock.now()),
    },
  );
  logger.info(
    `Cleanup plan for ${inputs.repository}: ${plan.deleted} of ${plan.images.length} image(s) go ` +
      `(${formatBytes(plan.bytesFreed)}), ${plan.kept} stay; ${deployments.length} verified deployment(s) read.`,
  );
  await logger.group('The plan', async () => logger.info(planText(plan)));

  let deleted: string[] = [];
  let failures: DeleteFailure[] = [];
  if (inputs.dryRun) logger.info('dry-run is true: nothing was deleted. Set dry-run: false once the plan is right.');
  else ({ deleted, failures } = await deleteInWaves(ecr, inputs.repository, plan));
  if (inputs.lifecyclePolicy) deps.setOutput('lifecycle-policy', await applyLifecyclePolicy(deps, inputs, ecr));

  const freed = plan.images.filter((i) => deleted.includes(i.digest)).reduce((sum, i) => sum + (i.sizeInBytes ?? 0), 0);
  deps.setOutput('deleted-count', String(deleted.length));
  deps.setOutput('kept-count', String(plan.kept));
  deps.setOutput('bytes-freed', String(freed));
  deps.setOutput(
    'plan',
    JSON.stringify({
      repository: inputs.repository,
      dryRun: inputs.dryRun,
      toDelete: plan.deleted,
      bytesToFree: plan.bytesFreed,
      images: plan.images,
      ...(failures.length > 0 ? { failures } : {}),
    }),
  );
  await deps.writeSummary(
    planSummary({
      repository: inputs.repository,
      plan,
      dryRun: inputs.dryRun,
      deleted: deleted.length,
      failures,
      notes,
    }),
  );
  if (!inputs.dryRun)
    logger.info(`Deleted ${deleted.length} image(s) from ${inputs.repository}, ${formatBytes(freed)} freed.`);
  if (failures.length > 0)
    throw new DeployError(
      `ECR refused to delete ${failures.length} image(s) of ${inputs.repository}: ` +
        failures.map((f) => `${f.digest} (${f.code}: ${f.reason})`).join('; ') +
        '. The others were deleted; the next run tries these again.',
    );
}
