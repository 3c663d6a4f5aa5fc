import type { Logger } from '../core/logger';
import type { RecordCancellation } from '../core/record';
import type { AbandonedRun } from '../targets/target';

/** The job summary of a cancelled run (main or post step): what runs now, and the command that finishes the rollback. */
export function cancelledSummary(what: string, cancellation: RecordCancellation): string {
  const lines = cancellation.runsNow.map((line) => `- ${line}`).join('\n');
  const finish = cancellation.finish
    ? `\nTo finish the rollback, run:\n\n\`\`\`sh\n${cancellation.finish}\n\`\`\`\n`
    : '\nNothing is left to roll back.\n';
  return `### ${what}: cancelled\n\nWhat runs now:\n\n${lines}\n${finish}`;
}

/**
 * What a post step says about a run its main step left behind: a warning and the job summary when something was
 * stopped, put back or is left to do; an info line when everything had ended by itself.
 */
export async function reportAbandoned(
  deps: { logger: Logger; writeSummary(markdown: string): Promise<void> },
  step: string,
  found: AbandonedRun,
): Promise<void> {
  if (!found.changed) {
    deps.logger.info(`The ${step} step ended early: ${found.summary}`);
    return;
  }
  deps.logger.warning(`The ${step} step ended early: ${found.summary}`);
  await deps.writeSummary(cancelledSummary(found.what, found.cancellation)).catch((error: unknown) => {
    deps.logger.warning(`Could not write the job summary: ${(error as Error).message}`);
  });
}
