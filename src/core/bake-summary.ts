import { formatDuration } from './poller';
import type { DeployRecord } from './record';

/** How describeBake writes an alarm's name and a piece of text: as they are, or as markdown (code span, cell). */
export interface BakeFormat {
  name(name: string): string;
  text(text: string): string;
}

const plain: BakeFormat = { name: (n) => n, text: (t) => t };

/** The bake in one line, for a summary or a comment: passed (or still baking), or which alarm fired, why and when. */
export function describeBake(record: DeployRecord, format: BakeFormat = plain): string | undefined {
  const b = record.bake;
  if (!b) return undefined;
  const before = b.alreadyInAlarm.length
    ? `; already in ALARM before the deploy (not held against it): ${b.alreadyInAlarm.map(format.name).join(', ')}`
    : '';
  if (b.fired) {
    return `🚨 ${format.name(b.fired.name)} went into ALARM at ${format.text(b.fired.at)}: ${format.text(b.fired.reason)}${before}`;
  }
  const phase = record.phases.findLast((p) => p.name === 'bake');
  const verdict = phase?.status === 'succeeded' ? '✅ passed' : phase?.status === 'running' ? '⏳ baking' : '⏹️ stopped';
  const watched = b.alarms.map((a) => `${format.name(a.name)} ${format.text(a.state)}`).join(', ') || 'no alarm found';
  return `${verdict}: ${formatDuration(b.seconds * 1000)} watching ${watched}${before}`;
}
