import type { GitHubRoute } from './faults';
import {
  type DeploymentState,
  deploymentStates,
  type IdSequence,
  type RepoState,
  type StoredComment,
  type StoredDeployment,
  type StoredPull,
  type StoredStatus,
} from './state';

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteContext {
  repo: RepoState;
  owner: string;
  name: string;
  /** The path parameter after the repository: a deployment id, a SHA, an issue number or a comment id. */
  param: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  login: string;
  apiUrl: string;
  ids: { deployment: IdSequence; status: IdSequence; comment: IdSequence };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

const docs = 'https://docs.github.com/rest';
const notFound = () => new HttpError(404, { message: 'Not Found', documentation_url: docs, status: '404' });
const invalid = (resource: string, field: string, code = 'invalid', message?: string) =>
  new HttpError(422, {
    message: 'Validation Failed',
    errors: [{ resource, field, code, ...(message ? { message } : {}) }],
    documentation_url: docs,
    status: '422',
  });

function now(): string {
  return new Date().toISOString();
}

function stringField(body: Record<string, unknown>, field: string, resource: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(resource, field);
  return value;
}

/** GitHub's page/per_page pagination with a Link header Octokit's paginate() follows. */
function paginate<T>(items: T[], context: RouteContext, path: string): Answer {
  const perPage = Math.min(Math.max(Number(context.query.per_page ?? 30) || 30, 1), 100);
  const page = Math.max(Number(context.query.page ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (p: number, rel: string) => {
    const params = new URLSearchParams({ ...context.query, per_page: String(perPage), page: String(p) });
    return `<${context.apiUrl}${path}?${params}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
  if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage),
    headers: links.length > 0 ? { link: links.join(', ') } : {},
  };
}

function repoUrl(c: RouteContext): string {
  return `${c.apiUrl}/repos/${c.owner}/${c.name}`;
}

function bot(login: string) {
  return { login, id: 41898282, type: login.endsWith('[bot]') ? 'Bot' : 'User' };
}

function deploymentJson(c: RouteContext, d: StoredDeployment) {
  const { request: _request, ...fields } = d;
  return {
    url: `${repoUrl(c)}/deployments/${d.id}`,
    node_id: `DE_${d.id}`,
    ...fields,
    creator: bot(c.login),
    statuses_url: `${repoUrl(c)}/deployments/${d.id}/statuses`,
    repository_url: repoUrl(c),
  };
}

function statusJson(c: RouteContext, s: StoredStatus) {
  return {
    url: `${repoUrl(c)}/deployments/${s.deployment_id}/statuses/${s.id}`,
    node_id: `DES_${s.id}`,
    ...s,
    creator: bot(c.login),
    deployment_url: `${repoUrl(c)}/deployments/${s.deployment_id}`,
    repository_url: repoUrl(c),
  };
}

function pullJson(c: RouteContext, p: StoredPull) {
  return {
    url: `${repoUrl(c)}/pulls/${p.number}`,
    html_url: `https://github.com/${c.owner}/${c.name}/pull/${p.number}`,
    number: p.number,
    state: p.state,
    title: p.title,
    head: { sha: p.headSha, ref: p.headRef },
    base: { ref: p.baseRef },
    merged_at: p.merged ? now() : null,
  };
}

function commentJson(c: RouteContext, m: StoredComment) {
  return {
    id: m.id,
    node_id: `IC_${m.id}`,
    url: `${repoUrl(c)}/issues/comments/${m.id}`,
    html_url: `https://github.com/${c.owner}/${c.name}/pull/${m.issue}#issuecomment-${m.id}`,
    issue_url: `${repoUrl(c)}/issues/${m.issue}`,
    body: m.body,
    user: bot(m.user),
    created_at: m.created_at,
    updated_at: m.updated_at,
    author_association: 'NONE',
  };
}

function deploymentOf(c: RouteContext): StoredDeployment {
  const deployment = c.repo.deployments.find((d) => d.id === Number(c.param));
  if (!deployment) throw notFound();
  return deployment;
}

function commentOf(c: RouteContext): StoredComment {
  const comment = c.repo.comments.find((m) => m.id === Number(c.param));
  if (!comment) throw notFound();
  return comment;
}

function createDeployment(c: RouteContext): Answer {
  const ref = stringField(c.body, 'ref', 'Deployment');
  if (!ref) throw invalid('Deployment', 'ref', 'missing_field');
  const sha = /^[0-9a-f]{40}$/i.test(ref) ? ref.toLowerCase() : c.repo.refs.get(ref);
  if (!sha) throw new HttpError(422, { message: `No ref found for: ${ref}`, documentation_url: docs, status: '422' });
  const required = c.body.required_contexts;
  if (required !== undefined && !Array.isArray(required)) throw invalid('Deployment', 'required_contexts');
  const blocking =
    required === undefined
      ? c.repo.pendingContexts
      : c.repo.pendingContexts.filter((x) => (required as unknown[]).includes(x));
  if (blocking.length > 0) {
    throw new HttpError(409, {
      message: `Conflict: Commit status checks failed for ${ref}.`,
      errors: blocking.map((context) => ({
        contexts: [{ context, state: 'pending' }],
        resource: 'Deployment',
        field: 'required_contexts',
        code: 'invalid',
      })),
      documentation_url: docs,
      status: '409',
    });
  }
  const environment = stringField(c.body, 'environment', 'Deployment') ?? 'production';
  const production = c.body.production_environment;
  const transient = c.body.transient_environment;
  if (production !== undefined && typeof production !== 'boolean')
    throw invalid('Deployment', 'production_environment');
  if (transient !== undefined && typeof transient !== 'boolean') throw invalid('Deployment', 'transient_environment');
  const payload = c.body.payload ?? {};
  if (typeof payload !== 'string' && (typeof payload !== 'object' || Array.isArray(payload)))
    throw invalid('Deployment', 'payload');
  const at = now();
  const deployment: StoredDeployment = {
    id: c.ids.deployment.take(),
    sha,
    ref,
    task: stringField(c.body, 'task', 'Deployment') ?? 'deploy',
    environment,
    original_environment: environment,
    payload,
    description: stringField(c.body, 'description', 'Deployment') ?? null,
    transient_environment: transient ?? false,
    production_environment: production ?? environment === 'production',
    created_at: at,
    updated_at: at,
    request: { auto_merge: c.body.auto_merge, required_contexts: required },
  };
  c.repo.deployments.push(deployment);
  return { status: 201, body: deploymentJson(c, deployment) };
}

function listDeployments(c: RouteContext): Answer {
  const { sha, ref, task, environment } = c.query;
  const matching = c.repo.deployments
    .filter(
      (d) =>
        (sha === undefined || d.sha === sha) &&
        (ref === undefined || d.ref === ref) &&
        (task === undefined || d.task === task) &&
        (environment === undefined || d.environment === environment),
    )
    .sort((a, b) => b.id - a.id)
    .map((d) => deploymentJson(c, d));
  return paginate(matching, c, `/repos/${c.owner}/${c.name}/deployments`);
}

function createStatus(c: RouteContext): Answer {
  const deployment = deploymentOf(c);
  const state = stringField(c.body, 'state', 'DeploymentStatus');
  if (!state || !deploymentStates.includes(state as DeploymentState)) throw invalid('DeploymentStatus', 'state');
  const environment = stringField(c.body, 'environment', 'DeploymentStatus');
  // Setting a status may move the deployment to another environment (GitHub documents this).
  if (environment) deployment.environment = environment;
  const at = now();
  const status: StoredStatus = {
    id: c.ids.status.take(),
    deployment_id: deployment.id,
    state: state as DeploymentState,
    description: (stringField(c.body, 'description', 'DeploymentStatus') ?? '').slice(0, 140),
    environment: deployment.environment,
    environment_url: stringField(c.body, 'environment_url', 'DeploymentStatus') ?? '',
    log_url: stringField(c.body, 'log_url', 'DeploymentStatus') ?? '',
    target_url:
      stringField(c.body, 'log_url', 'DeploymentStatus') ?? stringField(c.body, 'target_url', 'DeploymentStatus') ?? '',
    created_at: at,
    updated_at: at,
  };
  c.repo.statuses.push(status);
  deployment.updated_at = at;
  if (status.state === 'success' && c.body.auto_inactive !== false) {
    // Earlier successful deployments of the same environment stop being "active"; other environments are untouched.
    for (const earlier of c.repo.deployments) {
      if (earlier.id >= deployment.id || earlier.environment !== deployment.environment) continue;
      if (c.repo.latestStatus(earlier.id)?.state !== 'success') continue;
      c.repo.statuses.push({
        ...status,
        id: c.ids.status.take(),
        deployment_id: earlier.id,
        state: 'inactive',
        description: '',
        environment_url: c.repo.latestStatus(earlier.id)?.environment_url ?? '',
        log_url: c.repo.latestStatus(earlier.id)?.log_url ?? '',
        target_url: c.repo.latestStatus(earlier.id)?.target_url ?? '',
      });
    }
  }
  return { status: 201, body: statusJson(c, status) };
}

function listStatuses(c: RouteContext): Answer {
  const deployment = deploymentOf(c);
  const statuses = c.repo
    .statusesOf(deployment.id)
    .sort((a, b) => b.id - a.id)
    .map((s) => statusJson(c, s));
  return paginate(statuses, c, `/repos/${c.owner}/${c.name}/deployments/${deployment.id}/statuses`);
}

function listCommitPulls(c: RouteContext): Answer {
  const sha = c.param.toLowerCase();
  const pulls = c.repo.pulls
    .filter((p) => p.commits.some((commit) => commit.toLowerCase() === sha))
    .map((p) => pullJson(c, p));
  return paginate(pulls, c, `/repos/${c.owner}/${c.name}/commits/${c.param}/pulls`);
}

function issueNumber(c: RouteContext): number {
  const issue = Number(c.param);
  if (!c.repo.issueExists(issue)) throw notFound();
  return issue;
}

function listComments(c: RouteContext): Answer {
  const issue = issueNumber(c);
  const comments = c.repo.comments
    .filter((m) => m.issue === issue)
    .sort((a, b) => a.id - b.id)
    .map((m) => commentJson(c, m));
  return paginate(comments, c, `/repos/${c.owner}/${c.name}/issues/${issue}/comments`);
}

function commentBody(c: RouteContext): string {
  const body = stringField(c.body, 'body', 'IssueComment');
  if (body === undefined || body === '') throw invalid('IssueComment', 'body', 'missing_field');
  if (body.length > 65536)
    throw invalid('IssueComment', 'body', 'custom', 'Body is too long (maximum is 65536 characters)');
  return body;
}

function createComment(c: RouteContext): Answer {
  const issue = issueNumber(c);
  const at = now();
  const comment: StoredComment = {
    id: c.ids.comment.take(),
    issue,
    body: commentBody(c),
    user: c.login,
    created_at: at,
    updated_at: at,
  };
  c.repo.comments.push(comment);
  return { status: 201, body: commentJson(c, comment) };
}

function updateComment(c: RouteContext): Answer {
  const comment = commentOf(c);
  comment.body = commentBody(c);
  comment.updated_at = now();
  return { status: 200, body: commentJson(c, comment) };
}

function deleteComment(c: RouteContext): Answer {
  const comment = commentOf(c);
  c.repo.comments.splice(c.repo.comments.indexOf(comment), 1);
  return { status: 204 };
}

function getDeployment(c: RouteContext): Answer {
  return { status: 200, body: deploymentJson(c, deploymentOf(c)) };
}

export const handlers: Record<GitHubRoute, (c: RouteContext) => Answer> = {
  'create-deployment': createDeployment,
  'list-deployments': listDeployments,
  'get-deployment': getDeployment,
  'create-deployment-status': createStatus,
  'list-deployment-statuses': listStatuses,
  'list-commit-pulls': listCommitPulls,
  'list-issue-comments': listComments,
  'create-issue-comment': createComment,
  'update-issue-comment': updateComment,
  'delete-issue-comment': deleteComment,
};
