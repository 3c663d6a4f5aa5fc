import type { RecordCancellation } from '../core/record';

/** The job summary of a cancelled run (main or post step): what runs now, and the command that finishes the rollback. */
export function cancelledSummary(what: string, cancellation: RecordCancellation): string {
  const lines = cancellation.runsNow.map((line) => `- ${line}`).join('\n');
  const finish = cancellation.finish
    ? `\nTo finish the rollback, run:\n\n\`\`\`sh\n${cancellation.finish}\n\`\`\`\n`
    : '\nNothing is left to roll back.\n';
  return `### ${what}: cancelled\n\nWhat runs now:\n\n${lines}\n${finish}`;
}
