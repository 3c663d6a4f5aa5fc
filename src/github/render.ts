import { describeBake } from '../core/bake-summary';
import { cell, code, table } from '../core/markdown';
import { formatDuration } from '../core/poller';
import type { DeployRecord, PhaseName, RecordPhase } from '../core/record';
import { redactUrl } from '../core/redact';

/** Where a deploy stands, as the comment's headline says it. */
export type DisplayPhase =
  | 'building'
  | 'deploying'
  | 'verifying'
  | 'baking'
  | 'rolling back'
  | 'live'
  | 'rolled back'
  | 'failed'
  | 'cancelled';

export interface RenderContext {
  /** The environment name (the record's, or the report's `environment` input). */
  environment?: string;
  /** The service, shown when it is not the default one (a repository with a frontend and a backend). */
  service?: string;
  /** GITHUB_SERVER_URL, for commit links. */
  serverUrl?: string;
  /** owner/repo, for commit links. */
  repository?: string;
  /** The workflow run's URL. */
  runUrl?: string;
  /** "Now": the end of a phase still running. Passed in so the output is reproducible. */
  now: number;
}

const stepOf: Record<PhaseName, DisplayPhase | undefined> = {
  build: 'building',
  promote: 'deploying',
  deploy: 'deploying',
  verify: 'verifying',
  bake: 'baking',
  rollback: 'rolling back',
  report: undefined,
};
const nextStep: Partial<Record<PhaseName, DisplayPhase>> = {
  build: 'deploying',
  promote: 'deploying',
  deploy: 'verifying',
  verify: 'verifying',
};

export function displayPhase(record: DeployRecord): DisplayPhase {
  switch (record.outcome) {
    case 'succeeded':
      return 'live';
    case 'rolled-back':
      return 'rolled back';
    case 'failed':
    case 'rollback-failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'in-progress': {
      const phases = record.phases.filter((p) => stepOf[p.name] !== undefined);
      const running = phases.findLast((p) => p.status === 'running');
      if (running) return stepOf[running.name]!;
      const last = phases.at(-1);
      if (!last) return 'building';
      return last.status === 'succeeded' || last.status === 'skipped'
        ? (nextStep[last.name] ?? stepOf[last.name]!)
        : stepOf[last.name]!;
    }
  }
}

const badge: Record<DisplayPhase, string> = {
  building: '🔨 building',
  deploying: '🚚 deploying',
  verifying: '🩺 verifying',
  baking: '⏳ baking',
  'rolling back': '↩️ rolling back',
  live: '✅ live',
  'rolled back': '↩️ rolled back',
  failed: '❌ failed',
  cancelled: '⏹️ cancelled',
};

/** building → deploying → verifying → live, with the current step in bold and the finished ones ticked. */
export function progressLine(record: DeployRecord): string {
  const current = displayPhase(record);
  const steps: DisplayPhase[] = ['building', 'deploying', 'verifying'];
  if (record.bake || record.phases.some((p) => p.name === 'bake')) steps.push('baking');
  if (record.phases.some((p) => p.name === 'rollback') || record.outcome === 'rolled-back') steps.push('rolling back');
  // A failure (or a cancel) stops the line at the step it hit; otherwise it ends at where the deploy ends up.
  const failedAt = current === 'failed' || current === 'cancelled' ? failedStep(record) : undefined;
  if (!failedAt)
    steps.push(current === 'rolled back' || current === 'failed' || current === 'cancelled' ? current : 'live');
  const at = steps.indexOf(failedAt ?? current);
  const mark = current === 'cancelled' ? ' ⏹️ cancelled' : ' ✗';
  return steps
    .slice(0, failedAt ? at + 1 : steps.length)
    .map((step, i) => {
      // A step with no phase in the record never ran (e.g. no verify after a failed refresh): say so, not ✓.
      if (i < at) return `${step} ${stepRan(record, step) ? (stepFailed(record, step) ? '✗' : '✓') : '–'}`;
      if (i === at) return `**${step}${failedAt ? mark : ''}**`;
      return step;
    })
    .join(' → ');
}

function stepRan(record: DeployRecord, step: DisplayPhase): boolean {
  return record.phases.some((p) => stepOf[p.name] === step);
}

function stepFailed(record: DeployRecord, step: DisplayPhase): boolean {
  return record.phases.some((p) => p.status === 'failed' && stepOf[p.name] === step);
}

function failedStep(record: DeployRecord): DisplayPhase | undefined {
  const failed = record.phases.findLast((p) => p.status === 'failed' && stepOf[p.name]);
  return failed ? stepOf[failed.name] : undefined;
}

/** A URL safe to show and link to: http(s) only, and never with credentials in it (dropped, not masked). */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? redactUrl(url, '') : undefined;
  } catch {
    return undefined;
  }
}

function link(text: string, url: string | undefined): string {
  const safe = safeUrl(url);
  return safe ? `[${text}](${safe})` : text;
}

function commitLink(sha: string, ctx: RenderContext): string {
  const url = ctx.repository ? `${ctx.serverUrl ?? 'https://github.com'}/${ctx.repository}/commit/${sha}` : undefined;
  return link(code(sha.slice(0, 7)), url);
}

function phaseMs(phase: RecordPhase, now: number): number {
  const start = Date.parse(phase.startedAt);
  const end = phase.endedAt ? Date.parse(phase.endedAt) : now;
  return Math.max(end - start, 0);
}

/** The platform operations of the deploy (App Runner operation, instance refresh, ECS service deployment). */
function operationsText(record: DeployRecord): string | undefined {
  if (record.operations.length === 0) return undefined;
  return record.operations
    .map((op) => `${cell(op.kind.replace(/-/g, ' '))} ${code(op.id)}${op.status ? ` ${cell(op.status)}` : ''}`)
    .join('<br>');
}

/** The revision the deploy put in place and the one before it (ECS task definitions), when the record has them. */
function revisionText(record: DeployRecord): string | undefined {
  const now = record.target?.revision;
  const before = record.previous?.revision;
  if (!now && !before) return undefined;
  return `${now ? code(now) : '(unknown)'}${before ? ` (was ${code(before)})` : ''}`;
}

function targetText(record: DeployRecord): string | undefined {
  if (!record.target) return undefined;
  const cluster = record.target.cluster ? ` in cluster ${code(record.target.cluster)}` : '';
  // Records of earlier versions name no resource: their platform's name stands for it.
  return `${record.target.resource ?? record.target.kind} ${code(record.target.id)}${cluster}`;
}

function healthText(record: DeployRecord): string | undefined {
  const health = record.health;
  if (!health) return undefined;
  const checks = `${health.attempts} check${health.attempts === 1 ? '' : 's'}`;
  const status = health.lastStatus !== undefined ? `, last HTTP ${health.lastStatus}` : '';
  const detail = health.detail ? `: ${cell(health.detail)}` : '';
  return `${health.healthy ? '✅ healthy' : '❌ unhealthy'} after ${checks}${status}${detail}`;
}

function previousText(record: DeployRecord, ctx: RenderContext): string | undefined {
  const previous = record.previous;
  if (!previous || (!previous.commit && !previous.digest && !previous.image)) return undefined;
  const parts: string[] = [];
  if (previous.commit) parts.push(commitLink(previous.commit, ctx));
  if (previous.digest) parts.push(code(previous.digest));
  else if (previous.image) parts.push(code(previous.image));
  return parts.join(' ');
}

/** How to get back to the previous version, in the words a person on call needs. */
export function rollbackText(record: DeployRecord, ctx: RenderContext): string {
  const environment = ctx.environment ?? record.environment;
  const previous = record.previous?.commit ? code(record.previous.commit.slice(0, 7)) : 'the previous good version';
  if (record.outcome === 'rolled-back') return `Already rolled back to ${previous}.`;
  if (record.outcome === 'cancelled' && record.cancellation) {
    return record.cancellation.finish
      ? `Finish the rollback: ${code(record.cancellation.finish)}`
      : 'Nothing left to roll back: the cancel put everything this deploy changed back.';
  }
  if (!record.previous?.commit && !record.previous?.digest && !record.previous?.image) {
    return 'Nothing to roll back to yet: this is the first recorded deploy of this target.';
  }
  const service = ctx.service ? `, service: ${ctx.service}` : '';
  const env = environment ? ` with ${code(`environment: ${environment}${service}`)}` : '';
  const serviceFlag = ctx.service ? ` -f service=${ctx.service}` : '';
  const cli = environment
    ? ` or ${code(`gh workflow run rollback.yml -f environment=${environment}${serviceFlag}`)}`
    : '';
  return `Actions → **rollback** → Run workflow${env}${cli} (back to ${previous}, no rebuild).`;
}

/** The facts of a deploy as a two-column table: shared by the comment and the job summary. */
export function renderFacts(record: DeployRecord, ctx: RenderContext): string {
  const rows: [string, string | undefined][] = [
    [
      'Status',
      `${badge[displayPhase(record)]}${record.outcome === 'rollback-failed' ? ' (the rollback failed too)' : ''}`,
    ],
    [
      'Environment',
      (ctx.environment ?? record.environment) ? code((ctx.environment ?? record.environment)!) : undefined,
    ],
    ['Service', ctx.service ? code(ctx.service) : undefined],
    ['Commit', commitLink(record.commit, ctx)],
    ['Image digest', record.image ? code(`${record.image.repository}@${record.image.digest}`) : undefined],
    ['Tags', record.image?.tags.length ? record.image.tags.map(code).join(', ') : undefined],
    [
      'Image',
      record.image ? (record.image.reused ? 'reused (already pushed, not rebuilt)' : 'built and pushed') : undefined,
    ],
    ['Target', targetText(record)],
    ['Operation', operationsText(record)],
    ['Revision', revisionText(record)],
    [
      'Service URL',
      safeUrl(record.target?.url) ? link(cell(safeUrl(record.target?.url)!), record.target?.url) : undefined,
    ],
    ['Durations', durationsText(record, ctx.now)],
    ['Health', healthText(record)],
    ['Bake', describeBake(record, { name: code, text: cell })],
    ['Runs now', record.cancellation?.runsNow.length ? record.cancellation.runsNow.map(cell).join('<br>') : undefined],
    ['Previous version', previousText(record, ctx)],
    ['Roll back', rollbackText(record, ctx)],
    // A cancel's message is the two rows above it in sentences.
    ['Error', record.error && !record.cancellation ? cell(record.error) : undefined],
    ['Run', ctx.runUrl ? link(cell(ctx.runUrl.replace(/^https?:\/\/[^/]+\//, '')), ctx.runUrl) : undefined],
  ];
  return table(rows.flatMap(([name, value]) => (value !== undefined ? [[`**${name}**`, value]] : [])));
}

function durationsText(record: DeployRecord, now: number): string | undefined {
  const phases = record.phases.filter((p) => p.status !== 'skipped');
  if (phases.length === 0) return undefined;
  return phases
    .map(
      (p) =>
        `${p.name} ${formatDuration(phaseMs(p, now))}${p.status === 'running' ? ' (running)' : p.status === 'failed' ? ' ✗' : ''}`,
    )
    .join(' · ');
}

/** One row per phase: status, duration, detail. */
export function renderPhases(record: DeployRecord, ctx: RenderContext): string {
  if (record.phases.length === 0) return '_No phase has started yet._';
  const icon = { running: '⏳', succeeded: '✅', failed: '❌', skipped: '⏭️' } as const;
  const rows = record.phases.map((p) => [
    p.name,
    `${icon[p.status]} ${p.status}`,
    p.status === 'skipped' ? '' : formatDuration(phaseMs(p, ctx.now)),
    p.detail ? cell(p.detail) : '',
  ]);
  return table(rows, ['Phase', 'Status', 'Duration', 'Detail']);
}

/** Task text Mermaid accepts: no colon, semicolon or hash, which end or comment a task line. */
function mermaidText(text: string): string {
  return text.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** The phases over time as a Mermaid gantt, which GitHub renders in comments and job summaries. */
export function renderGantt(record: DeployRecord, ctx: RenderContext): string | undefined {
  const phases = record.phases.filter((p) => p.status !== 'skipped');
  if (phases.length === 0) return undefined;
  const tag = { running: 'active, ', failed: 'crit, ', succeeded: 'done, ', skipped: '' } as const;
  const environment = ctx.environment ?? record.environment;
  const lines = [
    '```mermaid',
    'gantt',
    `  title ${mermaidText(`Deploy of ${record.commit.slice(0, 7)}${environment ? ` to ${environment}` : ''}`)}`,
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
    '  section Phases',
  ];
  phases.forEach((p, i) => {
    const start = Date.parse(p.startedAt);
    // A phase of a few milliseconds would not be drawn at all.
    const end = Math.max(start + phaseMs(p, ctx.now), start + 1000);
    lines.push(
      `  ${mermaidText(`${p.name} ${formatDuration(phaseMs(p, ctx.now))}`)} :${tag[p.status]}p${i}, ${start}, ${end}`,
    );
  });
  lines.push('```');
  return lines.join('\n');
}

function footer(ctx: RenderContext): string {
  const at = new Date(ctx.now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const run = ctx.runUrl ? ` by ${link('this run', ctx.runUrl)}` : '';
  return `<sub>Updated${run} at ${at} · aws-deploy-kit</sub>`;
}

function title(record: DeployRecord, ctx: RenderContext): string {
  const environment = ctx.environment ?? record.environment;
  const where = [environment, ctx.service].filter((part) => part !== undefined).map((part) => cell(part!));
  return `${where.length > 0 ? `${where.join(' · ')}: ` : ''}${badge[displayPhase(record)]}`;
}

/** The service's row in an environment's comment: service, status, commit, URL (cells of markdown). */
export function serviceRow(record: DeployRecord, service: string, ctx: RenderContext): string[] {
  const url = safeUrl(record.target?.url);
  return [code(service), badge[displayPhase(record)], commitLink(record.commit, ctx), url ? link(cell(url), url) : '–'];
}

/** The sticky pull-request comment (without its marker, which comment.ts adds). */
export function renderComment(record: DeployRecord, ctx: RenderContext): string {
  const gantt = renderGantt(record, ctx);
  return [
    `### Deploy ${title(record, ctx)}`,
    '',
    progressLine(record),
    '',
    renderFacts(record, ctx),
    '',
    '<details><summary>Phases</summary>',
    '',
    renderPhases(record, ctx),
    ...(gantt ? ['', gantt] : []),
    '',
    '</details>',
    '',
    footer(ctx),
  ].join('\n');
}

/** The job summary: the same facts, the phases and their gantt, shown open. */
export function renderSummary(record: DeployRecord, ctx: RenderContext): string {
  const gantt = renderGantt(record, ctx);
  return [
    `## Deploy ${title(record, ctx)}`,
    '',
    progressLine(record),
    '',
    renderFacts(record, ctx),
    '',
    '### Phases',
    '',
    renderPhases(record, ctx),
    ...(gantt ? ['', gantt] : []),
    '',
  ].join('\n');
}
