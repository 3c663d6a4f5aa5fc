import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { docker } from './docker';
import { type Sandbox, startSandbox } from './index';
import { sampleAppContext } from './sample-app';

let sandbox: Sandbox;
let ecr: ECRClient;

function client(): ECRClient {
  // Only the environment points the SDK at the emulator, exactly as for the shipped bundles. The SDK reads it lazily,
  // so it stays set for this test file (each file runs in its own jest worker context).
  Object.assign(process.env, sandbox.aws.clientEnv());
  return new ECRClient({});
}

beforeAll(async () => {
  sandbox = await startSandbox();
  ecr = client();
}, 120_000);

afterAll(async () => {
  ecr?.destroy();
  await sandbox?.stop();
});

describe('ECR emulator with the real docker CLI', () => {
  it('logs in with GetAuthorizationToken, pushes, and describes what the registry holds', async () => {
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'web' }));
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
    const data = auth.authorizationData?.[0];
    const [user, password] = Buffer.from(data?.authorizationToken ?? '', 'base64')
      .toString()
      .split(':');
    expect(user).toBe('AWS');
    const registry = new URL(data?.proxyEndpoint ?? '').host;
    await docker(['login', '--username', 'AWS', '--password-stdin', registry], sandbox.env(), password);

    const context = await sampleAppContext();
    await docker(['build', '-t', `${registry}/web:v1`, '--build-arg', 'VERSION=v1', context], sandbox.env());
    await docker(['push', `${registry}/web:v1`], sandbox.env());

    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1' }] }),
    );
    const image = described.imageDetails?.[0];
    expect(image?.imageDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(image?.imageTags).toEqual(['v1']);
    expect(image?.imagePushedAt).toBeInstanceOf(Date);
    expect(image?.imageSizeInBytes).toBeGreaterThan(500_000);

    // Retag without moving a layer: BatchGetImage -> PutImage, byte for byte.
    const got = await ecr.send(new BatchGetImageCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'v1' }] }));
    const manifest = got.images?.[0];
    await ecr.send(
      new PutImageCommand({
        repositoryName: 'web',
        imageTag: 'staging',
        imageManifest: manifest?.imageManifest,
        imageManifestMediaType: manifest?.imageManifestMediaType,
      }),
    );
    const staged = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'web', imageIds: [{ imageTag: 'staging' }] }),
    );
    expect(staged.imageDetails?.[0]?.imageDigest).toBe(image?.imageDigest);
    expect(staged.imageDetails?.[0]?.imageTags).toEqual(['staging', 'v1']);
  });
});
