import { BatchGetImageCommand, DescribeImagesCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { commitFromTags, markVerified, pointerTags, readPointers } from '../../src/core/pointers';

const ecr = mockClient(ECRClient);
const client = new ECRClient({ region: 'us-east-1' });
const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const oldDigest = `sha256:${'1'.repeat(64)}`;
const newDigest = `sha256:${'2'.repeat(64)}`;
const manifest = (d: string) => `{"schemaVersion":2,"config":{"digest":"${d}"}}\n`;

function notFound() {
  return Object.assign(new Error('no such image'), { name: 'ImageNotFoundException' });
}

beforeEach(() => ecr.reset());

describe('environment pointer tags', () => {
  it('names deployed-<env> and previous-<env>, lower-cased and tag-safe', () => {
    expect(pointerTags('Production EU')).toEqual({
      current: 'deployed-production-eu',
      previous: 'previous-production-eu',
    });
  });

  it('reads the commit from the sha- tag', () => {
    expect(commitFromTags(['latest', `sha-${sha}`, 'staging'])).toBe(sha);
    expect(commitFromTags(['latest'])).toBeUndefined();
  });

  it('moves the old current image to previous-<env>, then deployed-<env> to the new digest', async () => {
    ecr
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'deployed-staging' }] })
      .resolves({ imageDetails: [{ imageDigest: oldDigest, imageTags: ['deployed-staging'] }] });
    ecr.on(BatchGetImageCommand, { imageIds: [{ imageDigest: oldDigest }] }).resolves({
      images: [
        {
          imageId: { imageDigest: oldDigest },
          imageManifest: manifest(oldDigest),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
    ecr.on(BatchGetImageCommand, { imageIds: [{ imageDigest: newDigest }] }).resolves({
      images: [
        {
          imageId: { imageDigest: newDigest },
          imageManifest: manifest(newDigest),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
    ecr.on(PutImageCommand).resolves({});

    await markVerified(client, { repository: 'web', environment: 'staging', digest: newDigest });

    const puts = ecr.commandCalls(PutImageCommand).map((c) => [c.args[0].input.imageTag, c.args[0].input.imageDigest]);
    expect(puts).toEqual([
      ['previous-staging', oldDigest],
      ['deployed-staging', newDigest],
    ]);
  });

  it('changes nothing when the environment already points at the digest', async () => {
    ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: newDigest, imageTags: ['deployed-staging'] }] });
    await markVerified(client, { repository: 'web', environment: 'staging', digest: newDigest });
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  });

  it('explains the IMMUTABLE exclusion filter when a pointer tag cannot move', async () => {
    ecr.on(DescribeImagesCommand, { imageIds: [{ imageTag: 'deployed-staging' }] }).rejects(notFound());
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageDigest: newDigest },
          imageManifest: manifest(newDigest),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
    ecr.on(PutImageCommand).rejects(Object.assign(new Error('tag exists'), { name: 'ImageTagAlreadyExistsException' }));
    ecr
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'deployed-staging' }] })
      .resolvesOnce({})
      .resolves({ imageDetails: [{ imageDigest: oldDigest }] });
    await expect(
      markVerified(client, { repository: 'web', environment: 'staging', digest: newDigest }),
    ).rejects.toThrow(/IMMUTABLE_WITH_EXCLUSION with filters "deployed-\*", "previous-\*"/);
  });

  it('reads both pointers with their commits', async () => {
    ecr
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: 'deployed-production' }] })
      .resolves({ imageDetails: [{ imageDigest: newDigest, imageTags: ['deployed-production', `sha-${sha}`] }] });
    ecr.on(DescribeImagesCommand, { imageIds: [{ imageTag: 'previous-production' }] }).rejects(notFound());
    expect(await readPointers(client, 'web', 'production')).toEqual({
      current: { digest: newDigest, tags: ['deployed-production', `sha-${sha}`], commit: sha },
    });
  });
});
