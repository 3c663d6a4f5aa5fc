import { createHash } from 'node:crypto';
import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { BatchGetImageCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { type Moto, startMoto } from '../../sandbox/moto';
import { runBundle } from '../../sandbox/run-bundle';
import { describeGroup } from '../../src/aws/autoscaling';
import { createRepository, describeRepository, findImage, listTaggedImages, promoteImage } from '../../src/aws/ecr';
import { deleteImages, getLifecyclePolicy, listAllImages, putLifecyclePolicy } from '../../src/aws/ecr-cleanup';
import { targetHealth } from '../../src/aws/elbv2';
import { lifecyclePolicyFor } from '../../src/deploy/lifecycle-policy';
import { markVerified, readPointers } from '../../src/deploy/pointers';

// A second opinion: the ECR, Auto Scaling and ELBv2 calls the toolkit makes (src/aws/*), the promote bundle and the
// rollback bundle's ECR pointer path, run against moto 5.2.1 (`python3 -m moto.server` on loopback) with the real SDK
// clients; the ECR assertions on which moto and our emulator agree (and AWS does that) run against both. moto is not
// AWS: sandbox/README.md lists where it differs, pinned below. Without moto this file fails, saying how to
// install it.

jest.setTimeout(120_000);

const SHA = 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

let moto: Moto;
let sandbox: Sandbox;
let ecr: ECRClient;
const savedEnv = { ...process.env };

function blobDigest(content: string): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** The blobs of image `version`: its config and its one layer (contents too small to matter, digests real). */
function blobs(version: string) {
  return { config: `config of ${version}`, layer: `layer of ${version}` };
}

/** A docker image manifest over `blobs(version)`. */
function manifest(version: string): string {
  const { config, layer } = blobs(version);
  return `${JSON.stringify(
    {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: 'application/vnd.docker.container.image.v1+json',
        size: config.length,
        digest: blobDigest(config),
      },
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          size: layer.length,
          digest: blobDigest(layer),
        },
      ],
    },
    null,
    3,
  )}\n`;
}

/** Where the ECR calls go: moto, or our emulator (whose registry must hold a manifest's blobs, as ECR's must). */
interface Backend {
  ecr: ECRClient;
  /** Makes the blobs of `manifest(version)` exist in `repository` (moto checks none). */
  upload(repository: string, version: string): Promise<void>;
}
const backends: Record<string, Backend> = {};

function clientFor(endpoint: string): ECRClient {
  return new ECRClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret' },
    maxAttempts: 1,
  });
}

async function uploadBlob(repository: string, content: string): Promise<void> {
  const client = sandbox.registry.client;
  const started = await client.send('POST', `/v2/${repository}/blobs/uploads/`);
  const location = new URL(String(started.headers.location), `https://${sandbox.registry.host}`);
  location.searchParams.set('digest', blobDigest(content));
  const put = await client.send(
    'PUT',
    `${location.pathname}${location.search}`,
    { 'content-type': 'application/octet-stream' },
    Buffer.from(content),
  );
  if (put.status !== 201) throw new Error(`blob upload to ${repository}: HTTP ${put.status} ${put.body}`);
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, moto.env(), { AWS_MAX_ATTEMPTS: '1' });
  ecr = new ECRClient({});
  sandbox = await startSandbox({ engine: false });
  backends.moto = { ecr, upload: async () => undefined };
  backends.emulator = {
    ecr: clientFor(sandbox.aws.endpoint),
    upload: async (repository, version) => {
      const { config, layer } = blobs(version);
      await uploadBlob(repository, config);
      await uploadBlob(repository, layer);
    },
  };
}, 120_000);

afterAll(async () => {
  for (const backend of Object.values(backends)) backend.ecr.destroy();
  await moto?.stop();
  await sandbox?.stop();
  process.env = savedEnv;
});

async function push(repositoryName: string, imageTag: string, imageManifest: string, on = backends.moto!) {
  const out = await on.ecr.send(
    new PutImageCommand({ repositoryName, imageTag, imageManifest, imageManifestMediaType: DOCKER_MANIFEST }),
  );
  return out.image!.imageId!.imageDigest!;
}

// What AWS does and both moto and our emulator agree on: the same assertions against each.
describe.each(['moto', 'emulator'])('ECR calls of src/aws/ecr.ts against %s', (name) => {
  let on: Backend;
  let client: ECRClient;
  let digest: string;
  beforeAll(async () => {
    on = backends[name]!;
    client = on.ecr;
    await createRepository(client, { repository: 'web', mutability: 'MUTABLE', scanOnPush: false });
    await createRepository(client, { repository: 'locked', mutability: 'IMMUTABLE', scanOnPush: false });
    for (const repository of ['web', 'locked']) for (const v of ['v1', 'v2']) await on.upload(repository, v);
    digest = await push('web', `sha-${SHA}`, manifest('v1'), on);
  });

  it('describes a repository with its mutability, and an absent one as undefined', async () => {
    expect(await describeRepository(client, 'locked')).toMatchObject({ name: 'locked', mutability: 'IMMUTABLE' });
    expect(await describeRepository(client, 'nowhere')).toBeUndefined();
  });

  it('finds an image by tag and by digest, and a missing tag as undefined', async () => {
    expect(await findImage(client, 'web', `sha-${SHA}`)).toMatchObject({ digest, tags: [`sha-${SHA}`] });
    expect((await findImage(client, 'web', digest))?.tags).toEqual([`sha-${SHA}`]);
    expect(await findImage(client, 'web', 'none')).toBeUndefined();
  });

  it('promotes by manifest copy: the tag moves to the same digest, and again is "unchanged"', async () => {
    const first = await promoteImage(client, { repository: 'web', source: `sha-${SHA}`, tags: ['staging'] });
    expect(first).toMatchObject({ digest, moved: ['staging'], unchanged: [] });
    expect((await findImage(client, 'web', 'staging'))?.digest).toBe(digest);
    const again = await promoteImage(client, { repository: 'web', source: digest, tags: ['staging'] });
    expect(again).toMatchObject({ digest, moved: [], unchanged: ['staging'] });
    expect((await listTaggedImages(client, 'web')).map((i) => [i.digest, [...i.tags].sort()])).toEqual([
      [digest, [`sha-${SHA}`, 'staging'].sort()],
    ]);
  });

  it('on an IMMUTABLE repository: promoting to a tag that already points there is success', async () => {
    const one = await push('locked', 'v1', manifest('v1'), on);
    expect(await promoteImage(client, { repository: 'locked', source: 'v1', tags: ['production'] })).toMatchObject({
      moved: ['production'],
    });
    expect(await promoteImage(client, { repository: 'locked', source: one, tags: ['production'] })).toMatchObject({
      unchanged: ['production'],
    });
    expect((await findImage(client, 'locked', 'production'))?.digest).toBe(one);
  });

  it('an unknown source is a DeployError naming the image, not a crash', async () => {
    await expect(promoteImage(client, { repository: 'web', source: 'none', tags: ['x'] })).rejects.toThrow(
      /Could not promote none in the ECR repository web/,
    );
  });

  it("the rollback's ECR pointers: markVerified moves deployed-/previous-, readPointers reads them back", async () => {
    const v2 = await push('web', `sha-${'b'.repeat(40)}`, manifest('v2'), on);
    await markVerified(client, { repository: 'web', environment: 'prod', digest });
    await markVerified(client, { repository: 'web', environment: 'prod', digest: v2 });
    await markVerified(client, { repository: 'web', environment: 'prod', digest: v2 });
    const pointers = await readPointers(client, 'web', 'prod');
    expect(pointers.current).toMatchObject({ digest: v2, commit: 'b'.repeat(40) });
    expect(pointers.previous).toMatchObject({ digest, commit: SHA });
  });

  it("the cleanup's calls: every image listed, deleted by digest, the lifecycle policy written and read back", async () => {
    await on.upload('web', 'v3');
    const old = await push('web', 'old', manifest('v3'), on);
    expect((await listAllImages(client, 'web')).find((i) => i.digest === old)).toMatchObject({
      tags: ['old'],
      pushedAt: expect.any(Date),
      sizeInBytes: expect.any(Number),
    });
    const gone = `sha256:${'0'.repeat(64)}`;
    // An image already gone counts as deleted: ECR (and both backends) answer it with an ImageNotFound failure.
    expect(await deleteImages(client, 'web', [old, gone])).toEqual({ deleted: [old, gone], failures: [] });
    expect((await listAllImages(client, 'web')).map((i) => i.digest)).not.toContain(old);

    expect(await getLifecyclePolicy(client, 'web')).toBeUndefined();
    const policy = lifecyclePolicyFor({
      untaggedDays: 30,
      keepTags: ['latest', 'release-*'],
      includeBuildCache: false,
    });
    await putLifecyclePolicy(client, 'web', JSON.stringify(policy));
    expect(JSON.parse((await getLifecyclePolicy(client, 'web')) ?? '{}')).toEqual(policy);
  });
});

// Where moto is not AWS (sandbox/README.md): pinned, so that a moto upgrade that changes it is noticed.
describe('where moto differs from AWS', () => {
  it('hides a move of an IMMUTABLE tag as ImageAlreadyExistsException (AWS: ImageTagAlreadyExistsException)', async () => {
    const one = (await findImage(ecr, 'locked', 'production'))!.digest;
    await push('locked', 'v2', manifest('v2'));
    // Our emulator answers as AWS does, and promote then fails clearly: test/e2e/promote.test.ts.
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'locked',
          imageTag: 'production',
          imageManifest: manifest('v2'),
          imageManifestMediaType: DOCKER_MANIFEST,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' });
    // So promote, which reads that code as "already there", reports a refused move as unchanged.
    expect(await promoteImage(ecr, { repository: 'locked', source: 'v2', tags: ['production'] })).toMatchObject({
      moved: [],
      unchanged: ['production'],
    });
    expect((await findImage(ecr, 'locked', 'production'))?.digest).toBe(one);
  });

  it('keeps the manifest byte for byte, but its digest is not the sha256 of those bytes', async () => {
    const bytes = manifest('v3');
    const pushed = await push('web', 'v3', bytes);
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'web',
        imageIds: [{ imageTag: 'v3' }],
        acceptedMediaTypes: [DOCKER_MANIFEST],
      }),
    );
    expect(got.images?.[0]?.imageManifest).toBe(bytes);
    expect(got.images?.[0]?.imageManifestMediaType).toBe(DOCKER_MANIFEST);
    // AWS (and a registry, and our emulator) name a manifest by the sha256 of its bytes; moto hashes the layer digests
    // joined, so two manifests with the same layers share one digest there.
    expect(pushed).not.toBe(blobDigest(bytes));
    const layers = (JSON.parse(bytes) as { layers: { digest: string }[] }).layers.map((l) => l.digest).join('');
    expect(pushed).toBe(blobDigest(layers));
  });

  it("takes PutImage's imageDigest guard as the digest instead of checking it, and checks no layer", async () => {
    const claimed = `sha256:${'e'.repeat(64)}`;
    const out = await ecr.send(
      new PutImageCommand({
        repositoryName: 'web',
        imageTag: 'guarded',
        imageManifest: manifest('never-uploaded'),
        imageManifestMediaType: DOCKER_MANIFEST,
        imageDigest: claimed,
      }),
    );
    // AWS: ImageDigestDoesNotMatchException (and LayersNotFoundException for blobs never uploaded).
    expect(out.image?.imageId?.imageDigest).toBe(claimed);
  });
});

describe('the promote bundle against moto', () => {
  it('moves sha-… → production by manifest copy', async () => {
    const run = await runBundle('promote', {
      inputs: { repository: 'web', source: `sha-${SHA}`, tags: 'production' },
      env: moto.env(),
      secrets: [moto.env().AWS_SECRET_ACCESS_KEY!],
    });
    expect(run.exitCode).toBe(0);
    const digest = (await findImage(ecr, 'web', `sha-${SHA}`))!.digest;
    expect(run.outputs.digest).toBe(digest);
    expect((await findImage(ecr, 'web', 'production'))?.digest).toBe(digest);
  });

  it('an unknown repository fails with a message naming it', async () => {
    const run = await runBundle('promote', {
      inputs: { repository: 'nowhere', source: `sha-${SHA}`, tags: 'production' },
      env: moto.env(),
    });
    expect(run.exitCode).toBe(1);
    expect(run.errors.join('\n')).toContain('nowhere');
  });
});

/** One EC2 query call to moto (the toolkit has no EC2 client; the launch template and VPC are set-up only). */
async function ec2(params: Record<string, string>): Promise<string> {
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto routes by the credential scope's service name; it checks no signature.
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAMOTOEXAMPLE/20260101/us-east-1/ec2/aws4_request, Signature=0',
    },
    body: new URLSearchParams({ Version: '2016-11-15', ...params }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${params.Action}: HTTP ${res.status} ${text}`);
  return text;
}

describe('Auto Scaling and ELBv2 calls of src/aws against moto', () => {
  it('describeGroup reads the launch template, target groups and instances; targetHealth the targets', async () => {
    const autoscaling = new AutoScalingClient({});
    const elbv2 = new ElasticLoadBalancingV2Client({});
    const lt = await ec2({
      Action: 'CreateLaunchTemplate',
      LaunchTemplateName: 'web',
      'LaunchTemplateData.ImageId': 'ami-12c6146b',
      'LaunchTemplateData.InstanceType': 't3.micro',
    });
    const templateId = /<launchTemplateId>([^<]+)</.exec(lt)![1]!;
    const vpcId = /<vpcId>([^<]+)</.exec(await ec2({ Action: 'DescribeVpcs' }))![1]!;
    const tg = await elbv2.send(
      new CreateTargetGroupCommand({ Name: 'web-tg', Protocol: 'HTTP', Port: 8080, VpcId: vpcId }),
    );
    const tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' },
        MinSize: 2,
        MaxSize: 4,
        DesiredCapacity: 2,
        AvailabilityZones: ['us-east-1a'],
        TargetGroupARNs: [tgArn],
      }),
    );
    const group = await describeGroup(autoscaling, 'web');
    expect(group).toMatchObject({
      name: 'web',
      launchTemplate: { id: templateId, name: 'web', version: '1' },
      targetGroupArns: [tgArn],
      desiredCapacity: 2,
    });
    expect(group.instances).toHaveLength(2);
    expect(group.instances.map((i) => i.lifecycleState)).toEqual(['InService', 'InService']);
    await expect(describeGroup(autoscaling, 'nowhere')).rejects.toThrow(
      'The Auto Scaling group nowhere does not exist',
    );

    const targets = await targetHealth(elbv2, [tgArn]);
    expect(targets.map((t) => t.id).sort()).toEqual(group.instances.map((i) => i.id).sort());
    // moto: instances are InService and their targets healthy at once (AWS: Pending, then initial, then healthy).
    expect(targets.map((t) => t.state)).toEqual(['healthy', 'healthy']);
    await expect(targetHealth(elbv2, [`${tgArn}0`])).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    autoscaling.destroy();
    elbv2.destroy();
  });
});

describe('the rollback bundle against moto', () => {
  it('reads previous-<env> and moves the boot tag to it; moto has no instance refresh, so it stops there', async () => {
    const run = await runBundle('rollback', {
      inputs: { environment: 'prod', target: 'asg', 'asg-name': 'web', repository: 'web', 'github-token': '' },
      env: moto.env(),
      secrets: [moto.env().AWS_SECRET_ACCESS_KEY!],
    });
    const previous = (await findImage(ecr, 'web', 'previous-prod'))!.digest;
    expect(run.log).toContain('chosen from:  the ECR pointer tag web:previous-prod');
    // The boot tag defaults to the environment's own tag (prod), never latest.
    expect(run.log).toContain(`Moved the boot tag web:prod back to ${previous}.`);
    expect((await findImage(ecr, 'web', 'prod'))?.digest).toBe(previous);
    // moto 5.2.1 implements no instance refresh: it answers an HTML 404 page, which the SDK reports as an XML error.
    expect(run.exitCode).toBe(1);
    expect(run.errors[0]).toContain('Could not list the instance refreshes of web');
  });
});
