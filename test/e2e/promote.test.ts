import { createHash } from 'node:crypto';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';

// A build and several bundle runs; the project's testTimeout is not applied to single-file runs.
jest.setTimeout(300_000);

let sandbox: Sandbox;
const SHA = 'feedfacefeedfacefeedfacefeedfacefeedface';

function promote(inputs: Record<string, string>) {
  const env = sandbox.env();
  return runBundle('promote', { inputs, env, secrets: [env.AWS_SECRET_ACCESS_KEY ?? '', sandbox.registry.password] });
}

async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  return (await sandbox.registry.client.manifest(repository, tag))?.digest;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  sandbox.ecr.createRepository('web', 'MUTABLE');
  sandbox.ecr.createRepository('locked', 'IMMUTABLE');
  const env = sandbox.env();
  const context = await sampleAppContext();
  for (const repository of ['web', 'locked']) {
    const run = await runBundle('build-push', {
      inputs: { repository, context, 'build-args': 'VERSION=promote-test' },
      env: { ...env, GITHUB_SHA: SHA },
    });
    if (run.exitCode !== 0) throw new Error(`build-push failed:\n${run.log}`);
  }
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
});

beforeEach(() => {
  sandbox.aws.calls.length = 0;
});

describe('promote bundle against the sandbox', () => {
  it('moves sha-… → staging → production by manifest copy, in at most 3 ECR calls each', async () => {
    const digest = await tagDigest('web', `sha-${SHA}`);
    const toStaging = await promote({ repository: 'web', source: `sha-${SHA}`, tags: 'staging' });
    expect(toStaging.exitCode).toBe(0);
    expect(toStaging.outputs).toMatchObject({ digest, image: `${sandbox.registry.host}/web@${digest}` });
    expect(sandbox.aws.calls.length).toBeLessThanOrEqual(3);

    sandbox.aws.calls.length = 0;
    const toProduction = await promote({ repository: 'web', source: 'staging', tags: 'production' });
    expect(toProduction.exitCode).toBe(0);
    expect(await tagDigest('web', 'staging')).toBe(digest);
    expect(await tagDigest('web', 'production')).toBe(digest);
    expect(sandbox.aws.calls.map((c) => c.operation)).toEqual(['DescribeRepositories', 'BatchGetImage', 'PutImage']);
  });

  it('promoting again to a tag that already points there succeeds', async () => {
    const again = await promote({ repository: 'web', source: `sha-${SHA}`, tags: 'production' });
    expect(again.exitCode).toBe(0);
    expect(again.log).toContain('web:production already points at');
  });

  it('on an IMMUTABLE repository: same digest is success, another digest is a clear error', async () => {
    const first = await promote({ repository: 'locked', source: `sha-${SHA}`, tags: 'production' });
    expect(first.exitCode).toBe(0);
    const same = await promote({ repository: 'locked', source: first.outputs.digest ?? '', tags: 'production' });
    expect(same.exitCode).toBe(0);

    // Another image in the same repository: the same layers under a manifest with one byte more.
    const stored = await sandbox.registry.client.manifest('locked', 'production');
    const other = Buffer.concat([stored!.bytes, Buffer.from('\n')]);
    const otherDigest = `sha256:${createHash('sha256').update(other).digest('hex')}`;
    await sandbox.registry.client.send(
      'PUT',
      '/v2/locked/manifests/other',
      { 'content-type': stored!.mediaType },
      other,
    );

    const moved = await promote({ repository: 'locked', source: 'other', tags: 'production' });
    expect(moved.exitCode).toBe(1);
    expect(moved.errors[0]).toContain(`Could not tag locked:production with ${otherDigest}`);
    expect(moved.errors[0]).toContain(`production already points at ${first.outputs.digest}`);
    expect(await tagDigest('locked', 'production')).toBe(first.outputs.digest);
  });

  it('keeps an OCI image index an index, byte for byte', async () => {
    const child = await sandbox.registry.client.manifest('web', `sha-${SHA}`);
    const index = `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: child!.mediaType,
            digest: child!.digest,
            size: child!.bytes.length,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      },
      null,
      3,
    )}\n`;
    const put = await sandbox.registry.client.send(
      'PUT',
      '/v2/web/manifests/multi',
      { 'content-type': 'application/vnd.oci.image.index.v1+json' },
      Buffer.from(index),
    );
    expect(put.status).toBe(201);
    const run = await promote({ repository: 'web', source: 'multi', tags: 'multi-prod' });
    expect(run.exitCode).toBe(0);
    const copied = await sandbox.registry.client.manifest('web', 'multi-prod');
    expect(copied?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(copied?.bytes.toString()).toBe(index);
    expect(run.outputs.digest).toBe(`sha256:${createHash('sha256').update(index).digest('hex')}`);
  });

  it('a source that does not exist fails naming it; an invalid digest fails before any AWS call', async () => {
    const missing = await promote({ repository: 'web', source: 'sha-nothere', tags: 'staging' });
    expect(missing.exitCode).toBe(1);
    expect(missing.errors[0]).toMatch(
      /Could not promote sha-nothere in the ECR repository web: Requested image not found/,
    );

    sandbox.aws.calls.length = 0;
    const bad = await promote({ repository: 'web', source: 'sha256:123', tags: 'staging' });
    expect(bad.exitCode).toBe(1);
    expect(bad.errors[0]).toMatch(/^Input 'source' has an invalid value "sha256:123"/);
    expect(sandbox.aws.calls).toHaveLength(0);
  });
});
