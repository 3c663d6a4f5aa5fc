// Cold start of each shipped bundle: how long a step takes from `node dist/<name>/index.js` to its first AWS call,
// against `node -e 0` on the same node binary, and how much memory it peaks at. When PEER_ECR_LOGIN_DIST names a
// built aws-actions/amazon-ecr-login (the folder holding its index.js), that action runs in the same rounds as a peer
// row, and each bundle is compared with it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../sandbox/ports';
import { newRecord } from '../src/core/record';
import { type Bench, type BenchContext, type Measured, measure, median } from './lib';

export const TARGET_RATIO = 2.5;
export const TARGET_RSS_MB = 70;

/**
 * What carries each bundle past input validation to its first remote call (AWS, GitHub or the probed URL): its
 * inputs (as INPUT_<NAME>) and, for post steps, the state its main step saved (as STATE_<name>). `{closed}` stands
 * for the closed loopback URL every endpoint points at, `{ok}` for a loopback server that answers 200 to anything. A bundle missing here runs with neither, so it may stop at a
 * ConfigurationError instead: the "stopped at" notes show where each one stopped.
 */
export interface BundleSetup {
  inputs?: Record<string, string>;
  state?: Record<string, string>;
  /** Command-line arguments (the CLI bundle). */
  args?: string[];
}

export const BUNDLE_SETUP: Record<string, BundleSetup> = {
  cli: { args: ['status', '--repository', 'web', '--environments', 'staging'] },
  'build-push': { inputs: { repository: 'web', commit: 'a'.repeat(40) } },
  promote: { inputs: { repository: 'web', source: 'sha-aaaaaaa', tags: 'production' } },
  'deploy-apprunner': {
    inputs: {
      'service-arn': 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef',
      image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:${'a'.repeat(64)}`,
    },
  },
  // A health check polls a refused connection until its deadline: give it a loopback server that answers 200 at once.
  'health-check': { inputs: { url: '{ok}/health', 'consecutive-successes': '1' } },
  'refresh-asg': { inputs: { 'asg-name': 'web-asg', 'boot-tag': 'staging' } },
  // The all-in-one action stops at build-push's first ECR call; rollback at its first look at the service.
  pipeline: {
    inputs: {
      target: 'apprunner',
      repository: 'web',
      environment: 'staging',
      commit: 'a'.repeat(40),
      'service-arn': 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef',
    },
  },
  rollback: {
    inputs: {
      environment: 'staging',
      target: 'apprunner',
      repository: 'web',
      'service-arn': 'arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef',
    },
  },
  'refresh-asg-post': {
    state: { 'refresh-id': '08b91cf7-8fa6-48af-b6a6-d227f40f1b9b', 'asg-name': 'web-asg', 'cancel-on-abort': 'true' },
  },
  // Without a github-token the report only writes the job summary: with one, Octokit's retries of the refused
  // connection (about 14 s) would be measured instead of the start.
  report: { inputs: { record: JSON.stringify(newRecord('a'.repeat(40), { environment: 'staging' })) } },
};

/** The environment variable naming the peer: the folder holding aws-actions/amazon-ecr-login's built index.js. */
export const PEER_ENV = 'PEER_ECR_LOGIN_DIST';
export const PEER_NAME = 'peer: amazon-ecr-login';

/**
 * The peer's inputs as the runner passes them: every input of its action.yml, with its default or empty. With
 * registry-type private and no registries it calls ECR GetAuthorizationToken (at AWS_ENDPOINT_URL_ECR, the closed
 * port) with the environment's credentials, then would run `docker login`: it stops at the refused connection first.
 */
export const PEER_SETUP: BundleSetup = {
  inputs: {
    'http-proxy': '',
    'mask-password': 'true',
    registries: '',
    'registry-type': 'private',
    'skip-logout': 'false',
  },
};

/** The peer's index.js when PEER_ECR_LOGIN_DIST names a folder holding one; else why the peer row is skipped. */
export function findPeer(env: NodeJS.ProcessEnv = process.env): { file: string } | { skipped: string } {
  const how = `set ${PEER_ENV} to the folder holding aws-actions/amazon-ecr-login's index.js, e.g. ${PEER_ENV}=<checkout>/dist npm run bench -- cold-start`;
  const dir = env[PEER_ENV];
  if (!dir) return { skipped: `peer row skipped: ${PEER_ENV} is not set; to compare with the official action, ${how}` };
  const file = join(resolve(dir), 'index.js');
  if (!existsSync(file)) return { skipped: `peer row skipped: no index.js in ${PEER_ENV}=${dir}; ${how}` };
  return { file };
}

/** Every service endpoint the toolkit's clients and bundles may use, so no call leaves loopback. */
const ENDPOINT_VARS = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_ECR',
  'AWS_ENDPOINT_URL_APPRUNNER',
  'AWS_ENDPOINT_URL_AUTO_SCALING',
  'AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2',
  'AWS_ENDPOINT_URL_STS',
];

interface Subject {
  name: string;
  args: string[];
  sizeKiB?: number;
  env: NodeJS.ProcessEnv;
}

interface SubjectResult {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  peakRssMB: number;
  medianCpuMs: number;
  sizeKiB?: number;
  exitCode: number | null;
  /** The last line the process printed: where it stopped (an ::error:: line with ECONNREFUSED is the goal). */
  stoppedAt: string;
  samplesMs: number[];
}

export function findBundles(root: string, distDir = join(root, 'dist')): { name: string; file: string }[] {
  if (!existsSync(distDir)) return [];
  return readdirSync(distDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(distDir, d.name, 'index.js')))
    .map((d) => ({ name: d.name, file: join(distDir, d.name, 'index.js') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The environment of a runner step whose every remote endpoint is a closed loopback port. */
function stepEnv(closed: string, ok: string, workDir: string, setup: BundleSetup = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: workDir,
    RUNNER_TEMP: workDir,
    GITHUB_OUTPUT: join(workDir, 'output'),
    GITHUB_STATE: join(workDir, 'state'),
    GITHUB_ENV: join(workDir, 'env'),
    GITHUB_STEP_SUMMARY: join(workDir, 'summary'),
    GITHUB_WORKSPACE: workDir,
    GITHUB_REPOSITORY: 'octo/web',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_API_URL: closed,
    GITHUB_SERVER_URL: closed,
    GITHUB_TOKEN: 'bench-token',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCHEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_MAX_ATTEMPTS: '1',
    AWS_RETRY_MODE: 'standard',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const name of ENDPOINT_VARS) env[name] = closed;
  for (const [name, value] of Object.entries(setup.inputs ?? {})) {
    // As the runner names them: upper case, spaces to underscores, dashes kept.
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value.replaceAll('{closed}', closed).replaceAll('{ok}', ok);
  }
  for (const [name, value] of Object.entries(setup.state ?? {})) env[`STATE_${name}`] = value;
  return env;
}

async function runSubjects(ctx: BenchContext, subjects: Subject[], workDir: string): Promise<SubjectResult[]> {
  const samples = new Map<string, Measured[]>(subjects.map((s) => [s.name, []]));
  const run = (s: Subject) => measure({ command: ctx.node, args: s.args, env: s.env, cwd: workDir, rss: ctx.rss });
  // Two unrecorded rounds warm the page cache, then rounds interleave the subjects so that drift in the machine's
  // load hits the baseline and the bundles alike.
  for (let round = 0; round < 2; round++) for (const s of subjects) await run(s);
  for (let round = 0; round < ctx.runs; round++) {
    for (const s of subjects) samples.get(s.name)!.push(await run(s));
  }
  return subjects.map((s) => {
    const runs = samples.get(s.name)!;
    const walls = runs.map((r) => r.wallMs);
    const output = `${runs[0]!.stdout}\n${runs[0]!.stderr}`.trim().split('\n');
    // The last line printed, unless a warning on stderr follows the ::error:: line (the peer's SDK prints one).
    const stop = output.findLast((line) => line.startsWith('::error::')) ?? output[output.length - 1] ?? '';
    return {
      name: s.name,
      medianMs: median(walls),
      minMs: Math.min(...walls),
      maxMs: Math.max(...walls),
      peakRssMB: Math.max(...runs.map((r) => r.maxRssKiB)) / 1024,
      medianCpuMs: median(runs.map((r) => r.cpuMs)),
      ...(s.sizeKiB !== undefined ? { sizeKiB: s.sizeKiB } : {}),
      exitCode: runs[0]!.exitCode,
      stoppedAt: stop.slice(0, 160),
      samplesMs: walls.map((w) => Math.round(w * 10) / 10),
    };
  });
}

export const bench: Bench = {
  name: 'cold-start',
  description: 'median cold start of each dist/*/index.js to its first AWS call, against `node -e 0`; peak RSS; size',
  async run(ctx) {
    const distDir = process.env.BENCH_DIST ? join(ctx.root, process.env.BENCH_DIST) : join(ctx.root, 'dist');
    const bundles = findBundles(ctx.root, distDir);
    const peer = findPeer();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const workDir = await mkdtemp(join(tmpdir(), 'adk-bench-'));
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ok = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const file of ['output', 'state', 'env', 'summary']) await writeFile(join(workDir, file), '');
      const baseline: Subject = { name: 'node -e 0', args: ['-e', '0'], env: stepEnv(closed, ok, workDir) };
      const subjects: Subject[] = [
        baseline,
        ...bundles.map((b) => ({
          name: b.name,
          args: [b.file, ...(BUNDLE_SETUP[b.name]?.args ?? [])],
          sizeKiB: statSync(b.file).size / 1024,
          env: stepEnv(closed, ok, workDir, BUNDLE_SETUP[b.name]),
        })),
        // The peer runs in the same interleaved rounds, so it sees the same machine load as the bundles.
        ...('file' in peer
          ? [
              {
                name: PEER_NAME,
                args: [peer.file],
                sizeKiB: statSync(peer.file).size / 1024,
                env: stepEnv(closed, ok, workDir, PEER_SETUP),
              },
            ]
          : []),
      ];
      const results = await runSubjects(ctx, subjects, workDir);
      const base = results[0]!;
      const peerResult = results.find((r) => r.name === PEER_NAME);
      const own = results.slice(1).filter((r) => r !== peerResult);
      /** Median wall time against the peer's in this run: the target is no bundle slower than it. */
      const vsPeer = (r: SubjectResult) => {
        if (!peerResult) return undefined;
        const deltaMs = r.medianMs - peerResult.medianMs;
        return { deltaMs, slower: deltaMs > 0 };
      };
      const rows = [...own, ...(peerResult ? [peerResult] : [])].map((r) => {
        const ratio = r.medianMs / base.medianMs;
        const met = ratio <= TARGET_RATIO && r.peakRssMB <= TARGET_RSS_MB;
        const cmp = r === peerResult ? undefined : vsPeer(r);
        const peerCell =
          r === peerResult
            ? '(peer)'
            : cmp
              ? `${cmp.slower ? 'SLOWER' : 'no'} (${cmp.deltaMs > 0 ? '+' : ''}${Math.round(cmp.deltaMs)} ms)`
              : '';
        const row = [
          r.name,
          r.medianMs.toFixed(0),
          base.medianMs.toFixed(0),
          `${ratio.toFixed(2)}x`,
          `${r.medianCpuMs.toFixed(0)} (${(r.medianCpuMs / base.medianCpuMs).toFixed(1)}x)`,
          r.peakRssMB.toFixed(1),
          (r.sizeKiB ?? 0).toFixed(0),
          met
            ? 'yes'
            : `NO (${[ratio > TARGET_RATIO ? 'time' : '', r.peakRssMB > TARGET_RSS_MB ? 'rss' : ''].filter(Boolean).join('+')})`,
        ];
        return peerResult ? [...row, peerCell] : row;
      });
      const notes = [
        `targets: cold start <= ${TARGET_RATIO}x node -e 0, peak RSS <= ${TARGET_RSS_MB} MB; ${ctx.runs} runs each, median`,
        `node -e 0: ${base.medianMs.toFixed(1)} ms median, ${base.medianCpuMs.toFixed(0)} ms CPU, ${base.peakRssMB.toFixed(1)} MB peak RSS`,
        `machine load average at the end: ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} on ${cpus().length} cores (a busy machine inflates wall times; cpu ms is steadier)`,
      ];
      if (bundles.length === 0) notes.push(`no bundles in ${distDir}: build them with npm run bundle -- <name>`);
      if ('skipped' in peer) notes.push(peer.skipped);
      else if (peerResult) {
        const slower = own.filter((r) => vsPeer(r)?.slower).map((r) => r.name);
        notes.push(
          `peer ${peer.file}: ${peerResult.medianMs.toFixed(1)} ms median, ${peerResult.medianCpuMs.toFixed(0)} ms CPU, ${peerResult.peakRssMB.toFixed(1)} MB peak RSS; ` +
            `slower than the peer to the first remote call (median wall): ${slower.length > 0 ? slower.join(', ') : 'none'}`,
        );
        if (!peerResult.stoppedAt.includes('ECONNREFUSED'))
          notes.push(
            'the peer did not stop at a refused connection: it did not reach its first AWS call, so its figure is not comparable',
          );
      }
      for (const r of results.slice(1)) notes.push(`${r.name} stopped at (exit ${r.exitCode}): ${r.stoppedAt}`);
      return {
        title: `Cold start under ${ctx.nodeVersion} (${ctx.node})`,
        columns: [
          'bundle',
          'median ms',
          'node -e 0 ms',
          'ratio',
          'cpu ms',
          'peak RSS MB',
          'size KB',
          'target met?',
          ...(peerResult ? ['slower than peer?'] : []),
        ],
        rows,
        notes,
        data: {
          targets: { ratio: TARGET_RATIO, rssMB: TARGET_RSS_MB },
          baseline: base,
          bundles: own.map((r) => ({
            ...r,
            ratio: r.medianMs / base.medianMs,
            met: r.medianMs / base.medianMs <= TARGET_RATIO && r.peakRssMB <= TARGET_RSS_MB,
            ...(peerResult ? { vsPeer: vsPeer(r) } : {}),
          })),
          peer:
            'skipped' in peer
              ? { skipped: peer.skipped }
              : { file: peer.file, ...peerResult, ratio: (peerResult?.medianMs ?? Number.NaN) / base.medianMs },
        },
      };
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(workDir, { recursive: true, force: true });
    }
  },
};
