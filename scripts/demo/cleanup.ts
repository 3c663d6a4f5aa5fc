// The demo's cleanup act: a dry-run plan of ecr-cleanup, the real cleanup, then the rollback's plan, whose image must
// still be in ECR. Every claim is checked against the registry itself, not against what the action says.
import type { Sandbox } from '../../sandbox/index';
import { ClaimMismatch } from './checks';
import { detail, heading, type Printer, seconds, short, table } from './print';
import { type DemoWorld, REPOSITORY } from './setup';
import { ecrCleanup, rollback, type StepRun } from './steps';

const DRY_RUN = { 'dry-run': 'true' };

interface PlannedImage {
  digest: string;
  tags: string[];
  action: 'keep' | 'delete';
  reasons: string[];
}

function planOf(step: StepRun, label: string): PlannedImage[] {
  if (step.run.exitCode !== 0)
    throw new ClaimMismatch(`${label}: ecr-cleanup failed (exit ${step.run.exitCode}): ${step.run.errors.join(' ')}`);
  return (JSON.parse(step.run.outputs.plan ?? '{"images":[]}') as { images: PlannedImage[] }).images;
}

async function inRegistry(sandbox: Sandbox, digest: string): Promise<boolean> {
  return (await sandbox.registry.client.manifest(REPOSITORY, digest)) !== undefined;
}

export async function cleanupAct(
  ctx: { sandbox: Sandbox; world: DemoWorld; out: Printer; digestOf: Map<string, string> },
  commits: { v1: string; v2: string; v3: string },
): Promise<void> {
  const { sandbox, world, out } = ctx;
  const name = (digest: string) => [...ctx.digestOf].find(([, d]) => d === digest)?.[0] ?? digest.slice(0, 19);
  const digest = (v: keyof typeof commits) => ctx.digestOf.get(commits[v])!;
  // keep-days 0: everything here was pushed minutes ago, and the act is about the other rules.
  const inputs = { 'keep-days': '0', 'keep-deployments': '10' };

  heading(out, `ecr-cleanup of ${REPOSITORY}, a dry run first (the default): what would go, what stays and why`);
  const dry = await ecrCleanup(sandbox, world, commits.v3, inputs);
  const plan = planOf(dry, 'dry run');
  table(
    out,
    ['action', 'image', 'why'],
    plan.map((i) => [
      i.action,
      i.tags.find((t) => t.startsWith('sha-'))?.slice(0, 11) ?? short(i.digest.slice(7)),
      i.reasons.join('; '),
    ]),
  );
  const action = (d: string) => plan.find((i) => i.digest === d)?.action;
  if (action(digest('v3')) !== 'delete' || action(digest('v1')) !== 'keep' || action(digest('v2')) !== 'keep')
    throw new ClaimMismatch(
      `the plan should delete v3 (failed everywhere) and keep v1 and v2 (pointers, verified deployments), it says v1 ${action(digest('v1'))}, v2 ${action(digest('v2'))}, v3 ${action(digest('v3'))}`,
    );
  for (const image of plan)
    if (!(await inRegistry(sandbox, image.digest)))
      throw new ClaimMismatch(`the dry run deleted ${image.digest}: a dry run must delete nothing`);
  detail(out, `checked ✓ dry run: all ${plan.length} images are still in the registry (${seconds(dry.ms)})`);

  heading(out, 'ecr-cleanup with dry-run: false');
  const real = await ecrCleanup(sandbox, world, commits.v3, { ...inputs, 'dry-run': 'false' });
  const done = planOf(real, 'cleanup');
  for (const image of done) {
    const present = await inRegistry(sandbox, image.digest);
    if (present !== (image.action === 'keep'))
      throw new ClaimMismatch(
        `the cleanup says it would ${image.action} ${name(image.digest)}, but the registry ${present ? 'still holds' : 'no longer holds'} it`,
      );
  }
  detail(
    out,
    `checked ✓ ${real.run.outputs['deleted-count']} image(s) gone from the registry (${real.run.outputs['bytes-freed']} bytes), ${real.run.outputs['kept-count']} still there (${seconds(real.ms)})`,
  );

  // v2 is what App Runner ran before the manual rollback to v1: kept (pointer previous-*, verified deployments).
  heading(out, `A rollback of App Runner to ${short(commits.v2)} (v2) after the cleanup (rollback action, dry-run)`);
  const back = await rollback(sandbox, world, 'apprunner', commits.v2, commits.v1, DRY_RUN);
  const image = /sha256:[0-9a-f]{64}/.exec(back.run.outputs.image ?? '')?.[0] ?? '';
  if (back.run.exitCode !== 0 || back.run.outputs.sha !== commits.v2 || image !== digest('v2'))
    throw new ClaimMismatch(
      `a rollback to v2 after the cleanup should find its image ${digest('v2')}; it plans ${back.run.outputs.sha || '(nothing)'} ` +
        `(${image || 'no image'}, exit ${back.run.exitCode}): ${back.run.errors.join(' ')}`,
    );
  if (!(await inRegistry(sandbox, image)))
    throw new ClaimMismatch(`the rollback plans ${image}, but the registry no longer holds it`);
  detail(
    out,
    `checked ✓ the rollback would go to ${short(commits.v2)} (v2): ${image.slice(0, 19)}… is still in the registry`,
  );

  // v3 failed everywhere and was never verified: nothing needed it, and a rollback to it is refused.
  const refused = await rollback(sandbox, world, 'apprunner', commits.v3, commits.v1, DRY_RUN);
  const why = refused.run.errors.join(' ');
  if (
    refused.run.exitCode === 0 ||
    !why.includes('There is no image of commit') ||
    (await inRegistry(sandbox, digest('v3')))
  )
    throw new ClaimMismatch(
      `a rollback to v3 should be refused: the cleanup deleted its image; it answered (exit ${refused.run.exitCode}) ${why}`,
    );
  detail(
    out,
    `checked ✓ a rollback to ${short(commits.v3)} (v3, never verified) is refused: ${firstLine(refused.run.errors[0] ?? '')}`,
  );
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
