import { copyFile, cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';

export const SAMPLE_APP_DIR = join(repoRoot(), 'examples/sample-app');

/**
 * A build context of the sample app: its files plus Debian's static busybox (from busybox-static), which is not
 * committed. Returns the directory to pass to `docker build`.
 */
export async function sampleAppContext(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adk-sample-'));
  await cp(SAMPLE_APP_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('/busybox') });
  await copyFile('/bin/busybox', join(dir, 'busybox'));
  return dir;
}
