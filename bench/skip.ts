// build-push of a commit whose image is already in ECR: the skip (nothing built, nothing pushed) against rebuilding
// and pushing the unchanged commit (skip-if-exists: false). Target: the skip uploads 0 bytes.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '../sandbox/index';
import { runBundle } from '../sandbox/run-bundle';
import { sampleAppContext } from '../sandbox/sample-app';
import { type Bench, type BenchContext, type BenchReport, median } from './lib';

const BUILD_RUNS = 5;
const SHA = '5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed';

interface Sample {
  ms: number;
  /** Bytes of blobs the registry did not hold before the run: what was uploaded. */
  uploadedBytes: number;
  ecrCalls: number;
  reused: boolean;
}

/** Total size of the registry's blob store. Blobs are content-addressed, so growth is exactly what was uploaded. */
function blobBytes(sandbox: Sandbox): number {
  const root = join(sandbox.registry.storageDir, 'docker/registry/v2/blobs/sha256');
  if (!existsSync(root)) return 0;
  let total = 0;
  for (const prefix of readdirSync(root)) {
    for (const digest of readdirSync(join(root, prefix))) {
      const data = join(root, prefix, digest, 'data');
      if (existsSync(data)) total += statSync(data).size;
    }
  }
  return total;
}

async function buildPush(sandbox: Sandbox, context: string, skip: boolean): Promise<Sample> {
  const bytesBefore = blobBytes(sandbox);
  const callsBefore = sandbox.aws.calls.length;
  const started = process.hrtime.bigint();
  const run = await runBundle('build-push', {
    inputs: { repository: 'web', context, 'build-args': 'VERSION=bench', 'skip-if-exists': String(skip) },
    env: { ...sandbox.env(), GITHUB_SHA: SHA },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (run.exitCode !== 0) throw new Error(`build-push failed:\n${run.log}`);
  return {
    ms,
    uploadedBytes: blobBytes(sandbox) - bytesBefore,
    ecrCalls: sandbox.aws.calls.length - callsBefore,
    reused: run.outputs.reused === 'true',
  };
}

function row(name: string, samples: Sample[]): (string | number)[] {
  const ms = samples.map((s) => s.ms);
  return [
    name,
    samples.length,
    Math.round(median(ms)),
    Math.round(Math.min(...ms)),
    Math.round(Math.max(...ms)),
    Math.max(...samples.map((s) => s.uploadedBytes)),
    Math.max(...samples.map((s) => s.ecrCalls)),
  ];
}

async function runBench(ctx: BenchContext): Promise<BenchReport> {
  const sandbox = await startSandbox();
  process.env.ACTION_NODE = ctx.node;
  try {
    sandbox.ecr.createRepository('web');
    const context = await sampleAppContext();
    const first = await buildPush(sandbox, context, true);

    const skips: Sample[] = [];
    for (let i = 0; i < ctx.runs; i++) skips.push(await buildPush(sandbox, context, true));
    const rebuilds: Sample[] = [];
    for (let i = 0; i < Math.min(ctx.runs, BUILD_RUNS); i++) rebuilds.push(await buildPush(sandbox, context, false));

    const skipBytes = Math.max(...skips.map((s) => s.uploadedBytes));
    const allReused = skips.every((s) => s.reused);
    return {
      title: 'build-push of an unchanged commit: skip vs rebuild and push',
      columns: ['subject', 'runs', 'median ms', 'min ms', 'max ms', 'max bytes uploaded', 'max ECR calls'],
      rows: [
        row('first build + push', [first]),
        row('skip (sha tag already in ECR)', skips),
        row('rebuild + push (skip-if-exists: false)', rebuilds),
      ],
      notes: [
        `target: the skip uploads 0 bytes: ${skipBytes === 0 && allReused ? 'met' : 'NOT met'} (${skipBytes} bytes)`,
        'bytes uploaded = growth of the registry blob store; a rebuild re-uses cached layers but uploads a new ' +
          'config (the created label changes), and takes the build time',
      ],
      data: { first, skips, rebuilds },
    };
  } finally {
    await sandbox.stop();
  }
}

export const bench: Bench = {
  name: 'skip',
  description: 'build-push of an already-pushed commit (skip) vs rebuilding it: wall time and bytes uploaded',
  run: runBench,
};
