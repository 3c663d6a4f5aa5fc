import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { repoRoot } from '../../sandbox/paths';
import { actionNode } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';

let sandbox: Sandbox;
let digest: string;
const sha = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd';

/** Runs the bundled CLI (dist/cli/index.js) as a user would, with only the environment pointing at the sandbox. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(actionNode(), [join(repoRoot(), 'dist/cli/index.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...sandbox.env(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.ecr.createRepository('web');
  const { host, user, password } = sandbox.registry;
  await docker(['login', '--username', user, '--password-stdin', host], sandbox.env(), password);
  await docker(
    ['build', '-t', `${host}/web:sha-${sha}`, '--build-arg', `VERSION=${sha}`, await sampleAppContext()],
    sandbox.env(),
  );
  await docker(['push', `${host}/web:sha-${sha}`], sandbox.env());
  digest = (await sandbox.registry.client.manifest('web', `sha-${sha}`))?.digest ?? '';
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('the aws-deploy-kit CLI', () => {
  it('promotes by flags and prints the outputs', async () => {
    const run = await cli([
      'promote',
      '--repository',
      'web',
      '--source',
      `sha-${sha}`,
      '--tags',
      'deployed-staging',
      '--tags',
      'staging',
    ]);
    expect(run.stderr).not.toContain(sandbox.aws.clientEnv().AWS_SECRET_ACCESS_KEY);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`digest: ${digest}`);
    expect((await sandbox.registry.client.manifest('web', 'staging'))?.digest).toBe(digest);
  });

  it('shows what each environment runs, as text and as JSON', async () => {
    const text = await cli(['status', '--repository', 'web', '--environments', 'staging,production']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`deployed         ${sha.slice(0, 12)} ${digest.slice(0, 19)}`);
    const json = await cli(['status', '--json'], { ADK_REPOSITORY: 'web', ADK_ENVIRONMENTS: 'staging\nproduction' });
    expect(JSON.parse(json.stdout)).toEqual([
      { environment: 'staging', deployed: { commit: sha, digest } },
      { environment: 'production' },
    ]);
  });

  it('plans a deploy with --dry-run: reuse of the commit image, and changes nothing', async () => {
    const before = sandbox.aws.calls.length;
    const run = await cli([
      'deploy',
      '--dry-run',
      '--target',
      'asg',
      '--repository',
      'web',
      '--environment',
      'staging',
      '--asg-name',
      'web-asg',
      '--health-url',
      'http://127.0.0.1:1/health',
      '--commit',
      sha,
    ]);
    expect(run.stderr).toContain(`reuse web:sha-${sha} (${digest}): nothing is built`);
    expect(run.code).toBe(0);
    const writes = sandbox.aws.calls.slice(before).filter((c) => !/^(Describe|List|BatchGet)/.test(c.operation));
    expect(writes).toEqual([]);
  });

  it('ecr-cleanup: refuses without the deployment history, plans a dry run, and deletes with --dry-run=false', async () => {
    const before = sandbox.aws.calls.length;
    const refused = await cli(['ecr-cleanup', '--repository', 'web', '--keep-days', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('no github-token was given');
    expect(refused.stderr).toContain('Set keep-without-history: true');
    expect(sandbox.aws.calls.slice(before).map((c) => c.operation)).not.toContain('BatchDeleteImage');

    // An untagged leftover: the image's manifest with an annotation added, pushed by digest (no tag).
    const manifest = (await sandbox.registry.client.manifest('web', digest))!.bytes.toString('utf8');
    const leftover = JSON.stringify({ ...JSON.parse(manifest), annotations: { leftover: 'yes' } });
    const leftoverDigest = `sha256:${createHash('sha256').update(leftover).digest('hex')}`;
    const put = await sandbox.registry.client.send(
      'PUT',
      `/v2/web/manifests/${leftoverDigest}`,
      { 'content-type': JSON.parse(manifest).mediaType },
      Buffer.from(leftover),
    );
    expect(put.status).toBe(201);

    const args = ['ecr-cleanup', '--repository', 'web', '--keep-days', '0', '--keep-without-history', 'true'];
    const dry = await cli(args);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('deleted-count: 0');
    const plan = JSON.parse(/^plan: (.*)$/m.exec(dry.stdout)?.[1] ?? '{}') as { toDelete: number };
    expect(plan.toDelete).toBe(1);
    expect(await sandbox.registry.client.manifest('web', leftoverDigest)).toBeDefined();

    const real = await cli([...args, '--dry-run=false']);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('deleted-count: 1');
    expect(await sandbox.registry.client.manifest('web', leftoverDigest)).toBeUndefined();
    expect((await sandbox.registry.client.manifest('web', 'deployed-staging'))?.digest).toBe(digest);
  });

  it('exits 2 with the input named on a configuration error, before any AWS call', async () => {
    const before = sandbox.aws.calls.length;
    const run = await cli(['promote', '--repository', 'web', '--source', 'sha-x', '--tags', '-bad']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`Input 'tags' has an invalid value "-bad"`);
    expect(sandbox.aws.calls.length).toBe(before);
  });
});
