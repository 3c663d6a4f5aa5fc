import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISHED_AS } from './workflow-rules';

// What `npm run release -- vX.Y.Z` does, step by step, on a repository root given as an argument (so that a test can
// run it on a scratch clone). Nothing is pushed: the script prints the two push commands.

export interface ReleaseOptions {
  /** Rebuilds dist/ (npm run bundle); a test passes a stand-in. */
  bundle: (root: string) => void;
  log?: (line: string) => void;
}

export interface Release {
  version: string;
  major: string;
  /** Files whose `uses:` references now name the release. */
  rewritten: string[];
  commit: string;
}

const SEMVER = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

function git(root: string, args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Refuses a version that is not vMAJOR.MINOR.PATCH, a dirty tree, or a tag that exists already. */
export function checkReleasable(root: string, version: string): void {
  if (!SEMVER.test(version))
    throw new Error(`release: the version must be vMAJOR.MINOR.PATCH (e.g. v1.4.0); got ${JSON.stringify(version)}`);
  const dirty = git(root, ['status', '--porcelain']);
  if (dirty)
    throw new Error(`release: the working tree has uncommitted changes; commit or remove them first:\n${dirty}`);
  if (git(root, ['tag', '--list', version]))
    throw new Error(`release: the tag ${version} exists already; release a new version instead of moving it`);
}

/**
 * Points every `uses:` of this toolkit's own actions and workflows in the reusable workflows at `ref`, so that a
 * caller pinning `deploy.yml@<sha or tag>` runs the actions of that same release, not whatever `v1` is later.
 */
export function pinOwnReferences(root: string, ref: string): string[] {
  const dir = join(root, '.github/workflows');
  const own = new RegExp(`(uses:\\s*${PUBLISHED_AS.replace('/', '\\/')}(?:/[^@\\s]+)?)@[^\\s#]+`, 'g');
  const rewritten: string[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!/^\s*workflow_call:/m.test(text)) continue;
    const next = text.replace(own, `$1@${ref}`);
    if (next !== text) {
      writeFileSync(path, next);
      rewritten.push(join('.github/workflows', file));
    }
  }
  return rewritten;
}

/** package.json's version and the User-Agent the AWS clients send. */
export function setVersion(root: string, version: string): void {
  const bare = version.slice(1);
  const pkgPath = join(root, 'package.json');
  const pkg = readFileSync(pkgPath, 'utf8');
  writeFileSync(pkgPath, pkg.replace(/("version":\s*")[^"]+(")/, `$1${bare}$2`));
  const clientsPath = join(root, 'src/aws/clients.ts');
  const clients = readFileSync(clientsPath, 'utf8');
  const next = clients.replace(/(USER_AGENT = 'aws-deploy-kit\/)[^']+(')/, `$1${bare}$2`);
  if (next === clients && !clients.includes(`aws-deploy-kit/${bare}'`))
    throw new Error('release: src/aws/clients.ts has no USER_AGENT constant to update');
  writeFileSync(clientsPath, next);
}

/** The whole release: version, pinned references, fresh bundles, one commit, the version tag and the moved major tag. */
export function release(root: string, version: string, options: ReleaseOptions): Release {
  const log = options.log ?? (() => {});
  checkReleasable(root, version);
  const major = version.split('.')[0]!;
  setVersion(root, version);
  const rewritten = pinOwnReferences(root, version);
  log(`uses: references now name ${version} in ${rewritten.join(', ') || 'no file'}`);
  log('rebuilding dist/ (npm run bundle)');
  options.bundle(root);
  git(root, ['add', '-A']);
  git(root, ['commit', '-q', '-m', `release ${version}`]);
  git(root, ['tag', '-a', version, '-m', version]);
  // The major tag follows the newest release of its major version: `@v1` users get this one.
  git(root, ['tag', '-f', '-a', major, '-m', `${major} (= ${version})`]);
  const commit = git(root, ['rev-parse', 'HEAD']);
  log(`tagged ${version} and moved ${major} to ${commit}`);
  return { version, major, rewritten, commit };
}
