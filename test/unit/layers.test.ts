import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../../sandbox/paths';

// The layers flow one way (docs/CONTRIBUTING.md "Layers"):
//   cli → actions → deploy → targets → aws | github | docker → core
// A platform is one folder of src/targets/; only the action named for it (deploy-apprunner, refresh-asg, deploy-ecs) and the
// registry (src/targets/index.ts) reach into it. Everything else sees the platform through src/targets/target.ts.

const src = join(repoRoot(), 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The relative imports of a file (static, type-only and dynamic), as paths from src/ without an extension. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return specs.map((spec) => relative(src, resolve(dirname(file), spec)));
}

/** The layer of a path under src/: its first folder (cli.ts counts as cli). */
function layerOf(path: string): string {
  if (path === 'cli' || path === 'cli.ts') return 'cli';
  return path.split('/')[0] as string;
}

/** The platform folder a path is in, if any (`targets/<platform>/…`). */
function platformOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'targets' && parts.length > 2 ? parts[1] : undefined;
}

const mayImport: Record<string, readonly string[]> = {
  core: ['core'],
  aws: ['aws', 'core'],
  github: ['github', 'core'],
  docker: ['docker', 'core'],
  targets: ['targets', 'aws', 'github', 'docker', 'core'],
  deploy: ['deploy', 'targets', 'aws', 'github', 'docker', 'core'],
  actions: ['actions', 'deploy', 'targets', 'aws', 'github', 'docker', 'core'],
  cli: ['cli', 'actions', 'deploy', 'targets', 'aws', 'github', 'docker', 'core'],
};

/** The single-platform actions, and the platform folder each may use directly. */
const platformActions: Record<string, string> = {
  'actions/deploy-apprunner': 'apprunner',
  'actions/refresh-asg': 'asg',
  'actions/refresh-asg-post': 'asg',
  'actions/deploy-ecs': 'ecs',
};

function violations(): string[] {
  const found: string[] = [];
  for (const file of filesUnder(src)) {
    const from = relative(src, file).replace(/\.ts$/, '');
    const layer = layerOf(from);
    const allowed = mayImport[layer];
    for (const to of importsOf(file)) {
      const target = layerOf(to);
      if (to.startsWith('..')) {
        found.push(`${from} imports ${to}: outside src/`);
        continue;
      }
      if (!allowed?.includes(target)) {
        found.push(`${from} (${layer}) imports ${to} (${target})`);
        continue;
      }
      const platform = platformOf(to);
      if (!platform) continue;
      const own = platformOf(from);
      const action = Object.entries(platformActions).find(([dir]) => from.startsWith(`${dir}/`))?.[1];
      const registry = from === 'targets/index';
      if (own !== platform && action !== platform && !registry) {
        found.push(`${from} imports ${to}: only targets/${platform}/, its own action and the registry may`);
      }
    }
  }
  return found;
}

/** `=== 'asg'`, `'ecs-express' !== x`, `case 'ecs':`: a platform name compared (every platform of the registry). */
const platformNames = "'(?:apprunner|asg|ecs|ecs-express)'";
const platformComparison = new RegExp(
  `(?:[!=]==\\s*${platformNames}|${platformNames}\\s*[!=]==|case\\s+${platformNames}:)`,
);

describe('layers', () => {
  it('every import under src/ goes down the layers, and platform folders are reached only through the registry', () => {
    expect(violations()).toEqual([]);
  });

  it('src/core imports nothing of ours outside src/core', () => {
    const outside = filesUnder(join(src, 'core')).flatMap((file) =>
      importsOf(file)
        .filter((to) => layerOf(to) !== 'core')
        .map((to) => `${relative(src, file)} → ${to}`),
    );
    expect(outside).toEqual([]);
  });

  it('no code outside src/targets/, input parsing and the CLI argument table compares platform names', () => {
    const exempt = (path: string) =>
      path.startsWith('targets/') || path.endsWith('/inputs.ts') || path === 'cli/args.ts';
    const hits = filesUnder(src)
      .map((file) => relative(src, file))
      .filter((path) => !exempt(path))
      .flatMap((path) =>
        readFileSync(join(src, path), 'utf8')
          .split('\n')
          .map((line, i) => ({ line, at: `${path}:${i + 1}` }))
          .filter(({ line }) => platformComparison.test(line))
          .map(({ line, at }) => `${at}: ${line.trim()}`),
      );
    expect(hits).toEqual([]);
  });

  it('the checks above see a wrong-way import and a platform comparison when there is one', () => {
    // Guards the guard: the patterns must match the shapes they are meant to catch.
    expect(layerOf('core/record')).toBe('core');
    expect(mayImport.core).not.toContain(layerOf('aws/ecr'));
    expect(platformOf('targets/asg/deploy')).toBe('asg');
    expect(platformOf('targets/target')).toBeUndefined();
    expect(/[!=]==\s*'(?:apprunner|asg)'/.test("if (kind === 'asg')")).toBe(true);
    expect(platformComparison.test("if (kind === 'ecs')")).toBe(true);
    expect(platformComparison.test("spec.kind !== 'ecs-express'")).toBe(true);
    expect(platformComparison.test("'ecs-express' === kind")).toBe(true);
    expect(platformComparison.test("case 'ecs':")).toBe(true);
    expect(platformComparison.test("kind === 'ecsx'")).toBe(false);
  });
});
