// npm run bench [-- <name>...]: runs the named benchmarks (all when none is named), prints a table for each and
// writes bench/results/<name>.json. A new benchmark is a module bench/<name>.ts exporting `bench`, added below.
import type { Bench } from './lib';
import { benchContext, formatTable, writeResult } from './lib';

const BENCHES: Record<string, () => Promise<Bench>> = {
  'apprunner-polling': async () => (await import('./apprunner-polling')).bench,
  'asg-polling': async () => (await import('./asg-polling')).bench,
  'cold-start': async () => (await import('./cold-start')).bench,
  'ecs-fleet': async () => (await import('./ecs-fleet')).bench,
  'ecs-polling': async () => (await import('./ecs-polling')).bench,
  promote: async () => (await import('./promote')).bench,
  skip: async () => (await import('./skip')).bench,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  if (args.includes('--list') || args.includes('--help')) {
    for (const name of Object.keys(BENCHES)) console.log(`${name}: ${(await BENCHES[name]!()).description}`);
    return;
  }
  const unknown = args.filter((a) => !BENCHES[a]);
  if (unknown.length > 0) {
    console.error(`Unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  const ctx = benchContext();
  console.log(`node under test: ${ctx.node} (${ctx.nodeVersion}); ${ctx.runs} runs; RSS via ${ctx.rss}`);
  if (ctx.rss === 'probe')
    console.log('  (install Debian package `time` for /usr/bin/time, the exact RSS of the child)');
  for (const name of args.length > 0 ? args : Object.keys(BENCHES)) {
    const bench = await BENCHES[name]!();
    const report = await bench.run(ctx);
    console.log(`\n${report.title}\n`);
    console.log(formatTable(report.columns, report.rows));
    for (const note of report.notes) console.log(`  ${note}`);
    console.log(`  results: ${writeResult(ctx.root, name, ctx, report)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
