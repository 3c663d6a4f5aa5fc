import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { release } from '../../scripts/release-steps';

// The release script on a scratch git repository shaped like ours: what a maintainer running
// `npm run release -- vX.Y.Z` gets (commit, tags, rewritten references), and what it refuses.

const files: Record<string, string> = {
  'package.json': '{\n  "name": "aws-deploy-kit",\n  "version": "0.1.0"\n}\n',
  'src/aws/clients.ts': "export const USER_AGENT = 'aws-deploy-kit/0.1.0';\n",
  '.github/workflows/deploy.yml': `on:
  workflow_call: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - uses: aws-deploy-kit/aws-deploy-kit@v1
      - uses: aws-deploy-kit/aws-deploy-kit/actions/report@v1 # the report
`,
  '.github/workflows/ci.yml': 'on: push\njobs:\n  ci:\n    steps:\n      - uses: aws-deploy-kit/aws-deploy-kit@main\n',
};

function git(root: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
}

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'adk-release-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  git(root, 'init', '-q', '-b', 'main');
  git(root, 'config', 'user.email', 'ci@example.com');
  git(root, 'config', 'user.name', 'ci');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'start');
  return root;
}

const bundles: string[] = [];
const bundle = (root: string) => {
  bundles.push(root);
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist/index.js'), `// built ${bundles.length}\n`);
};

it('commits the version and fresh bundles, pins the reusable workflows to the release, tags it and moves the major tag', () => {
  const root = scratch();
  const done = release(root, 'v1.2.0', { bundle });
  expect(bundles).toContain(root);
  const workflow = readFileSync(join(root, '.github/workflows/deploy.yml'), 'utf8');
  expect(workflow).toContain('uses: aws-deploy-kit/aws-deploy-kit@v1.2.0\n');
  expect(workflow).toContain('uses: aws-deploy-kit/aws-deploy-kit/actions/report@v1.2.0 # the report');
  // Third-party pins and workflows that are not reusable are left as they are.
  expect(workflow).toContain('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1');
  expect(readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8')).toBe(files['.github/workflows/ci.yml']);
  expect(done.rewritten).toEqual(['.github/workflows/deploy.yml']);
  expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version).toBe('1.2.0');
  expect(readFileSync(join(root, 'src/aws/clients.ts'), 'utf8')).toContain("'aws-deploy-kit/1.2.0'");
  // One commit with all of it, the tree clean, both tags on it.
  expect(git(root, 'status', '--porcelain')).toBe('');
  expect(git(root, 'log', '-1', '--format=%s')).toBe('release v1.2.0');
  expect(git(root, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual([
    '.github/workflows/deploy.yml',
    'dist/index.js',
    'package.json',
    'src/aws/clients.ts',
  ]);
  expect(git(root, 'rev-parse', 'v1.2.0^{commit}')).toBe(done.commit);
  expect(git(root, 'rev-parse', 'v1^{commit}')).toBe(done.commit);

  // The next release moves v1 and leaves v1.2.0 where it was.
  writeFileSync(join(root, 'README.md'), 'more\n');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'more');
  const next = release(root, 'v1.3.0', { bundle });
  expect(git(root, 'rev-parse', 'v1^{commit}')).toBe(next.commit);
  expect(git(root, 'rev-parse', 'v1.2.0^{commit}')).toBe(done.commit);
  expect(readFileSync(join(root, '.github/workflows/deploy.yml'), 'utf8')).toContain('aws-deploy-kit@v1.3.0\n');
});

it('refuses a version that is not vMAJOR.MINOR.PATCH, a dirty tree and an existing tag, changing nothing', () => {
  const root = scratch();
  expect(() => release(root, '1.2.0', { bundle })).toThrow(
    'release: the version must be vMAJOR.MINOR.PATCH (e.g. v1.4.0); got "1.2.0"',
  );
  expect(() => release(root, 'v1.2', { bundle })).toThrow(/must be vMAJOR\.MINOR\.PATCH/);
  writeFileSync(join(root, 'notes.txt'), 'wip\n');
  expect(() => release(root, 'v1.2.0', { bundle })).toThrow(
    /uncommitted changes; commit or remove them first:\n\?\? notes.txt/,
  );
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'notes');
  git(root, 'tag', 'v1.2.0');
  const head = git(root, 'rev-parse', 'HEAD');
  expect(() => release(root, 'v1.2.0', { bundle })).toThrow('release: the tag v1.2.0 exists already');
  expect(git(root, 'rev-parse', 'HEAD')).toBe(head);
  expect(git(root, 'status', '--porcelain')).toBe('');
});
