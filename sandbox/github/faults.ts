/** The routes the GitHub emulator serves, by the names tests use to aim faults at them. */
export type GitHubRoute =
  | 'create-deployment'
  | 'list-deployments'
  | 'get-deployment'
  | 'create-deployment-status'
  | 'list-deployment-statuses'
  | 'list-commit-pulls'
  | 'list-issue-comments'
  | 'create-issue-comment'
  | 'update-issue-comment'
  | 'delete-issue-comment';

export type GitHubFaultKind =
  /** 403 "Resource not accessible by integration": the token lacks a `permissions:` entry. */
  | 'forbidden'
  /** 404 "Not Found" (GitHub's answer to a resource the token may not see, too). */
  | 'not-found'
  /** 403 with `retry-after` and the "secondary rate limit" message. */
  | 'secondary-rate-limit'
  /** 500 / 502 / 503. */
  | 'server-error'
  /** Hold matching requests until `parties` of them are waiting, then let them all through together. */
  | 'barrier';

export interface GitHubFaultSpec {
  kind: GitHubFaultKind;
  /** Any route when omitted. */
  route?: GitHubRoute;
  /** How many matching requests to affect; Infinity for all. Default 1 (for a barrier: `parties`). */
  times?: number;
  /** 'forbidden': the permission named in `x-accepted-github-permissions`, e.g. 'pull_requests=write'. */
  permission?: string;
  /** 'secondary-rate-limit': seconds in `retry-after`. Default 1. */
  retryAfterSeconds?: number;
  /** 'server-error': the status. Default 502. */
  status?: number;
  /** 'barrier': how many requests to gather. Default 2. */
  parties?: number;
}

interface ActiveFault {
  spec: GitHubFaultSpec;
  times: number;
  waiting: (() => void)[];
}

/** Faults (and barriers) applied to matching requests, used up in the order they were added. */
export class GitHubFaults {
  private readonly active: ActiveFault[] = [];

  add(spec: GitHubFaultSpec): void {
    const times = spec.times ?? (spec.kind === 'barrier' ? (spec.parties ?? 2) : 1);
    this.active.push({ spec, times, waiting: [] });
  }

  clear(): void {
    for (const fault of this.active) for (const release of fault.waiting) release();
    this.active.length = 0;
  }

  /**
   * Waits at any barrier for this route, then returns the fault to answer with (used up), if any.
   */
  async take(route: GitHubRoute): Promise<GitHubFaultSpec | undefined> {
    for (const fault of this.active) {
      if (fault.times <= 0) continue;
      if (fault.spec.route && fault.spec.route !== route) continue;
      fault.times--;
      if (fault.spec.kind !== 'barrier') return fault.spec;
      await new Promise<void>((resolve) => {
        fault.waiting.push(resolve);
        if (fault.waiting.length >= (fault.spec.parties ?? 2)) {
          for (const release of fault.waiting.splice(0)) release();
        }
      });
    }
    return undefined;
  }
}
