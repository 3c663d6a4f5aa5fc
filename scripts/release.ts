// npm run release -- vX.Y.Z: sets the version, points the reusable workflows' own `uses:` at the release, rebuilds
// dist/, commits, tags vX.Y.Z and moves the major tag (vX). It pushes nothing; it prints the push. See
// docs/releasing.md.
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../sandbox/paths';
import { release } from './release-steps';

function main(): void {
  const version = process.argv[2] ?? '';
  const root = repoRoot();
  try {
    const done = release(root, version, {
      bundle: (cwd) => execFileSync('npm', ['run', 'bundle'], { cwd, stdio: 'inherit' }),
      log: (line) => console.log(line),
    });
    console.log(`\nReleased ${done.version}. Publish it with:\n`);
    console.log(`  git push origin HEAD ${done.version}`);
    console.log(`  git push --force origin ${done.major}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

main();
