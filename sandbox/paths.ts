import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root, found from the working directory (jest, npm scripts and tsx all run from inside the repo).
 * Avoids __dirname / import.meta, which differ between jest's CommonJS and tsx's ESM.
 */
export function repoRoot(): string {
  let dir = process.cwd();
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'aws-deploy-kit'
    )
      return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Run this from inside the aws-deploy-kit repository');
    dir = parent;
  }
}
