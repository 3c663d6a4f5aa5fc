import type { DeployRecord } from '../core/record';
import { type RenderContext, renderSummary } from './render';

/**
 * Appends the deploy's job summary. The summary file is the runner's, not GitHub's API: no token or permission is
 * needed, so it is written even when every API call is refused.
 */
export async function writeDeploySummary(
  write: (markdown: string) => Promise<void>,
  record: DeployRecord,
  context: RenderContext,
): Promise<string> {
  const markdown = renderSummary(record, context);
  await write(markdown);
  return markdown;
}
