import {
  BatchGetImageCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { parsePromoteInputs } from '../../src/actions/promote/inputs';
import { run } from '../../src/actions/promote/main';
import type { ActionDeps } from '../../src/actions/runtime';
import { FakeClock } from '../../src/core/clock';
import { ConfigurationError } from '../../src/core/errors';
import { captureLogger } from '../../src/core/logger';

const ecr = mockClient(ECRClient);
const DIGEST = `sha256:${'c'.repeat(64)}`;
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';

function deps(inputs: Record<string, string>, outputs: Record<string, string> = {}): ActionDeps {
  return {
    getInput: (name) => ({ repository: 'web', region: 'us-east-1', ...inputs })[name] ?? '',
    setOutput: (name, value) => {
      outputs[name] = value;
    },
    setSecret: () => undefined,
    logger: captureLogger(),
    env: {},
    clock: new FakeClock(),
    signal: new AbortController().signal,
    writeSummary: async () => undefined,
    saveState: () => undefined,
    getState: () => '',
  };
}

beforeEach(() => ecr.reset());

describe('promote inputs', () => {
  const read = (inputs: Record<string, string>) => (name: string) =>
    ({ repository: 'web', region: 'us-east-1', source: 'sha-1', tags: 'staging', ...inputs })[name] ?? '';

  it.each([
    [{ source: '' }, 'source', 'is required'],
    [{ source: 'sha256:abc' }, 'source', '64 lowercase hex'],
    [{ source: 'no/slashes' }, 'source', '1-128 characters'],
    [{ tags: '' }, 'tags', 'one or more target tags'],
    [{ tags: 'staging\n.bad' }, 'tags', '1-128 characters'],
    [{ repository: 'UPPER' }, 'repository', 'ECR repository name'],
    [{ region: 'nowhere' }, 'region', 'AWS region'],
  ])('%j fails naming %s', (inputs, input, accepted) => {
    let error: unknown;
    try {
      parsePromoteInputs(read(inputs), {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).input).toBe(input);
    expect((error as Error).message).toContain(accepted);
  });

  it('accepts a digest source and drops repeated tags', () => {
    expect(parsePromoteInputs(read({ source: DIGEST, tags: 'a\nb\na' }), {})).toEqual({
      repository: 'web',
      region: 'us-east-1',
      source: DIGEST,
      tags: ['a', 'b'],
      maskAwsAccountId: false,
    });
  });
});

describe('promote', () => {
  it('moves the tags and outputs the image by digest in three ECR calls', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ repositoryName: 'web', repositoryUri: `${REGISTRY}/web`, imageTagMutability: 'MUTABLE' }],
    });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: DIGEST }, imageManifest: '{}', imageManifestMediaType: 'm' }],
    });
    ecr.on(PutImageCommand).resolves({});
    const outputs: Record<string, string> = {};
    await run(deps({ source: 'staging', tags: 'production' }, outputs));
    expect(outputs).toEqual({
      image: `${REGISTRY}/web@${DIGEST}`,
      digest: DIGEST,
      tags: 'production',
      registry: REGISTRY,
    });
    expect(ecr.calls()).toHaveLength(3);
  });

  it('says which repository is missing', async () => {
    ecr
      .on(DescribeRepositoriesCommand)
      .rejects(
        new ECRServiceException({ name: 'RepositoryNotFoundException', $fault: 'client', message: 'x', $metadata: {} }),
      );
    await expect(run(deps({ source: 'sha-1', tags: 'staging' }))).rejects.toThrow(
      /the ECR repository web does not exist in us-east-1/,
    );
  });
});
