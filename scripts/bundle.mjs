#!/usr/bin/env node
// Builds one ncc bundle per action (src/actions/<name>/index.ts -> dist/<name>/index.js) and the CLI.
// `npm run bundle` builds all; `npm run bundle -- build-push promote` builds the ones named.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ncc = require('@vercel/ncc');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const entries = Object.fromEntries(
  readdirSync(join(root, 'src/actions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'src/actions', d.name, 'index.ts')))
    .map((d) => [d.name, join(root, 'src/actions', d.name, 'index.ts')]),
);
if (existsSync(join(root, 'src/cli.ts'))) entries.cli = join(root, 'src/cli.ts');

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!entries[name]) {
    console.error(`No entry point named ${name}; known: ${Object.keys(entries).join(', ')}`);
    process.exit(2);
  }
}

for (const [name, entry] of Object.entries(entries)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const started = Date.now();
  const { code, assets } = await ncc(entry, {
    cache: false,
    minify: true,
    sourceMap: false,
    license: 'licenses.txt',
    quiet: true,
    target: 'es2023',
    // npm run typecheck checks types once for the whole project; per-bundle checks would repeat it nine times.
    transpileOnly: true,
  });
  const out = join(root, 'dist', name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.js'), name === 'cli' ? `#!/usr/bin/env node\n${code}` : code);
  for (const [file, asset] of Object.entries(assets)) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), asset.source);
  }
  console.log(`dist/${name}/index.js  ${(code.length / 1024).toFixed(0)} KiB  (${Date.now() - started} ms)`);
}
