import type { getOctokit } from '@actions/github';
import { type Clock, systemClock } from '../core/clock';
import { type Logger, silentLogger } from '../core/logger';
import { formatDuration } from '../core/poller';

export type GitHubClient = ReturnType<typeof getOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface GitHubClientOptions {
  /** GITHUB_API_URL: https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
  /** Waits longer than this (a rate limit resetting in 40 minutes) are not worth holding a deploy job for. */
  maxWaitMs?: number;
  /** Further attempts after a rate-limited or failed (5xx, network) request. */
  retries?: number;
}

/** The API base URL from the runner's environment, as on GitHub Enterprise Server. */
export function apiUrlFrom(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_API_URL?.trim() || 'https://api.github.com';
}

/** owner/repo from GITHUB_REPOSITORY, if set and well formed. */
export function repoFrom(env: NodeJS.ProcessEnv): RepoRef | undefined {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(env.GITHUB_REPOSITORY?.trim() ?? '');
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

/** Where the run's log is: the log_url of deployment statuses and the link in the comment. */
export function runUrlFrom(env: NodeJS.ProcessEnv): string | undefined {
  const server = env.GITHUB_SERVER_URL?.trim() || 'https://github.com';
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined;
  const attempt = env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : '';
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`;
}

interface ErrorShape {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

export function githubStatus(error: unknown): number | undefined {
  const status = (error as ErrorShape | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

function header(error: unknown, name: string): string | undefined {
  return (error as ErrorShape | undefined)?.response?.headers?.[name];
}

/** GitHub's own message ("Resource not accessible by integration"), without the documentation URL. */
export function githubMessage(error: unknown): string {
  const data = (error as ErrorShape | undefined)?.response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return error instanceof Error ? error.message : String(error);
}

function isSecondaryRateLimit(error: unknown): boolean {
  const status = githubStatus(error);
  return (
    (status === 403 || status === 429) &&
    (header(error, 'retry-after') !== undefined || /secondary rate limit/i.test(githubMessage(error)))
  );
}

function isPrimaryRateLimit(error: unknown): boolean {
  const status = githubStatus(error);
  return (status === 403 || status === 429) && header(error, 'x-ratelimit-remaining') === '0';
}

/**
 * How long to wait before trying a failed request again, or undefined when trying again cannot help (a missing
 * permission, a 404, a validation error). GitHub asks clients to honour `retry-after` on secondary rate limits and
 * `x-ratelimit-reset` on the primary one.
 */
export function retryDelayMs(error: unknown, attempt: number, now: number): number | undefined {
  if (isSecondaryRateLimit(error)) {
    const seconds = Number(header(error, 'retry-after'));
    return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 60_000;
  }
  if (isPrimaryRateLimit(error)) {
    const reset = Number(header(error, 'x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(reset * 1000 - now, 0) + 1000 : undefined;
  }
  const status = githubStatus(error);
  // Network failures surface from Octokit as status 500 with no response.
  if (status !== undefined && status >= 500) return 1000 * 2 ** (attempt - 1);
  return undefined;
}

/**
 * An Octokit for the GitHub REST API at `apiUrl`, with the runner's proxy settings (from @actions/github) and a
 * retry of rate-limited and failed requests that honours GitHub's headers. Octokit has no retry of its own here and
 * the retry/throttling plugins are not dependencies: this hook is the one place that waits on GitHub.
 */
export async function createGitHubClient(token: string, options: GitHubClientOptions): Promise<GitHubClient> {
  // Loaded when a step first talks to GitHub: Octokit is a large part of a bundle's start-up, and the AWS calls
  // of a step come first.
  const { getOctokit } = await import(/* webpackMode: "eager" */ '@actions/github');
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const retries = options.retries ?? 3;
  const octokit = getOctokit(token, {
    baseUrl: options.apiUrl.replace(/\/+$/, ''),
    userAgent: 'aws-deploy-kit',
    ...(options.signal ? { request: { signal: options.signal } } : {}),
    log: {
      debug: () => {},
      info: () => {},
      warn: (m: string) => logger.debug(m),
      error: (m: string) => logger.debug(m),
    },
  });
  octokit.hook.wrap('request', async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const delay = retryDelayMs(error, attempt, clock.now());
        if (delay === undefined || attempt > retries || delay > maxWaitMs) throw error;
        logger.info(
          `GitHub answered ${githubStatus(error)} to ${requestOptions.method} ${requestOptions.url} ` +
            `(${githubMessage(error)}); trying again in ${formatDuration(delay)}.`,
        );
        await clock.sleep(delay, options.signal);
      }
    }
  });
  return octokit;
}

/**
 * One warning line for a failed GitHub call: what was being done, GitHub's answer and, for a 403/404, the
 * `permissions:` entry the workflow job needs (GitHub names it in `x-accepted-github-permissions`).
 */
export function describeGitHubError(doing: string, error: unknown, permission: string): string {
  const status = githubStatus(error);
  const answer = `${githubMessage(error)}${status ? ` (HTTP ${status})` : ''}`;
  if (status === 401) {
    return `Could not ${doing}: ${answer}. The github-token input was rejected: pass \${{ github.token }} or a valid token.`;
  }
  if (isSecondaryRateLimit(error) || isPrimaryRateLimit(error)) {
    return `Could not ${doing}: ${answer}. GitHub's rate limit did not clear in time; the next run will report again.`;
  }
  if (status === 403 || status === 404) {
    const accepted = header(error, 'x-accepted-github-permissions');
    const hint = accepted ? ` (GitHub accepts: ${accepted.replace(/_/g, '-')})` : '';
    return (
      `Could not ${doing}: ${answer}. Add to the job: \`permissions: { ${permission} }\`${hint}. ` +
      'Pull requests from forks get a read-only token whatever the workflow asks for.'
    );
  }
  return `Could not ${doing}: ${answer}.`;
}
