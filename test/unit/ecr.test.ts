import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { describeRepository, findImage, getLogin, MANIFEST_MEDIA_TYPES, promoteImage } from '../../src/aws/ecr';
import { DeployError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';

const ecr = mockClient(ECRClient);
const client = new ECRClient({ region: 'us-east-1' });

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

function awsError(name: string, message = name): ECRServiceException {
  return new ECRServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
}

function manifestReply(manifest: string, mediaType: string) {
  return {
    images: [
      {
        imageId: { imageDigest: DIGEST, imageTag: 'sha-1' },
        imageManifest: manifest,
        imageManifestMediaType: mediaType,
      },
    ],
    failures: [],
  };
}

beforeEach(() => ecr.reset());

describe('getLogin', () => {
  it('decodes the token into the registry host, user and password', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:pa:ss=word').toString('base64'),
          proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
        },
      ],
    });
    await expect(getLogin(client)).resolves.toEqual({
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      username: 'AWS',
      password: 'pa:ss=word',
    });
  });

  it('turns an expired session token into one message saying how to renew it', async () => {
    ecr.on(GetAuthorizationTokenCommand).rejects(awsError('ExpiredTokenException', 'The security token is expired'));
    const error = await getLogin(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(/ECR login token.*session token has expired.*configure-aws-credentials/);
  });
});

describe('findImage and describeRepository', () => {
  it('returns undefined for a missing image or repository instead of throwing', async () => {
    ecr.on(DescribeImagesCommand).rejects(awsError('ImageNotFoundException'));
    ecr.on(DescribeRepositoriesCommand).rejects(awsError('RepositoryNotFoundException'));
    await expect(findImage(client, 'web', 'sha-1')).resolves.toBeUndefined();
    await expect(describeRepository(client, 'web')).resolves.toBeUndefined();
  });

  it('keeps ECR’s imageStatus (an ARCHIVED image is described, but cannot be pulled)', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: DIGEST, imageTags: ['sha-1'], imageStatus: 'ARCHIVED' }],
    });
    await expect(findImage(client, 'web', 'sha-1')).resolves.toEqual({
      digest: DIGEST,
      tags: ['sha-1'],
      status: 'ARCHIVED',
    });
  });

  it('looks an image up by digest when given one', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['a', 'b'] }] });
    await expect(findImage(client, 'web', DIGEST)).resolves.toEqual({ digest: DIGEST, tags: ['a', 'b'] });
    expect(ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input.imageIds).toEqual([{ imageDigest: DIGEST }]);
  });
});

describe('promoteImage', () => {
  it('copies the manifest byte for byte (trailing newline included) with its media type and digest guard', async () => {
    const manifest = '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json"\n}\n';
    ecr.on(BatchGetImageCommand).resolves(manifestReply(manifest, 'application/vnd.oci.image.index.v1+json'));
    ecr.on(PutImageCommand).resolves({});

    const result = await promoteImage(client, { repository: 'web', source: 'sha-1', tags: ['staging'] });

    const get = ecr.commandCalls(BatchGetImageCommand)[0]?.args[0].input;
    expect(get).toEqual({
      repositoryName: 'web',
      imageIds: [{ imageTag: 'sha-1' }],
      acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
    });
    expect(MANIFEST_MEDIA_TYPES).toHaveLength(4);
    const put = ecr.commandCalls(PutImageCommand)[0]?.args[0].input;
    expect(put?.imageManifest).toBe(manifest);
    expect(put?.imageManifestMediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(put?.imageDigest).toBe(DIGEST);
    expect(put?.imageTag).toBe('staging');
    expect(result).toEqual({
      digest: DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      moved: ['staging'],
      unchanged: [],
    });
    expect(ecr.calls()).toHaveLength(2);
  });

  it('reads a digest source by digest and puts one PutImage per tag', async () => {
    ecr.on(BatchGetImageCommand).resolves(manifestReply('{}', 'application/vnd.docker.distribution.manifest.v2+json'));
    ecr.on(PutImageCommand).resolves({});
    await promoteImage(client, { repository: 'web', source: DIGEST, tags: ['staging', 'production'] });
    expect(ecr.commandCalls(BatchGetImageCommand)[0]?.args[0].input.imageIds).toEqual([{ imageDigest: DIGEST }]);
    expect(ecr.commandCalls(PutImageCommand).map((c) => c.args[0].input.imageTag)).toEqual(['staging', 'production']);
  });

  it('counts ImageAlreadyExistsException (the tag is already there) as success', async () => {
    ecr.on(BatchGetImageCommand).resolves(manifestReply('{}', 'application/vnd.docker.distribution.manifest.v2+json'));
    ecr.on(PutImageCommand).rejects(awsError('ImageAlreadyExistsException'));
    const logger = captureLogger();
    const result = await promoteImage(client, { repository: 'web', source: 'sha-1', tags: ['staging'], logger });
    expect(result.unchanged).toEqual(['staging']);
    expect(logger.lines).toEqual([`web:staging already points at ${DIGEST}`]);
  });

  it('on an IMMUTABLE repository succeeds when the existing tag already has the same digest (3 calls)', async () => {
    ecr.on(BatchGetImageCommand).resolves(manifestReply('{}', 'application/vnd.docker.distribution.manifest.v2+json'));
    ecr.on(PutImageCommand).rejects(awsError('ImageTagAlreadyExistsException'));
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['production'] }] });
    const result = await promoteImage(client, { repository: 'web', source: 'sha-1', tags: ['production'] });
    expect(result.unchanged).toEqual(['production']);
    expect(ecr.calls()).toHaveLength(3);
  });

  it('on an IMMUTABLE repository names the tag, its current digest and the requested one when they differ', async () => {
    ecr.on(BatchGetImageCommand).resolves(manifestReply('{}', 'application/vnd.docker.distribution.manifest.v2+json'));
    ecr.on(PutImageCommand).rejects(awsError('ImageTagAlreadyExistsException'));
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: OTHER, imageTags: ['production'] }] });
    const error = await promoteImage(client, { repository: 'web', source: 'sha-1', tags: ['production'] }).then(
      () => new Error('it did not fail'),
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(DeployError);
    expect(error.message).toContain('web:production');
    expect(error.message).toContain(DIGEST);
    expect(error.message).toContain(`already points at ${OTHER}`);
    expect(error.message).toContain('IMMUTABLE');
  });

  it('explains a source that is not in the repository', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [
        { imageId: { imageTag: 'sha-9' }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    });
    await expect(promoteImage(client, { repository: 'web', source: 'sha-9', tags: ['staging'] })).rejects.toThrow(
      /Could not promote sha-9 in the ECR repository web: Requested image not found \(ImageNotFound\)/,
    );
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  });

  it('names an ImageInaccessible failure as such: ECR holds the image but cannot serve it (archived)', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [],
      failures: [
        { imageId: { imageTag: 'sha-9' }, failureCode: 'ImageInaccessible', failureReason: 'Image inaccessible' },
      ],
    });
    const error = await promoteImage(client, { repository: 'web', source: 'sha-9', tags: ['staging'] }).then(
      () => new Error('it did not fail'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(/Image inaccessible \(ImageInaccessible\)\. ECR holds the image but cannot serve it/);
    expect(error.message).toContain('UpdateImageStorageClass');
    expect(error.message).not.toContain('Check that the image was pushed');
  });

  it('wraps other PutImage errors with what was being done', async () => {
    ecr.on(BatchGetImageCommand).resolves(manifestReply('{}', 'application/vnd.docker.distribution.manifest.v2+json'));
    ecr.on(PutImageCommand).rejects(awsError('LayersNotFoundException', 'layers missing'));
    await expect(promoteImage(client, { repository: 'web', source: 'sha-1', tags: ['staging'] })).rejects.toThrow(
      `Could not tag web:staging with ${DIGEST}: layers missing (LayersNotFoundException)`,
    );
  });
});
