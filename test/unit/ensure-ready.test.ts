import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../sandbox/paths';

// scripts/ensure-ready.sh, which `npm test` and `npm run demo` run first, in a scratch copy whose npm-ci.sh and
// setup-sandbox.sh are stand-ins that say they ran: it installs the npm packages exactly when node_modules is missing
// or older than package-lock.json, says so, and always hands the Debian packages to setup-sandbox.sh.

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'adk-ready-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(repoRoot(), 'scripts/ensure-ready.sh'), join(root, 'scripts/ensure-ready.sh'));
  writeFileSync(
    join(root, 'scripts/npm-ci.sh'),
    'echo "npm-ci ran"\nmkdir -p node_modules && echo {} > node_modules/.package-lock.json\n',
  );
  writeFileSync(join(root, 'scripts/setup-sandbox.sh'), 'echo "setup-sandbox ran"\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
}

const run = (root: string) =>
  execFileSync('bash', [join(root, 'scripts/ensure-ready.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n');

it('installs the npm packages in a fresh clone, not again when they are there, and again when the lock is newer', () => {
  const root = scratch();
  expect(run(root)).toEqual([
    'ensure-ready: node_modules is missing: installing the npm packages (scripts/npm-ci.sh, npm ci)',
    'npm-ci ran',
    'setup-sandbox ran',
  ]);
  expect(run(root)).toEqual(['setup-sandbox ran']);
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(root, 'package-lock.json'), later, later);
  expect(run(root)).toEqual([
    'ensure-ready: package-lock.json is newer than node_modules: reinstalling the npm packages (npm ci)',
    'npm-ci ran',
    'setup-sandbox ran',
  ]);
});
