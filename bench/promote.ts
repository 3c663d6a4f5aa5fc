// Promote (ECR BatchGetImage -> PutImage, no layer moves) of a ~50 MB image against re-pushing it through the engine
// (docker pull, tag, push), both against the sandbox. Target: promote in at most 3 ECR calls and 1 s, whatever the size.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECRClient } from '@aws-sdk/client-ecr';
import { docker } from '../sandbox/docker';
import { type Sandbox, startSandbox } from '../sandbox/index';
import { runBundle } from '../sandbox/run-bundle';
import { promoteImage } from '../src/aws/ecr';
import { type Bench, type BenchContext, type BenchReport, median } from './lib';

export const TARGET_CALLS = 3;
export const TARGET_MS = 1_000;
const IMAGE_MB = 50;
/** Re-pushing moves the whole image: fewer runs keep the bench short. */
const ENGINE_RUNS = 5;

interface Sample {
  ms: number;
  ecrCalls: number;
}

async function bigImage(sandbox: Sandbox, repository: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adk-bench-big-'));
  // Random bytes do not compress: the registry really stores and serves ~50 MB.
  await writeFile(join(dir, 'big.bin'), randomBytes(IMAGE_MB * 1024 * 1024));
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY big.bin /big.bin\n');
  const env = sandbox.env();
  const ref = `${sandbox.registry.host}/${repository}:source`;
  await docker(
    ['login', '--username', 'AWS', '--password-stdin', sandbox.registry.host],
    env,
    sandbox.registry.password,
  );
  await docker(['build', '--tag', ref, dir], env);
  await docker(['push', ref], env);
  await rm(dir, { recursive: true, force: true });
  return ref;
}

async function timed(sandbox: Sandbox, work: () => Promise<unknown>): Promise<Sample> {
  const callsBefore = sandbox.aws.calls.length;
  const started = process.hrtime.bigint();
  await work();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, ecrCalls: sandbox.aws.calls.length - callsBefore };
}

function row(name: string, samples: Sample[]): (string | number)[] {
  const ms = samples.map((s) => s.ms);
  return [
    name,
    samples.length,
    Math.round(median(ms)),
    Math.round(Math.min(...ms)),
    Math.round(Math.max(...ms)),
    Math.max(...samples.map((s) => s.ecrCalls)),
  ];
}

async function runBench(ctx: BenchContext): Promise<BenchReport> {
  const sandbox = await startSandbox();
  process.env.ACTION_NODE = ctx.node;
  try {
    const repository = 'big';
    sandbox.ecr.createRepository(repository);
    const source = await bigImage(sandbox, repository);
    const env = sandbox.env();
    // The SDK reads its endpoint from the environment, exactly as the bundles do.
    Object.assign(process.env, sandbox.aws.clientEnv());
    const client = new ECRClient({ region: 'us-east-1' });

    const inProcess: Sample[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      inProcess.push(
        await timed(sandbox, () => promoteImage(client, { repository, source: 'source', tags: [`module-${i}`] })),
      );
    }
    const bundle: Sample[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      bundle.push(
        await timed(sandbox, async () => {
          const run = await runBundle('promote', { inputs: { repository, source: 'source', tags: `step-${i}` }, env });
          if (run.exitCode !== 0) throw new Error(`promote failed:\n${run.log}`);
        }),
      );
    }
    const engine: Sample[] = [];
    for (let i = 0; i < Math.min(ctx.runs, ENGINE_RUNS); i++) {
      const target = `${sandbox.registry.host}/${repository}:engine-${i}`;
      // Start from an engine without the image, as a fresh runner is: by id, so the earlier runs' tags go too.
      const id = (await docker(['image', 'inspect', '--format', '{{.Id}}', source], env).catch(() => undefined))
        ?.stdout;
      if (id?.trim()) await docker(['image', 'rm', '--force', id.trim()], env);
      engine.push(
        await timed(sandbox, async () => {
          await docker(['pull', source], env);
          await docker(['tag', source, target], env);
          await docker(['push', target], env);
        }),
      );
    }
    client.destroy();

    const moduleMedian = median(inProcess.map((s) => s.ms));
    const moduleCalls = Math.max(...inProcess.map((s) => s.ecrCalls));
    return {
      title: `Promote a ${IMAGE_MB} MB image: ECR manifest copy vs docker pull/tag/push`,
      columns: ['subject', 'runs', 'median ms', 'min ms', 'max ms', 'ECR API calls'],
      rows: [
        row('promoteImage (module)', inProcess),
        row('promote step (bundle process)', bundle),
        row('docker pull + tag + push', engine),
      ],
      notes: [
        `target: promote <= ${TARGET_CALLS} ECR calls and <= ${TARGET_MS} ms: ` +
          `${moduleCalls <= TARGET_CALLS && moduleMedian <= TARGET_MS ? 'met' : 'NOT met'} ` +
          `(${moduleCalls} calls, median ${Math.round(moduleMedian)} ms)`,
        'the bundle row adds node start-up and one DescribeRepositories (for the registry host in the outputs)',
        'the engine row makes no ECR API call but moves every layer through the engine (pull); push finds them present',
      ],
      data: { imageMB: IMAGE_MB, inProcess, bundle, engine },
    };
  } finally {
    await sandbox.stop();
  }
}

export const bench: Bench = {
  name: 'promote',
  description: `promote of a ${IMAGE_MB} MB image (ECR calls, wall time) vs re-pushing it through the engine`,
  run: runBench,
};
