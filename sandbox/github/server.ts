import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GitHubFaultSpec, GitHubFaults, type GitHubRoute } from './faults';
import { type Answer, HttpError, handlers, type RouteContext } from './routes';
import { IdSequence, RepoState, type StoredPull } from './state';

export type PermissionLevel = 'none' | 'read' | 'write';
/** The `permissions:` of a workflow token, by GitHub's scope names. Unlisted scopes are 'write'. */
export type TokenPermissions = Partial<
  Record<'deployments' | 'pull_requests' | 'issues' | 'contents', PermissionLevel>
>;

export interface TokenGrant {
  login: string;
  permissions: TokenPermissions;
  /** Requests made with this token in the current rate-limit window. */
  used: number;
}

/** One request as the emulator saw it (the token is never kept). */
export interface GitHubRequest {
  method: string;
  path: string;
  route: GitHubRoute | undefined;
  query: Record<string, string>;
  body: unknown;
  status: number;
  at: number;
}

interface RouteEntry {
  route: GitHubRoute;
  method: string;
  pattern: RegExp;
  /** The permission scopes (any one of them) and level the route needs. */
  needs: { scopes: (keyof TokenPermissions)[]; level: 'read' | 'write' };
}

const repoPath = '/repos/([^/]+)/([^/]+)';
const routes: RouteEntry[] = [
  { route: 'create-deployment', method: 'POST', pattern: re('/deployments'), needs: deployments('write') },
  { route: 'list-deployments', method: 'GET', pattern: re('/deployments'), needs: deployments('read') },
  { route: 'get-deployment', method: 'GET', pattern: re('/deployments/(\\d+)'), needs: deployments('read') },
  {
    route: 'create-deployment-status',
    method: 'POST',
    pattern: re('/deployments/(\\d+)/statuses'),
    needs: deployments('write'),
  },
  {
    route: 'list-deployment-statuses',
    method: 'GET',
    pattern: re('/deployments/(\\d+)/statuses'),
    needs: deployments('read'),
  },
  { route: 'list-commit-pulls', method: 'GET', pattern: re('/commits/([^/]+)/pulls'), needs: pulls('read') },
  { route: 'list-issue-comments', method: 'GET', pattern: re('/issues/(\\d+)/comments'), needs: pulls('read') },
  { route: 'create-issue-comment', method: 'POST', pattern: re('/issues/(\\d+)/comments'), needs: pulls('write') },
  { route: 'update-issue-comment', method: 'PATCH', pattern: re('/issues/comments/(\\d+)'), needs: pulls('write') },
  { route: 'delete-issue-comment', method: 'DELETE', pattern: re('/issues/comments/(\\d+)'), needs: pulls('write') },
];

function re(tail: string): RegExp {
  return new RegExp(`^${repoPath}${tail}$`);
}
function deployments(level: 'read' | 'write'): RouteEntry['needs'] {
  return { scopes: ['deployments'], level };
}
function pulls(level: 'read' | 'write'): RouteEntry['needs'] {
  // Comments on a pull request go through the issues API: either scope grants them.
  return { scopes: ['pull_requests', 'issues'], level };
}

const docs = 'https://docs.github.com/rest';

/**
 * A GitHub REST API emulator on loopback: deployments and their statuses, commit → pull request lookup, issue
 * comments. Bundles reach it through GITHUB_API_URL, exactly as they reach GitHub Enterprise Server. It checks the
 * token (401), the token's permissions (403 with GitHub's message and `x-accepted-github-permissions`), counts the
 * rate limit in the `x-ratelimit-*` headers, paginates with `Link` headers, records every request and injects the
 * faults a test asks for.
 */
export class GitHubEmulator {
  readonly faults = new GitHubFaults();
  readonly requests: GitHubRequest[] = [];
  /** Requests allowed per token before the primary rate limit answers 403. */
  rateLimit = 1000;
  private readonly repos = new Map<string, RepoState>();
  private readonly tokens = new Map<string, TokenGrant>();
  private readonly ids = {
    deployment: new IdSequence(1001),
    status: new IdSequence(5001),
    comment: new IdSequence(9001),
  };
  private readonly resetAt = Math.floor(Date.now() / 1000) + 3600;
  private server: Server | undefined;
  private port = 0;
  /** The default token: a workflow token with every permission. */
  readonly token = `ghs_sandbox${randomBytes(12).toString('hex')}`;

  constructor() {
    this.addToken(this.token);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Accepts another token, e.g. one with `permissions: { pull_requests: 'read' }`. */
  addToken(token: string, options: { login?: string; permissions?: TokenPermissions } = {}): void {
    this.tokens.set(token, {
      login: options.login ?? 'github-actions[bot]',
      permissions: options.permissions ?? {},
      used: 0,
    });
  }

  /** The state of one repository ("owner/name"), created empty on first use. */
  repo(fullName: string): RepoState {
    let repo = this.repos.get(fullName.toLowerCase());
    if (!repo) {
      repo = new RepoState(fullName);
      this.repos.set(fullName.toLowerCase(), repo);
    }
    return repo;
  }

  /** Opens a pull request whose head (and listed commits) the commit → pulls lookup will find. */
  addPullRequest(fullName: string, pull: Partial<StoredPull> & Pick<StoredPull, 'number' | 'headSha'>): StoredPull {
    const stored: StoredPull = {
      title: `Pull request #${pull.number}`,
      state: 'open',
      headRef: `feature-${pull.number}`,
      baseRef: 'main',
      merged: false,
      ...pull,
      commits: [...new Set([...(pull.commits ?? []), pull.headSha])],
    };
    this.repo(fullName).pulls.push(stored);
    return stored;
  }

  addFault(spec: GitHubFaultSpec): void {
    this.faults.add(spec);
  }

  requestsOf(route: GitHubRoute): GitHubRequest[] {
    return this.requests.filter((r) => r.route === route);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.faults.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiUrl);
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    const query = Object.fromEntries(url.searchParams);
    const record: GitHubRequest = {
      method,
      path: url.pathname,
      route: undefined,
      query,
      body: text,
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    const send = (answer: Answer, grant?: TokenGrant) => {
      record.status = answer.status;
      const headers: Record<string, string> = {
        'content-type': 'application/json; charset=utf-8',
        'x-github-request-id': randomUUID().toUpperCase(),
        'x-github-api-version-selected': '2022-11-28',
        ...(grant ? this.rateLimitHeaders(grant) : {}),
        ...answer.headers,
      };
      res.writeHead(answer.status, headers);
      res.end(answer.status === 204 ? undefined : JSON.stringify(answer.body));
    };

    const grant = this.authenticate(req.headers.authorization);
    if (!grant)
      return send({ status: 401, body: { message: 'Bad credentials', documentation_url: docs, status: '401' } });
    grant.used++;
    if (grant.used > this.rateLimit) {
      return send(
        {
          status: 403,
          body: {
            message:
              'API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.',
            documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
          },
        },
        grant,
      );
    }

    const found = routes
      .filter((r) => r.method === method)
      .map((r) => ({ entry: r, match: r.pattern.exec(url.pathname) }))
      .find((r) => r.match !== null);
    if (!found?.match)
      return send({ status: 404, body: { message: 'Not Found', documentation_url: docs, status: '404' } }, grant);
    const { entry, match } = found;
    record.route = entry.route;

    let body: Record<string, unknown> = {};
    if (text !== '') {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
        record.body = body;
      } catch {
        return send(
          { status: 400, body: { message: 'Problems parsing JSON', documentation_url: docs, status: '400' } },
          grant,
        );
      }
    }

    const fault = await this.faults.take(entry.route);
    if (fault) return send(faultAnswer(fault, entry), grant);

    if (!allows(grant.permissions, entry.needs))
      return send(forbidden(entry.needs.scopes.map((s) => `${s}=${entry.needs.level}`)), grant);

    const [, owner = '', name = '', param = ''] = match;
    const context: RouteContext = {
      repo: this.repo(`${owner}/${name}`),
      owner,
      name,
      param,
      query,
      body,
      login: grant.login,
      apiUrl: this.apiUrl,
      ids: this.ids,
    };
    try {
      send(handlers[entry.route](context), grant);
    } catch (error) {
      if (error instanceof HttpError) return send({ status: error.status, body: error.body }, grant);
      throw error;
    }
  }

  private authenticate(header: string | undefined): TokenGrant | undefined {
    // GitHub accepts both schemes; @actions/github sends `token …`, most other clients `Bearer …`.
    const match = /^(?:bearer|token)\s+(\S+)$/i.exec(header ?? '');
    return match ? this.tokens.get(match[1]!) : undefined;
  }

  private rateLimitHeaders(grant: TokenGrant): Record<string, string> {
    const used = Math.min(grant.used, this.rateLimit);
    return {
      'x-ratelimit-limit': String(this.rateLimit),
      'x-ratelimit-remaining': String(this.rateLimit - used),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'core',
    };
  }
}

function allows(permissions: TokenPermissions, needs: RouteEntry['needs']): boolean {
  const rank = { none: 0, read: 1, write: 2 };
  return needs.scopes.some((scope) => rank[permissions[scope] ?? 'write'] >= rank[needs.level]);
}

function forbidden(accepted: string[]): Answer {
  return {
    status: 403,
    headers: { 'x-accepted-github-permissions': accepted.join('; ') },
    body: { message: 'Resource not accessible by integration', documentation_url: docs, status: '403' },
  };
}

function faultAnswer(fault: GitHubFaultSpec, entry: RouteEntry): Answer {
  switch (fault.kind) {
    case 'forbidden':
      return forbidden(
        fault.permission ? [fault.permission] : entry.needs.scopes.map((s) => `${s}=${entry.needs.level}`),
      );
    case 'not-found':
      return { status: 404, body: { message: 'Not Found', documentation_url: docs, status: '404' } };
    case 'secondary-rate-limit':
      return {
        status: 403,
        headers: { 'retry-after': String(fault.retryAfterSeconds ?? 1) },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.',
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: '403',
        },
      };
    case 'server-error':
      return { status: fault.status ?? 502, body: { message: 'Server Error' } };
    default:
      return { status: 500, body: { message: `unhandled fault ${fault.kind}` } };
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
