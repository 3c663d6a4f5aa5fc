import type { GitHubClient, RepoRef } from './client';
import { recordOfPayload } from './deployments';

export interface VerifiedImage {
  id: number;
  environment: string;
  /** The record's service; undefined for records written before services existed. */
  service?: string;
  digest: string;
  commit: string;
}

/**
 * The verified deployments of every environment and service whose image lives in `repository`, newest first, at most
 * `perGroup` of each (environment, service): what a cleanup must keep so that `rollback --to-sha` and the rollback's
 * own search still find their image. Verified is what findPreviousGoodDeployment decides: the newest status other
 * than `inactive` is `success`. Statuses are read only for groups that still need deployments; `limit` bounds the
 * deployments looked at. GitHub's errors (401, 403, 404) are thrown to the caller, which decides whether to go on.
 */
export async function verifiedDeployments(
  octokit: GitHubClient,
  repo: RepoRef,
  options: { repository: string; perGroup: number; limit?: number },
): Promise<VerifiedImage[]> {
  const limit = options.limit ?? 1000;
  const found: VerifiedImage[] = [];
  const counts = new Map<string, number>();
  let seen = 0;
  const pages = octokit.paginate.iterator(octokit.rest.repos.listDeployments, { ...repo, per_page: 100 });
  for await (const page of pages) {
    for (const deployment of page.data) {
      if (++seen > limit) return found;
      const record = recordOfPayload(deployment.payload);
      // Another tool's deployment (GitHub Actions' own for a job's `environment:`) names no image of ours.
      if (!record?.image || record.image.repository !== options.repository) continue;
      const group = `${deployment.environment}\n${record.service ?? ''}`;
      if ((counts.get(group) ?? 0) >= options.perGroup) continue;
      const statuses = await octokit.rest.repos.listDeploymentStatuses({
        ...repo,
        deployment_id: deployment.id,
        per_page: 100,
      });
      if (statuses.data.find((s) => s.state !== 'inactive')?.state !== 'success') continue;
      counts.set(group, (counts.get(group) ?? 0) + 1);
      found.push({
        id: deployment.id,
        environment: deployment.environment,
        ...(record.service ? { service: record.service } : {}),
        digest: record.image.digest,
        commit: record.commit,
      });
    }
  }
  return found;
}
