import type { DeleteFailure } from '../../aws/ecr-cleanup';
import { cell, code, facts, inline, table } from '../../core/markdown';
import type { CleanupPlan, PlannedImage } from '../../deploy/cleanup-plan';

/** 1536 -> "1.5 KiB": ECR sizes are bytes of compressed layers. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const shortDigest = (digest: string) => `${digest.slice(0, 19)}…`;
const day = (iso?: string) => iso?.slice(0, 10) ?? '?';

function what(image: PlannedImage, failed?: DeleteFailure): string {
  if (image.action === 'keep') return 'keep';
  return failed ? 'NOT deleted' : 'delete';
}

/** The plan as the log shows it: one line per image, what goes first. */
export function planText(plan: CleanupPlan, failures: readonly DeleteFailure[] = []): string {
  const rows = plan.images.map((image) => {
    const failed = failures.find((f) => f.digest === image.digest);
    return [
      what(image, failed),
      shortDigest(image.digest),
      image.tags.join(',') || '(untagged)',
      day(image.pushedAt),
      formatBytes(image.sizeInBytes ?? 0),
      failed ? `${failed.code}: ${failed.reason}` : image.reasons.join('; '),
    ];
  });
  const header = ['ACTION', 'IMAGE', 'TAGS', 'PUSHED', 'SIZE', 'WHY'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// GitHub caps a step summary at 1 MiB: a repository of thousands of images is shown in part (the plan output has all).
const SUMMARY_ROWS = 500;

export function planSummary(options: {
  repository: string;
  plan: CleanupPlan;
  dryRun: boolean;
  deleted: number;
  failures: readonly DeleteFailure[];
  notes: readonly string[];
}): string {
  const { plan, dryRun } = options;
  const freed = plan.images
    .filter((i) => i.action === 'delete' && !options.failures.some((f) => f.digest === i.digest))
    .reduce((sum, i) => sum + (i.sizeInBytes ?? 0), 0);
  const title = dryRun
    ? `### ECR cleanup of ${inline(options.repository)}: dry run, ${plan.deleted} image(s) would go (${formatBytes(plan.bytesFreed)})`
    : `### ECR cleanup of ${inline(options.repository)}: ${options.deleted} image(s) deleted, ${formatBytes(freed)} freed`;
  const rows: [string, string][] = [
    ['Kept', String(plan.kept)],
    [dryRun ? 'Would delete' : 'Deleted', String(dryRun ? plan.deleted : options.deleted)],
    [dryRun ? 'Would free' : 'Freed', formatBytes(dryRun ? plan.bytesFreed : freed)],
  ];
  if (options.failures.length > 0) rows.push(['Not deleted (ECR refused)', String(options.failures.length)]);
  const lines = [title, '', facts(rows), ''];
  if (dryRun) lines.push('Nothing was deleted: set `dry-run: false` once this plan is right.', '');
  for (const note of options.notes) lines.push(`> ${inline(note)}`, '');
  const shown = plan.images.slice(0, SUMMARY_ROWS);
  lines.push(
    table(
      shown.map((image) => {
        const failed = options.failures.find((f) => f.digest === image.digest);
        return [
          what(image, failed),
          code(shortDigest(image.digest)),
          image.tags.length > 0 ? image.tags.map(code).join(' ') : '(untagged)',
          day(image.pushedAt),
          formatBytes(image.sizeInBytes ?? 0),
          cell(failed ? `${failed.code}: ${failed.reason}` : image.reasons.join('; ')),
        ];
      }),
      ['Action', 'Image', 'Tags', 'Pushed', 'Size', 'Why'],
    ),
  );
  if (plan.images.length > shown.length)
    lines.push('', `${plan.images.length - shown.length} more image(s): see the \`plan\` output.`);
  return `${lines.join('\n')}\n`;
}
