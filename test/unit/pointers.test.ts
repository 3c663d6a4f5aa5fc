import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  type ImageTagMutability,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { canMoveTag } from '../../src/aws/ecr';
import { captureLogger } from '../../src/core/logger';
import { commitFromTags } from '../../src/core/tags';
import { markVerified, pointerTags, readPointers } from '../../src/deploy/pointers';

const ecr = mockClient(ECRClient);
const client = new ECRClient({ region: 'us-east-1' });
const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const oldDigest = `sha256:${'1'.repeat(64)}`;
const newDigest = `sha256:${'2'.repeat(64)}`;
const manifest = (d: string) => `{"schemaVersion":2,"config":{"digest":"${d}"}}\n`;

function notFound() {
  return Object.assign(new Error('no such image'), { name: 'ImageNotFoundException' });
}

beforeEach(() => {
  ecr.reset();
  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ repositoryName: 'web', repositoryUri: 'r/web', imageTagMutability: 'MUTABLE' }],
  });
});

describe('environment pointer tags', () => {
  it('names deployed-<env> and previous-<env>, lower-cased and tag-safe', () => {
    expect(pointerTags('Production EU')).toEqual({
      current: 'deployed-production-eu',
      previous: 'previous-production-eu',
    });
  });

  it('gives a service other than the default its own pair; the default service keeps the names it always had', () => {
    expect(pointerTags('staging', { name: 'Backend', isDefault: false })).toEqual({
      current: 'deployed-staging.backend',
      previous: 'previous-staging.backend',
    });
    expect(pointerTags('staging', { name: 'web', isDefault: true })).toEqual(pointerTags('staging'));
    expect(() => pointerTags('staging', { name: 'x'.repeat(120), isDefault: false })).toThrow(
      /service.*fit in 128 characters/,
    );
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

describe('pointer tags and the repository’s tag mutability (detected once, DescribeRepositories)', () => {
  const repositoryReply = (imageTagMutability: ImageTagMutability, filters: string[] = []) => ({
    repositories: [
      {
        repositoryName: 'web',
        repositoryUri: 'r/web',
        imageTagMutability,
        ...(filters.length
          ? {
              imageTagMutabilityExclusionFilters: filters.map((filter) => ({
                filterType: 'WILDCARD' as const,
                filter,
              })),
            }
          : {}),
      },
    ],
  });

  function movable() {
    ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: oldDigest, imageTags: ['deployed-staging'] }] });
    ecr.on(BatchGetImageCommand).callsFake((input: { imageIds: { imageDigest?: string }[] }) => ({
      images: [
        {
          imageId: { imageDigest: input.imageIds[0]?.imageDigest },
          imageManifest: manifest(input.imageIds[0]?.imageDigest ?? ''),
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    }));
    ecr.on(PutImageCommand).resolves({});
  }

  it('IMMUTABLE: puts nothing, and the warning explains both choices instead of failing late', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves(repositoryReply('IMMUTABLE'));
    movable();
    const logger = captureLogger();
    const outcome = await markVerified(client, {
      repository: 'web',
      environment: 'staging',
      digest: newDigest,
      logger,
    });
    expect(outcome).toBe('skipped');
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(
      /^warning: The ECR repository web has image tag mutability IMMUTABLE, so the pointer tags deployed-staging and previous-staging cannot be moved: they were left as they are/,
    );
    expect(logger.lines[0]).toContain('--image-tag-mutability IMMUTABLE_WITH_EXCLUSION');
    expect(logger.lines[0]).toContain('filterType=WILDCARD,filter=deployed-* filterType=WILDCARD,filter=previous-*');
    expect(logger.lines[0]).toContain('GitHub Deployments as the only rollback ledger');
    expect(logger.lines.join('\n')).not.toMatch(/Tagged|already points at/);
  });

  it('IMMUTABLE_WITH_EXCLUSION with both pointer tags excluded: they move', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .resolves(repositoryReply('IMMUTABLE_WITH_EXCLUSION', ['deployed-*', 'previous-*']));
    movable();
    const outcome = await markVerified(client, { repository: 'web', environment: 'staging', digest: newDigest });
    expect(outcome).toBe('moved');
    expect(ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual([
      'previous-staging',
      'deployed-staging',
    ]);
  });

  it('IMMUTABLE_WITH_EXCLUSION excluding only deployed-*: names previous-staging and moves neither', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves(repositoryReply('IMMUTABLE_WITH_EXCLUSION', ['deployed-*']));
    movable();
    const logger = captureLogger();
    expect(await markVerified(client, { repository: 'web', environment: 'staging', digest: newDigest, logger })).toBe(
      'skipped',
    );
    expect(logger.lines[0]).toContain('so the pointer tags previous-staging cannot be moved');
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  });

  it('uses the repository already described by the caller: one DescribeRepositories per job, not per step', async () => {
    ecr.reset();
    movable();
    await markVerified(client, {
      repository: 'web',
      environment: 'staging',
      digest: newDigest,
      repositoryInfo: { name: 'web', uri: 'r/web', mutability: 'MUTABLE' },
    });
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(0);
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(2);
  });

  it.each([
    ['MUTABLE', [], true],
    ['IMMUTABLE', ['deployed-*'], false],
    ['IMMUTABLE_WITH_EXCLUSION', ['deployed-*'], true],
    ['IMMUTABLE_WITH_EXCLUSION', ['deployed-prod*'], false],
    ['MUTABLE_WITH_EXCLUSION', ['deployed-*'], false],
    ['MUTABLE_WITH_EXCLUSION', ['release-*'], true],
  ])('canMoveTag(%s, %j) for deployed-staging is %s', (mutability, exclusionFilters, expected) => {
    expect(canMoveTag({ mutability, exclusionFilters }, 'deployed-staging')).toBe(expected);
  });
});
