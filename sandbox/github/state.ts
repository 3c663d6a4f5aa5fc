/**
 * What the GitHub emulator remembers per repository: deployments and their statuses, pull requests (and the commits
 * they contain), issue comments. The shapes follow GitHub's REST answers closely enough for Octokit and our code.
 */

export interface StoredDeployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  environment: string;
  original_environment: string;
  payload: unknown;
  description: string | null;
  transient_environment: boolean;
  production_environment: boolean;
  created_at: string;
  updated_at: string;
  /** Request body fields kept for tests (auto_merge, required_contexts). */
  request: Record<string, unknown>;
}

export interface StoredStatus {
  id: number;
  deployment_id: number;
  state: DeploymentState;
  description: string;
  environment: string;
  environment_url: string;
  log_url: string;
  target_url: string;
  created_at: string;
  updated_at: string;
}

export type DeploymentState = 'error' | 'failure' | 'inactive' | 'in_progress' | 'queued' | 'pending' | 'success';
export const deploymentStates: readonly DeploymentState[] = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
];

export interface StoredPull {
  number: number;
  title: string;
  state: 'open' | 'closed';
  headSha: string;
  headRef: string;
  baseRef: string;
  /** Every commit of the pull request (the head included). */
  commits: string[];
  merged: boolean;
}

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
  user: string;
  created_at: string;
  updated_at: string;
}

export class RepoState {
  readonly deployments: StoredDeployment[] = [];
  readonly statuses: StoredStatus[] = [];
  readonly pulls: StoredPull[] = [];
  readonly comments: StoredComment[] = [];
  /** Branch and tag names a deployment's `ref` may name, to their SHA. */
  readonly refs = new Map<string, string>();
  /**
   * Commit-status contexts that are not green. GitHub refuses (409) a deployment whose `required_contexts` were not
   * given as [] while any of these exist, which is why the toolkit always sends an empty list.
   */
  pendingContexts: string[] = [];

  constructor(readonly fullName: string) {}

  statusesOf(deploymentId: number): StoredStatus[] {
    return this.statuses.filter((s) => s.deployment_id === deploymentId);
  }

  /** The newest status of a deployment, if it has any. */
  latestStatus(deploymentId: number): StoredStatus | undefined {
    return this.statusesOf(deploymentId).at(-1);
  }

  issueExists(issue: number): boolean {
    return this.pulls.some((p) => p.number === issue);
  }
}

/** Ids are global across repositories on GitHub, so one counter per kind for the whole emulator. */
export class IdSequence {
  private next = 1;
  constructor(start = 1) {
    this.next = start;
  }
  take(): number {
    return this.next++;
  }
}
