import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutImageCommand,
  PutLifecyclePolicyCommand,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { docker } from '../../sandbox/docker';
import { type Sandbox, startSandbox } from '../../sandbox/index';
import { sampleAppContext } from '../../sandbox/sample-app';
import { promoteImage } from '../../src/aws/ecr';
import { captureLogger } from '../../src/core/logger';
import { markVerified } from '../../src/deploy/pointers';

// Conformance of the ECR emulator: the real @aws-sdk/client-ecr, pointed at it through AWS_ENDPOINT_URL_ECR only,
// must see what it would see from ECR, and every write must be visible through the registry's own API.

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ALL_MANIFEST_TYPES = [
  DOCKER_MANIFEST,
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

let sandbox: Sandbox;
let ecr: ECRClient;
/** The image `docker push` stored as web:v1, byte for byte. */
let pushed: { digest: string; manifest: string };

function client(): ECRClient {
  // Only the environment points the SDK at the emulator, exactly as for the shipped bundles. The SDK reads it lazily,
  // so it stays set for this test file (each file runs in its own jest worker context).
  Object.assign(process.env, sandbox.aws.clientEnv());
  return new ECRClient({});
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
}

/** The pushed docker manifest restated as an OCI image manifest: same blobs, new digest. */
function ociVariant(extra: Record<string, unknown> = {}): string {
  const source = JSON.parse(pushed.manifest) as { config: Descriptor; layers: Descriptor[] };
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { ...source.config, mediaType: 'application/vnd.oci.image.config.v1+json' },
    layers: source.layers.map((l) => ({ ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
    ...extra,
  });
}

/** Links the pushed image's blobs into another repository (a cross-repository mount, as `docker push` does). */
async function mountPushedBlobs(repository: string): Promise<void> {
  const source = JSON.parse(pushed.manifest) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [source.config, ...source.layers]) {
    const res = await sandbox.registry.client.send(
      'POST',
      `/v2/${repository}/blobs/uploads/?mount=${blob.digest}&from=web`,
    );
    if (res.status !== 201) throw new Error(`mount of ${blob.digest} into ${repository}: HTTP ${res.status}`);
  }
}

/** A repository holding the pushed image's blobs, ready for PutImage. */
async function repositoryWithBlobs(name: string, imageTagMutability?: 'MUTABLE' | 'IMMUTABLE'): Promise<void> {
  await ecr.send(
    new CreateRepositoryCommand({ repositoryName: name, ...(imageTagMutability ? { imageTagMutability } : {}) }),
  );
  await mountPushedBlobs(name);
}

async function putImage(repositoryName: string, imageManifest: string, mediaType: string, imageTag?: string) {
  return ecr.send(
    new PutImageCommand({
      repositoryName,
      imageManifest,
      imageManifestMediaType: mediaType,
      ...(imageTag ? { imageTag } : {}),
    }),
  );
}

async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  return (await sandbox.registry.client.manifest(repository, tag))?.digest;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  ecr = client();
  // The one push of this file: log in with the token ECR hands out, build the sample app, push web:v1.
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }));
  const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = auth.authorizationData?.[0];
  const password = Buffer.from(data?.authorizationToken ?? '', 'base64')
    .toString()
    .replace(/^AWS:/, '');
  const registry = new URL(data?.proxyEndpoint ?? '').host;
  await docker(['login', '--username', 'AWS', '--password-stdin', registry], sandbox.env(), password);
  const context = await sampleAppContext();
  await docker(['build', '-t', `${registry}/web:v1`, '--build-arg', 'VERSION=v1', context], sandbox.env());
  await docker(['push', `${registry}/web:v1`], sandbox.env());
  const stored = await sandbox.registry.client.manifest('web', 'v1');
  if (!stored) throw new Error('docker push stored no web:v1');
  pushed = { digest: stored.digest, manifest: stored.bytes.toString('utf8') };
}, 120_000);

afterAll(async () => {
  ecr?.destroy();
  await sandbox?.stop();
});

describe('GetAuthorizationToken', () => {
  it('hands out AWS:<registry password>, the registry endpoint and a 12-hour expiry as a Date', async () => {
    const { authorizationData } = await ecr.send(new GetAuthorizationTokenCommand({}));
    expect(authorizationData).toHaveLength(1);
    const data = authorizationData![0]!;
    expect(Buffer.from(data.authorizationToken!, 'base64').toString()).toBe(`AWS:${sandbox.registry.password}`);
    expect(data.proxyEndpoint).toBe(`https://${sandbox.registry.host}`);
    expect(data.expiresAt).toBeInstanceOf(Date);
    const hoursLeft = (data.expiresAt!.getTime() - Date.now()) / 3600_000;
    expect(hoursLeft).toBeGreaterThan(11);
    expect(hoursLeft).toBeLessThanOrEqual(12);
  });

  it('is the token the docker CLI logged in and pushed with', async () => {
    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(described.imageDetails?.[0]?.imageDigest).toBe(pushed.digest);
  });
});

describe('CreateRepository', () => {
  it('creates a repository with its URI, ARN, mutability and creation date', async () => {
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({ repositoryName: 'team/api', imageTagMutability: 'IMMUTABLE' }),
    );
    expect(repository).toMatchObject({
      repositoryName: 'team/api',
      repositoryUri: `${sandbox.registry.host}/team/api`,
      repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/team/api',
      registryId: '123456789012',
      imageTagMutability: 'IMMUTABLE',
    });
    expect(repository?.createdAt).toBeInstanceOf(Date);
  });

  it('accepts the model’s __ and -- separators and refuses what its pattern does not allow', async () => {
    for (const repositoryName of ['my__app', 'my--app', 'team__a/web---b']) {
      const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName }));
      expect(repository?.repositoryName).toBe(repositoryName);
    }
    for (const repositoryName of ['my___app', 'web-', 'a..b']) {
      await expect(ecr.send(new CreateRepositoryCommand({ repositoryName }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    }
  });

  it('refuses a name that is taken with RepositoryAlreadyExistsException', async () => {
    await expect(ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }))).rejects.toMatchObject({
      name: 'RepositoryAlreadyExistsException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it.each(['Web', 'web_', '-web', 'a', 'web//api', ''])(
    'refuses the bad name %j with InvalidParameterException',
    async (name) => {
      await expect(ecr.send(new CreateRepositoryCommand({ repositoryName: name }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    },
  );

  it('refuses an unknown tag mutability with InvalidParameterException', async () => {
    await expect(
      ecr.send(new CreateRepositoryCommand({ repositoryName: 'odd', imageTagMutability: 'SOMETIMES' as never })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});

describe('DescribeRepositories', () => {
  it('describes named repositories with their tag mutability', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'locked', imageTagMutability: 'IMMUTABLE' }));
    const { repositories } = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['web', 'locked'] }));
    expect(repositories?.map((r) => [r.repositoryName, r.imageTagMutability])).toEqual([
      ['web', 'MUTABLE'],
      ['locked', 'IMMUTABLE'],
    ]);
    expect(repositories?.[0]?.repositoryUri).toBe(`${sandbox.registry.host}/web`);
  });

  it('throws RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['web', 'nowhere'] })),
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException', message: expect.stringContaining('nowhere') });
  });

  it('pages through every repository with nextToken', async () => {
    for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      await ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
    }
    const all = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories?.map((r) => r.repositoryName);
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecr.send(
        new DescribeRepositoriesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(page.repositories!.length).toBeLessThanOrEqual(2);
      seen.push(...page.repositories!.map((r) => r.repositoryName!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    expect(seen).toEqual(all);
    expect(seen).toEqual(expect.arrayContaining(['web', 'page-a', 'page-e']));
    expect(pages).toBe(Math.ceil(seen.length / 2));
  });

  it('refuses a page size outside 1..1000 with InvalidParameterException', async () => {
    for (const maxResults of [0, 1001]) {
      await expect(ecr.send(new DescribeRepositoriesCommand({ maxResults }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    }
  });

  it('refuses a forged nextToken with InvalidParameterException', async () => {
    await expect(ecr.send(new DescribeRepositoriesCommand({ nextToken: 'not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});

describe('DescribeImages', () => {
  // gallery: the pushed image tagged 'docker', its OCI restatement tagged 'oci', and one untagged image.
  let oci: string;
  let untagged: string;
  beforeAll(async () => {
    await repositoryWithBlobs('gallery');
    await putImage('gallery', pushed.manifest, DOCKER_MANIFEST, 'docker');
    oci = (await putImage('gallery', ociVariant(), OCI_MANIFEST, 'oci')).image!.imageId!.imageDigest!;
    untagged = (await putImage('gallery', ociVariant({ annotations: { note: 'untagged' } }), OCI_MANIFEST)).image!
      .imageId!.imageDigest!;
  });

  it('describes an image by tag, with its digest, tags, size, media type and push time as a Date', async () => {
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(imageDetails).toHaveLength(1);
    const image = imageDetails![0]!;
    expect(image).toMatchObject({
      registryId: '123456789012',
      repositoryName: 'web',
      imageDigest: pushed.digest,
      imageTags: ['v1'],
      imageManifestMediaType: DOCKER_MANIFEST,
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
    });
    expect(image.imagePushedAt).toBeInstanceOf(Date);
    expect(Math.abs(image.imagePushedAt!.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    // The busybox layer alone is about 1 MB; the size is the sum of config and layers, as ECR reports it.
    const source = JSON.parse(pushed.manifest) as { config: Descriptor; layers: Descriptor[] };
    expect(image.imageSizeInBytes).toBe(source.config.size + source.layers.reduce((sum, l) => sum + l.size, 0));
  });

  it('describes an image by digest with all of its tags', async () => {
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'gallery', imageIds: [{ imageDigest: pushed.digest }] }),
    );
    expect(imageDetails?.map((d) => [d.imageDigest, d.imageTags])).toEqual([[pushed.digest, ['docker']]]);
  });

  it('lists every image, or only the tagged or untagged ones', async () => {
    const list = async (tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY') =>
      (
        await ecr.send(
          new DescribeImagesCommand({ repositoryName: 'gallery', ...(tagStatus ? { filter: { tagStatus } } : {}) }),
        )
      ).imageDetails
        ?.map((d) => d.imageDigest)
        .sort();
    expect(await list()).toEqual([pushed.digest, oci, untagged].sort());
    expect(await list('ANY')).toEqual([pushed.digest, oci, untagged].sort());
    expect(await list('TAGGED')).toEqual([pushed.digest, oci].sort());
    expect(await list('UNTAGGED')).toEqual([untagged]);
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'gallery', filter: { tagStatus: 'UNTAGGED' } }),
    );
    expect(imageDetails?.[0]?.imageTags).toBeUndefined();
  });

  it('pages with maxResults and nextToken', async () => {
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecr.send(
        new DescribeImagesCommand({ repositoryName: 'gallery', maxResults: 1, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(page.imageDetails).toHaveLength(1);
      seen.push(page.imageDetails![0]!.imageDigest!);
      nextToken = page.nextToken;
      pages++;
    } while (nextToken && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([pushed.digest, oci, untagged].sort());
  });

  it('throws ImageNotFoundException for a tag or digest that is not there', async () => {
    await expect(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v9' }] })),
    ).rejects.toMatchObject({ name: 'ImageNotFoundException', message: expect.stringContaining('v9') });
    await expect(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageDigest: untagged }] })),
    ).rejects.toMatchObject({ name: 'ImageNotFoundException' });
  });

  it('throws RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: 'nowhere' }))).rejects.toMatchObject({
      name: 'RepositoryNotFoundException',
    });
  });
});

describe('BatchGetImage', () => {
  it('returns the manifest byte for byte: its sha256 is the image digest', async () => {
    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'web',
        imageIds: [{ imageTag: 'v1' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );
    expect(failures).toEqual([]);
    expect(images).toHaveLength(1);
    const image = images![0]!;
    expect(image.imageId).toEqual({ imageDigest: pushed.digest, imageTag: 'v1' });
    expect(image.imageManifest).toBe(pushed.manifest);
    expect(sha256(image.imageManifest!)).toBe(pushed.digest);
    expect(image.imageManifestMediaType).toBe(DOCKER_MANIFEST);
  });

  it('reports a missing tag as a failure entry next to the images it found, not as a throw', async () => {
    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'web',
        imageIds: [{ imageTag: 'missing' }, { imageDigest: pushed.digest }, { imageDigest: 'sha256:nothex' }],
      }),
    );
    expect(images?.map((i) => i.imageId?.imageDigest)).toEqual([pushed.digest]);
    expect(failures).toEqual([
      { imageId: { imageTag: 'missing' }, failureCode: 'ImageNotFound', failureReason: expect.any(String) },
      {
        imageId: { imageDigest: 'sha256:nothex' },
        failureCode: 'InvalidImageDigest',
        failureReason: expect.any(String),
      },
    ]);
  });

  it('throws RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(
      ecr.send(new BatchGetImageCommand({ repositoryName: 'nowhere', imageIds: [{ imageTag: 'v1' }] })),
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });
});

describe('PutImage', () => {
  it('retags: moves a tag from one image to another, as the registry itself then serves it', async () => {
    await repositoryWithBlobs('retag');
    await putImage('retag', pushed.manifest, DOCKER_MANIFEST, 'v1');
    const pushedAt = async () =>
      (
        await ecr.send(new DescribeImagesCommand({ repositoryName: 'retag', imageIds: [{ imageTag: 'v1' }] }))
      ).imageDetails?.[0]?.imagePushedAt?.getTime();
    const pushedBefore = await pushedAt();
    await new Promise((r) => setTimeout(r, 20));
    const first = await putImage('retag', pushed.manifest, DOCKER_MANIFEST, 'staging');
    expect(first.image?.imageId).toEqual({ imageDigest: pushed.digest, imageTag: 'staging' });
    expect(await tagDigest('retag', 'staging')).toBe(pushed.digest);
    // A retag is not a push: the image keeps the time it was first pushed.
    expect(await pushedAt()).toBe(pushedBefore);

    const oci = ociVariant();
    const moved = await putImage('retag', oci, OCI_MANIFEST, 'staging');
    expect(moved.image?.imageId?.imageDigest).toBe(sha256(oci));
    expect(await tagDigest('retag', 'staging')).toBe(sha256(oci));
    expect(await tagDigest('retag', 'v1')).toBe(pushed.digest);
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'retag', imageIds: [{ imageDigest: pushed.digest }] }),
    );
    expect(imageDetails?.[0]?.imageTags).toEqual(['v1']);
  });

  it('throws ImageAlreadyExistsException when the tag already names this very digest', async () => {
    await expect(putImage('web', pushed.manifest, DOCKER_MANIFEST, 'v1')).rejects.toMatchObject({
      name: 'ImageAlreadyExistsException',
    });
  });

  it('refuses to move a tag of an IMMUTABLE repository with ImageTagAlreadyExistsException', async () => {
    await repositoryWithBlobs('frozen', 'IMMUTABLE');
    await putImage('frozen', pushed.manifest, DOCKER_MANIFEST, 'release');
    await expect(putImage('frozen', ociVariant(), OCI_MANIFEST, 'release')).rejects.toMatchObject({
      name: 'ImageTagAlreadyExistsException',
    });
    expect(await tagDigest('frozen', 'release')).toBe(pushed.digest);
    // A new tag on an immutable repository is fine.
    await putImage('frozen', ociVariant(), OCI_MANIFEST, 'release-oci');
    expect(await tagDigest('frozen', 'release-oci')).toBe(sha256(ociVariant()));
  });

  it('refuses a manifest whose digest is not the one given with ImageDigestDoesNotMatchException', async () => {
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'web',
          imageTag: 'guarded',
          imageManifest: pushed.manifest,
          imageManifestMediaType: DOCKER_MANIFEST,
          imageDigest: sha256('something else'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ImageDigestDoesNotMatchException' });
    expect(await tagDigest('web', 'guarded')).toBeUndefined();
    const guarded = await ecr.send(
      new PutImageCommand({
        repositoryName: 'web',
        imageTag: 'guarded',
        imageManifest: pushed.manifest,
        imageManifestMediaType: DOCKER_MANIFEST,
        imageDigest: pushed.digest,
      }),
    );
    expect(guarded.image?.imageId?.imageDigest).toBe(pushed.digest);
  });

  it('keeps an OCI image manifest as OCI', async () => {
    await repositoryWithBlobs('oci');
    const manifest = ociVariant();
    await putImage('oci', manifest, OCI_MANIFEST, 'v1');
    const stored = await sandbox.registry.client.manifest('oci', 'v1');
    expect(stored?.mediaType).toBe(OCI_MANIFEST);
    expect(stored?.bytes.toString()).toBe(manifest);
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'oci',
        imageIds: [{ imageTag: 'v1' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );
    expect(got.images?.[0]?.imageManifestMediaType).toBe(OCI_MANIFEST);
    expect(got.images?.[0]?.imageManifest).toBe(manifest);
    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'oci', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(described.imageDetails?.[0]).toMatchObject({
      imageManifestMediaType: OCI_MANIFEST,
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
    });
  });

  it('keeps an image index as an index that references the pushed manifest', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: pushed.digest,
          size: Buffer.byteLength(pushed.manifest),
          platform: { architecture: 'amd64', os: 'linux' },
        },
      ],
    });
    const put = await putImage('web', index, OCI_INDEX, 'multi');
    expect(put.image?.imageId?.imageDigest).toBe(sha256(index));
    const stored = await sandbox.registry.client.manifest('web', 'multi');
    expect(stored?.mediaType).toBe(OCI_INDEX);
    expect(stored?.digest).toBe(sha256(index));
    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'web',
        imageIds: [{ imageTag: 'multi' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );
    expect(got.images?.[0]).toMatchObject({ imageManifest: index, imageManifestMediaType: OCI_INDEX });
    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'multi' }] }),
    );
    expect(described.imageDetails?.[0]?.imageManifestMediaType).toBe(OCI_INDEX);
  });

  it('refuses an index of manifests the repository lacks with ReferencedImagesNotFoundException', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: DOCKER_MANIFEST, digest: sha256('absent'), size: 10 }],
    });
    await expect(putImage('web', index, OCI_INDEX, 'broken')).rejects.toMatchObject({
      name: 'ReferencedImagesNotFoundException',
    });
  });

  it('refuses a manifest whose layers the repository lacks with LayersNotFoundException', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'empty' }));
    await expect(putImage('empty', pushed.manifest, DOCKER_MANIFEST, 'v1')).rejects.toMatchObject({
      name: 'LayersNotFoundException',
    });
    expect(await tagDigest('empty', 'v1')).toBeUndefined();
  });

  it('refuses a bad tag and a manifest that is not JSON with InvalidParameterException', async () => {
    await expect(putImage('web', pushed.manifest, DOCKER_MANIFEST, 'bad tag')).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    await expect(putImage('web', '{not json', DOCKER_MANIFEST, 'v2')).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});

describe('BatchDeleteImage', () => {
  beforeAll(async () => {
    await repositoryWithBlobs('trash');
  });

  it('deleting one of two tags removes only that tag; deleting the last tag removes the image', async () => {
    await putImage('trash', pushed.manifest, DOCKER_MANIFEST, 'a');
    await putImage('trash', pushed.manifest, DOCKER_MANIFEST, 'b');
    const first = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'trash', imageIds: [{ imageTag: 'a' }] }),
    );
    expect(first).toMatchObject({ imageIds: [{ imageDigest: pushed.digest, imageTag: 'a' }], failures: [] });
    expect(await tagDigest('trash', 'a')).toBeUndefined();
    expect(await tagDigest('trash', 'b')).toBe(pushed.digest);
    expect(await sandbox.registry.client.manifest('trash', pushed.digest)).toBeDefined();

    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'trash', imageIds: [{ imageTag: 'b' }] }));
    expect(await sandbox.registry.client.tags('trash')).toEqual([]);
    expect(await sandbox.registry.client.manifest('trash', pushed.digest)).toBeUndefined();
    await expect(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'trash', imageIds: [{ imageDigest: pushed.digest }] })),
    ).rejects.toMatchObject({ name: 'ImageNotFoundException' });
  });

  it('deleting by digest removes the image with all its tags', async () => {
    const oci = ociVariant();
    await putImage('trash', oci, OCI_MANIFEST, 'c');
    await putImage('trash', oci, OCI_MANIFEST, 'd');
    const result = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'trash', imageIds: [{ imageDigest: sha256(oci) }] }),
    );
    expect(result.imageIds?.map((i) => i.imageDigest)).toEqual([sha256(oci)]);
    expect(result.failures).toEqual([]);
    expect(await sandbox.registry.client.manifest('trash', sha256(oci))).toBeUndefined();
    expect(await tagDigest('trash', 'c')).toBeUndefined();
    expect(await tagDigest('trash', 'd')).toBeUndefined();
    const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'trash' }));
    expect(imageDetails).toEqual([]);
  });

  it('reports missing and malformed ids as failures and deletes the rest', async () => {
    await putImage('trash', pushed.manifest, DOCKER_MANIFEST, 'keep');
    await putImage('trash', pushed.manifest, DOCKER_MANIFEST, 'drop');
    const result = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: 'trash',
        imageIds: [{ imageTag: 'ghost' }, { imageDigest: sha256('ghost') }, { imageTag: 'drop' }, {}],
      }),
    );
    expect(result.imageIds).toEqual([{ imageDigest: pushed.digest, imageTag: 'drop' }]);
    expect(result.failures?.map((f) => [f.imageId, f.failureCode])).toEqual([
      [{ imageTag: 'ghost' }, 'ImageNotFound'],
      [{ imageDigest: sha256('ghost') }, 'ImageNotFound'],
      [{}, 'MissingDigestAndTag'],
    ]);
    expect(await tagDigest('trash', 'keep')).toBe(pushed.digest);
  });

  it('throws RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(
      ecr.send(new BatchDeleteImageCommand({ repositoryName: 'nowhere', imageIds: [{ imageTag: 'v1' }] })),
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });

  it('refuses more than 100 image ids in one call, as the model limits the list', async () => {
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageTag: `t${i}` }));
    await expect(ecr.send(new BatchDeleteImageCommand({ repositoryName: 'trash', imageIds }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('less than or equal to 100'),
    });
  });

  it('keeps a platform image while an index lists it (ImageReferencedByManifestList), and deletes it after the index', async () => {
    await putImage('trash', pushed.manifest, DOCKER_MANIFEST, 'child');
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: DOCKER_MANIFEST, digest: pushed.digest, size: Buffer.byteLength(pushed.manifest) }],
    });
    await putImage('trash', index, OCI_INDEX, 'multi');
    const refused = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'trash', imageIds: [{ imageDigest: pushed.digest }] }),
    );
    expect(refused.imageIds).toEqual([]);
    expect(refused.failures?.map((f) => f.failureCode)).toEqual(['ImageReferencedByManifestList']);
    expect(await sandbox.registry.client.manifest('trash', pushed.digest)).toBeDefined();

    const both = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: 'trash',
        imageIds: [{ imageDigest: sha256(index) }, { imageDigest: pushed.digest }],
      }),
    );
    expect(both).toMatchObject({
      imageIds: [{ imageDigest: sha256(index) }, { imageDigest: pushed.digest }],
      failures: [],
    });
  });
});

describe('PutLifecyclePolicy / GetLifecyclePolicy', () => {
  const rule = (rulePriority: number, selection: Record<string, unknown>) => ({
    rulePriority,
    description: `rule ${rulePriority}`,
    selection,
    action: { type: 'expire' },
  });
  const untagged = (priority: number) =>
    rule(priority, { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 });
  const put = (rules: unknown[], repositoryName = 'web') =>
    ecr.send(new PutLifecyclePolicyCommand({ repositoryName, lifecyclePolicyText: JSON.stringify({ rules }) }));

  it('stores a valid policy and reads it back; a repository without one throws LifecyclePolicyNotFoundException', async () => {
    await repositoryWithBlobs('lifecycle');
    await expect(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lifecycle' }))).rejects.toMatchObject({
      name: 'LifecyclePolicyNotFoundException',
    });
    const rules = [
      rule(1, { tagStatus: 'tagged', tagPatternList: ['deployed-*'], countType: 'imageCountMoreThan', countNumber: 9 }),
      untagged(5),
    ];
    const written = await put(rules, 'lifecycle');
    expect(written).toMatchObject({ repositoryName: 'lifecycle', lifecyclePolicyText: JSON.stringify({ rules }) });
    const read = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'lifecycle' }));
    expect(JSON.parse(read.lifecyclePolicyText ?? '')).toEqual({ rules });
  });

  it.each([
    ['two rules with one priority', [untagged(1), untagged(1)], /must be unique/],
    [
      'tagStatus any before another rule',
      [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }), untagged(2)],
      /any must have the highest rulePriority/,
    ],
    [
      'tagged without a tag list',
      [rule(1, { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 5 })],
      /takes one of tagPatternList or tagPrefixList/,
    ],
    [
      'a pattern with five wildcards',
      [
        rule(1, {
          tagStatus: 'tagged',
          tagPatternList: ['a*b*c*d*e*f'],
          countType: 'imageCountMoreThan',
          countNumber: 5,
        }),
      ],
      /at most four wildcards/,
    ],
    [
      'sinceImagePushed without countUnit',
      [rule(1, { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 5 })],
      /countUnit must be "days"/,
    ],
    [
      'countNumber 0',
      [rule(1, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 0 })],
      /minimum: 1/,
    ],
    ['an unknown action', [{ ...untagged(1), action: { type: 'delete' } }], /possible values: \["expire"\]/],
    ['an unknown rule property', [{ ...untagged(1), keep: true }], /not allowed by the schema/],
  ])('refuses %s with InvalidParameterException', async (_, rules, why) => {
    const error = await put(rules).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(why) });
  });

  it('refuses a text that is not a policy, and a repository that does not exist', async () => {
    await expect(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'web', lifecyclePolicyText: `{${' '.repeat(120)}` })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('Could not map') });
    await expect(put([untagged(1)], 'nowhere')).rejects.toMatchObject({ name: 'RepositoryNotFoundException' });
  });
});

describe('archived images (UpdateImageStorageClass, imageStatus)', () => {
  it('an ARCHIVED image is described with its status, listed only when asked for, and cannot be pulled', async () => {
    await repositoryWithBlobs('archive-demo');
    await putImage('archive-demo', pushed.manifest, DOCKER_MANIFEST, 'sha-old');
    const archived = await ecr.send(
      new UpdateImageStorageClassCommand({
        repositoryName: 'archive-demo',
        imageId: { imageTag: 'sha-old' },
        targetStorageClass: 'ARCHIVE',
      }),
    );
    expect(archived).toMatchObject({ imageId: { imageDigest: pushed.digest }, imageStatus: 'ARCHIVED' });

    const byTag = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'archive-demo', imageIds: [{ imageTag: 'sha-old' }] }),
    );
    expect(byTag.imageDetails?.[0]).toMatchObject({ imageStatus: 'ARCHIVED', lastArchivedAt: expect.any(Date) });
    // The model: without an imageStatus filter only ACTIVE images are listed.
    const listed = await ecr.send(new DescribeImagesCommand({ repositoryName: 'archive-demo' }));
    expect(listed.imageDetails).toEqual([]);
    const any = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'archive-demo', filter: { imageStatus: 'ANY' } }),
    );
    expect(any.imageDetails?.map((d) => d.imageDigest)).toEqual([pushed.digest]);

    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'archive-demo',
        imageIds: [{ imageTag: 'sha-old' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );
    expect(got.images).toEqual([]);
    expect(got.failures?.[0]).toMatchObject({ failureCode: 'ImageInaccessible' });

    // A restore takes time: ACTIVATING first, ACTIVE once ECR has finished.
    const restoring = await ecr.send(
      new UpdateImageStorageClassCommand({
        repositoryName: 'archive-demo',
        imageId: { imageDigest: pushed.digest },
        targetStorageClass: 'STANDARD',
      }),
    );
    expect(restoring.imageStatus).toBe('ACTIVATING');
    sandbox.ecr.finishRestore('archive-demo', pushed.digest);
    const back = await ecr.send(new DescribeImagesCommand({ repositoryName: 'archive-demo' }));
    expect(back.imageDetails?.map((d) => [d.imageDigest, d.imageStatus])).toEqual([[pushed.digest, 'ACTIVE']]);
  });
});

describe('tag mutability with exclusion filters, and the pointer tags', () => {
  const excludePointers = [
    { filterType: 'WILDCARD' as const, filter: 'deployed-*' },
    { filterType: 'WILDCARD' as const, filter: 'previous-*' },
  ];

  it('IMMUTABLE_WITH_EXCLUSION needs 1-5 filters; the plain settings take none', async () => {
    await expect(
      ecr.send(
        new CreateRepositoryCommand({ repositoryName: 'excl-none', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      ecr.send(
        new CreateRepositoryCommand({
          repositoryName: 'excl-plain',
          imageTagMutability: 'IMMUTABLE',
          imageTagMutabilityExclusionFilters: excludePointers,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });

  it('IMMUTABLE_WITH_EXCLUSION: excluded tags move, the others stay; markVerified moves both pointers', async () => {
    const { repository } = await ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'excl',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: excludePointers,
      }),
    );
    expect(repository).toMatchObject({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: excludePointers,
    });
    await mountPushedBlobs('excl');
    const second = ociVariant({ annotations: { v: '2' } });
    await putImage('excl', pushed.manifest, DOCKER_MANIFEST, 'sha-one');
    await putImage('excl', second, OCI_MANIFEST, 'sha-two');
    await expect(putImage('excl', second, OCI_MANIFEST, 'sha-one')).rejects.toMatchObject({
      name: 'ImageTagAlreadyExistsException',
    });

    await markVerified(ecr, { repository: 'excl', environment: 'staging', digest: pushed.digest });
    await markVerified(ecr, { repository: 'excl', environment: 'staging', digest: sha256(second) });
    expect(await tagDigest('excl', 'deployed-staging')).toBe(sha256(second));
    expect(await tagDigest('excl', 'previous-staging')).toBe(pushed.digest);
  });

  it('IMMUTABLE: markVerified moves no tag and warns, and promote tells the two ECR answers apart', async () => {
    await repositoryWithBlobs('immut', 'IMMUTABLE');
    const second = ociVariant({ annotations: { v: '2' } });
    await putImage('immut', pushed.manifest, DOCKER_MANIFEST, 'sha-one');
    await putImage('immut', second, OCI_MANIFEST, 'sha-two');

    const logger = captureLogger();
    const outcome = await markVerified(ecr, {
      repository: 'immut',
      environment: 'staging',
      digest: pushed.digest,
      logger,
    });
    expect(outcome).toBe('skipped');
    expect(await tagDigest('immut', 'deployed-staging')).toBeUndefined();
    expect(logger.lines[0]).toMatch(/^warning: The ECR repository immut has image tag mutability IMMUTABLE/);

    // ImageAlreadyExistsException: the tag already names this digest. Only then "already points at".
    const same = captureLogger();
    const result = await promoteImage(ecr, { repository: 'immut', source: 'sha-one', tags: ['sha-one'], logger: same });
    expect(result.unchanged).toEqual(['sha-one']);
    expect(same.lines).toEqual([`immut:sha-one already points at ${pushed.digest}`]);
    // ImageTagAlreadyExistsException: the immutable tag names another image; nothing claims it points here.
    const other = captureLogger();
    await expect(
      promoteImage(ecr, { repository: 'immut', source: 'sha-two', tags: ['sha-one'], logger: other }),
    ).rejects.toThrow(
      new RegExp(`the repository is IMMUTABLE and sha-one already points at ${pushed.digest.replace(':', ':')}`),
    );
    expect(other.lines.join('\n')).not.toContain('already points at');
    expect(await tagDigest('immut', 'sha-one')).toBe(pushed.digest);
  });
});
