import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type RunBundleOptions, runBundle } from '../../sandbox/run-bundle';
import { sampleAppContext } from '../../sandbox/sample-app';

// Builds and pushes take seconds each; the project's testTimeout is not applied to single-file runs.
jest.setTimeout(300_000);

let sandbox: Sandbox;
let context: string;
let shim: { dir: string; log: string };

/** A `docker` first on PATH that records each invocation's argv, then runs the real CLI. */
function dockerShim(): { dir: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'adk-docker-shim-'));
  const log = join(dir, 'argv.log');
  const real = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p)) ?? 'docker';
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec ${real} "$@"\n`);
  chmodSync(join(dir, 'docker'), 0o755);
  writeFileSync(log, '');
  return { dir, log };
}

function dockerInvocations(): string[] {
  return readFileSync(shim.log, 'utf8').split('\n').filter(Boolean);
}

/** Files of the registry's blob store: a layer or config upload adds one. */
function blobCount(): number {
  const root = join(sandbox.registry.storageDir, 'docker/registry/v2/blobs/sha256');
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((n, prefix) => n + readdirSync(join(root, prefix)).length, 0);
}

function commit(n: number): string {
  return n.toString(16).padStart(2, '0').repeat(20);
}

function buildPush(inputs: Record<string, string>, sha: string, extra: Partial<RunBundleOptions> = {}) {
  const env = sandbox.env();
  return runBundle('build-push', {
    inputs: { context, 'build-args': `VERSION=${sha.slice(0, 7)}`, ...inputs },
    env: { ...env, GITHUB_SHA: sha, PATH: `${shim.dir}:${process.env.PATH}` },
    secrets: [
      sandbox.registry.password,
      Buffer.from(`AWS:${sandbox.registry.password}`).toString('base64'),
      env.AWS_SECRET_ACCESS_KEY ?? '',
    ],
    ...extra,
  });
}

async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  return (await sandbox.registry.client.manifest(repository, tag))?.digest;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  context = await sampleAppContext();
  shim = dockerShim();
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
});

beforeEach(() => {
  sandbox.aws.calls.length = 0;
  sandbox.aws.faults.clear();
  writeFileSync(shim.log, '');
});

describe('build-push bundle against the sandbox', () => {
  const sha = commit(1);

  it('first run builds and pushes; outputs the registry digest and tags it by digest', async () => {
    sandbox.ecr.createRepository('web', 'MUTABLE');
    const run = await buildPush({ repository: 'web', tags: 'latest' }, sha);
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);

    const digest = await tagDigest('web', `sha-${sha}`);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(run.outputs).toMatchObject({
      digest,
      image: `${sandbox.registry.host}/web@${digest}`,
      registry: sandbox.registry.host,
      reused: 'false',
      tags: `sha-${sha}\nlatest`,
    });
    expect(await tagDigest('web', 'latest')).toBe(digest);
    expect(JSON.parse(run.outputs.record ?? '{}')).toMatchObject({
      commit: sha,
      image: { digest, reused: false, tags: [`sha-${sha}`, 'latest'] },
      phases: [{ name: 'build', status: 'succeeded' }],
    });
    // The password went to docker on stdin only.
    expect(dockerInvocations()).toContain(`login --username AWS --password-stdin ${sandbox.registry.host}`);
    expect(dockerInvocations().filter((a) => a.startsWith('push'))).toEqual([
      `push ${sandbox.registry.host}/web:sha-${sha}`,
    ]);
  });

  it('second run of the same commit reuses the image: no login, build or push, no blob uploaded', async () => {
    const blobsBefore = blobCount();
    const digest = await tagDigest('web', `sha-${sha}`);
    const run = await buildPush({ repository: 'web', tags: 'latest\nv1' }, sha);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ digest, reused: 'true' });
    expect(run.log).toContain(`web:sha-${sha} is already in ECR (${digest}): reusing it, nothing is built.`);

    expect(dockerInvocations()).toEqual(['buildx version']);
    expect(blobCount()).toBe(blobsBefore);
    expect(sandbox.aws.callsOf('GetAuthorizationToken')).toHaveLength(0);
    // Only the missing tag was added, by manifest copy.
    expect(sandbox.aws.callsOf('PutImage').map((c) => c.params.imageTag)).toEqual(['v1']);
    expect(await tagDigest('web', 'v1')).toBe(digest);
  });

  it('an IMMUTABLE repository: first run pushes, re-running the same run is a no-op success', async () => {
    sandbox.ecr.createRepository('web-immutable', 'IMMUTABLE');
    const first = await buildPush({ repository: 'web-immutable', tags: 'release' }, commit(2));
    expect(first.exitCode).toBe(0);
    const again = await buildPush({ repository: 'web-immutable', tags: 'release' }, commit(2));
    expect(again.errors).toEqual([]);
    expect(again.exitCode).toBe(0);
    expect(again.outputs).toMatchObject({ digest: first.outputs.digest, reused: 'true' });
    expect(await tagDigest('web-immutable', 'release')).toBe(first.outputs.digest);
  });

  it('succeeds through a throttled GetAuthorizationToken (the SDK retries it)', async () => {
    sandbox.ecr.createRepository('web-throttled');
    sandbox.aws.faults.add({ kind: 'throttle', operation: 'GetAuthorizationToken', times: 2 });
    const run = await buildPush({ repository: 'web-throttled' }, commit(3));
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(sandbox.aws.callsOf('GetAuthorizationToken')).toHaveLength(3);
    expect(await tagDigest('web-throttled', `sha-${commit(3)}`)).toBe(run.outputs.digest);
  });

  it('an invalid tag fails with the ConfigurationError before any AWS call or docker command', async () => {
    const run = await buildPush({ repository: 'web', tags: 'ok\n-bad' }, commit(4));
    expect(run.exitCode).toBe(1);
    expect(run.errors).toEqual([
      `Input 'tags' has an invalid value "-bad": expected an image tag of 1-128 characters from A-Z a-z 0-9 _ . - that does not start with . or -.`,
    ]);
    expect(sandbox.aws.calls).toHaveLength(0);
    expect(dockerInvocations()).toEqual([]);
  });

  it('a missing repository says how to fix it; create-repository: true creates it and pushes', async () => {
    const missing = await buildPush({ repository: 'web-new' }, commit(5));
    expect(missing.exitCode).toBe(1);
    expect(missing.errors[0]).toMatch(/repository web-new does not exist.*create-repository: true/);

    const created = await buildPush({ repository: 'web-new', 'create-repository': 'true' }, commit(5));
    expect(created.exitCode).toBe(0);
    expect(sandbox.ecr.repositories.get('web-new')).toMatchObject({ scanOnPush: true, imageTagMutability: 'MUTABLE' });
    expect(await tagDigest('web-new', `sha-${commit(5)}`)).toBe(created.outputs.digest);
  });

  it('expired credentials fail with one message saying how to renew them', async () => {
    sandbox.aws.faults.add({ kind: 'expired-token', operation: 'DescribeRepositories' });
    const run = await buildPush({ repository: 'web' }, commit(6));
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(/session token has expired \(ExpiredTokenException\)\. Renew the credentials/);
  });

  it("its post step logs docker out of the registry: the runner's docker config no longer holds the ECR login", async () => {
    const host = sandbox.registry.host;
    const configFile = join(sandbox.env().DOCKER_CONFIG ?? '', 'config.json');
    const auths = () => JSON.parse(readFileSync(configFile, 'utf8')).auths ?? {};
    sandbox.ecr.createRepository('web-logout', 'MUTABLE');
    const main = await buildPush({ repository: 'web-logout' }, commit(7));
    expect(main.exitCode).toBe(0);
    expect(auths()).toHaveProperty([host]);

    // As the runner runs a post step: its own process, the main step's state, the same inputs and environment.
    const post = await runBundle('build-push-post', {
      inputs: { repository: 'web-logout' },
      env: { ...sandbox.env(), PATH: `${shim.dir}:${process.env.PATH}` },
      state: main.state,
      secrets: [sandbox.registry.password, Buffer.from(`AWS:${sandbox.registry.password}`).toString('base64')],
    });
    expect(post.exitCode).toBe(0);
    expect(post.warnings).toEqual([]);
    expect(post.log).toContain(`Logged out of ${host}: the docker config no longer holds this job's ECR login.`);
    expect(dockerInvocations()).toContain(`logout ${host}`);
    expect(auths()).not.toHaveProperty([host]);
    expect(readFileSync(configFile, 'utf8')).not.toContain(
      Buffer.from(`AWS:${sandbox.registry.password}`).toString('base64'),
    );
  });
});

/**
 * podman with storage of its own as the `docker` of the step: the sandbox has no buildx and the docker CLI's legacy
 * builder takes no --secret, while podman's build (buildah) does. Its RUN steps use chroot isolation, since the
 * sandbox has no cgroup controllers for an OCI runtime. Records each invocation's argv like dockerShim.
 */
function podmanShim(): { path: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'adk-podman-shim-'));
  const log = join(dir, 'argv.log');
  const podman = `podman --storage-driver vfs --root '${dir}/root' --runroot '${dir}/runroot'`;
  writeFileSync(
    join(dir, 'docker'),
    [
      '#!/bin/sh',
      `printf '%s\\n' "$*" >> '${log}'`,
      `export REGISTRY_AUTH_FILE='${dir}/auth.json'`,
      `if [ "$1" = build ] && [ "$2" != --help ]; then shift; exec ${podman} build --isolation chroot "$@"; fi`,
      `exec ${podman} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(join(dir, 'docker'), 0o755);
  writeFileSync(log, '');
  return { path: join(dir, 'docker'), log };
}

/** The regular files of a (gzipped) tar layer, by path. */
function layerFiles(blob: Buffer): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(blob);
  } catch {
    tar = blob;
  }
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (name === '') break;
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    if (header[156] === 0x30 || header[156] === 0)
      files.set(name.replace(/^\.?\//, ''), tar.subarray(at + 512, at + 512 + size));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('build-push parity with docker/build-push-action (issue 13 item 5)', () => {
  const TOKEN = 'e2e-token-5f1c9a7d3b';
  const NETRC = 'machine git.example.com password e2e-file-8e2d4c6a1f';

  it('a build with a secret and a secret file: both reach RUN, neither is in the image, its history or the log; the labels are in the image config', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'adk-secret-ws-'));
    cpSync(context, join(workspace, 'app'), { recursive: true });
    writeFileSync(
      join(workspace, 'app', 'Dockerfile.secrets'),
      [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'RUN --mount=type=secret,id=token --mount=type=secret,id=netrc ["/bin/busybox", "sh", "-c", ' +
          '"/bin/busybox wc -c < /run/secrets/token > /token-size && /bin/busybox wc -c < /run/secrets/netrc > /netrc-size"]',
        '',
      ].join('\n'),
    );
    // Outside the build context (app/), inside the workspace.
    writeFileSync(join(workspace, 'netrc'), NETRC);
    const podman = podmanShim();
    sandbox.ecr.createRepository('web-secrets', 'MUTABLE');
    const sha = commit(20);
    const run = await buildPush(
      {
        repository: 'web-secrets',
        context: 'app',
        dockerfile: 'app/Dockerfile.secrets',
        docker: podman.path,
        secrets: `token=${TOKEN}`,
        'secret-files': 'netrc=netrc',
        labels: 'org.opencontainers.image.title=web\ncom.example.team=payments',
        'no-cache': 'true',
      },
      sha,
      // runBundle fails the test if either value appears in the log, the summary or the outputs.
      { cwd: workspace, secrets: [TOKEN, NETRC, sandbox.registry.password, sandbox.env().AWS_SECRET_ACCESS_KEY ?? ''] },
    );
    expect(run.errors).toEqual([]);
    expect(run.exitCode).toBe(0);
    const argv = readFileSync(podman.log, 'utf8');
    expect(argv).toContain('--secret id=token,env=AWS_DEPLOY_KIT_SECRET_0');
    expect(argv).toContain(`--secret id=netrc,src=${join(workspace, 'netrc')}`);
    expect(argv).not.toContain(TOKEN);
    expect(argv).not.toContain(NETRC);

    const manifest = await sandbox.registry.client.manifest('web-secrets', `sha-${sha}`);
    expect(manifest?.digest).toBe(run.outputs.digest);
    const { config, layers } = JSON.parse(manifest!.bytes.toString('utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const configBlob = (await sandbox.registry.client.blob('web-secrets', config.digest)).toString('utf8');
    const image = JSON.parse(configBlob) as {
      config: { Labels: Record<string, string> };
      history: { created_by?: string }[];
    };
    expect(image.config.Labels).toMatchObject({
      'org.opencontainers.image.title': 'web',
      'com.example.team': 'payments',
      'org.opencontainers.image.revision': sha,
    });
    // The image history names the RUN step with its mounts, and no value.
    expect(image.history.map((h) => h.created_by ?? '').join('\n')).toContain('--mount=type=secret,id=token');
    expect(configBlob).not.toContain(TOKEN);
    expect(configBlob).not.toContain('e2e-file-');

    // The secrets reached the RUN step (their sizes are in the image) and no layer holds them.
    const files = new Map<string, Buffer>();
    for (const layer of layers) {
      const blob = await sandbox.registry.client.blob('web-secrets', layer.digest);
      for (const [name, content] of layerFiles(blob)) files.set(name, content);
    }
    expect(files.get('token-size')?.toString().trim()).toBe(String(TOKEN.length));
    expect(files.get('netrc-size')?.toString().trim()).toBe(String(NETRC.length));
    for (const content of files.values()) {
      expect(content.includes(TOKEN)).toBe(false);
      expect(content.includes('e2e-file-')).toBe(false);
    }
  });

  it('the docker CLI without buildx refuses a secret before any AWS call, without showing it', async () => {
    const run = await buildPush({ repository: 'web', secrets: `token=${TOKEN}` }, commit(21), {
      secrets: [TOKEN],
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toMatch(
      /^Input 'secrets' has an invalid value "token=\*\*\*": expected a docker that can pass it: this docker has no buildx plugin and its plain build takes no --secret/,
    );
    expect(sandbox.aws.calls).toHaveLength(0);
  });

  it('the all-in-one action refuses provenance for App Runner before anything is built or any AWS call', async () => {
    const run = await runBundle('pipeline', {
      inputs: {
        target: 'apprunner',
        repository: 'web',
        environment: 'staging',
        'service-arn': `arn:aws:apprunner:us-east-1:123456789012:service/web/${'0'.repeat(32)}`,
        context,
        provenance: 'true',
      },
      env: { ...sandbox.env(), GITHUB_SHA: commit(22), PATH: `${shim.dir}:${process.env.PATH}` },
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toBe(
      `Input 'provenance' has an invalid value "true": expected "false" for target apprunner: App Runner runs a ` +
        'single image manifest only, it cannot run an image index (manifest list), and provenance makes the pushed image one.',
    );
    expect(sandbox.aws.calls).toHaveLength(0);
    expect(dockerInvocations()).toEqual([]);
  });
});
