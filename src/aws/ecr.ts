import {
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  type ImageIdentifier,
  PutImageCommand,
  paginateDescribeImages,
} from '@aws-sdk/client-ecr';
import { awsErrorName, DeployError, withContext, wrapAwsError } from '../core/errors';
import { type Logger, silentLogger } from '../core/logger';
import { isDigest } from '../core/validate';
import { clientSettings } from './clients';

/**
 * Every manifest media type the toolkit understands. BatchGetImage converts a manifest into a type the caller accepts
 * when its own type is not listed, which would change the digest; listing all four keeps indexes as indexes.
 */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

export function ecrClient(region: string, env: NodeJS.ProcessEnv = process.env): ECRClient {
  return new ECRClient(clientSettings(region, env));
}

export interface RegistryLogin {
  /** host[:port] as used in image references: 123456789012.dkr.ecr.us-east-1.amazonaws.com */
  registry: string;
  username: string;
  /** Mask it (setSecret) before it is used anywhere. */
  password: string;
  expiresAt?: Date;
}

/**
 * One GetAuthorizationToken: the registry host and the docker credentials for it (valid 12 hours). With `registryId`
 * (another account's registry) the answer's endpoint is that registry's host.
 */
export async function getLogin(client: ECRClient, registryId?: string): Promise<RegistryLogin> {
  const out = await withContext('get an ECR login token (GetAuthorizationToken)', () =>
    client.send(new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {})),
  );
  const data = out.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new DeployError('Could not get an ECR login token: GetAuthorizationToken returned no authorization data.');
  }
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new DeployError('Could not get an ECR login token: the token is not "user:password".');
  const login: RegistryLogin = {
    registry: new URL(data.proxyEndpoint).host,
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
  };
  if (data.expiresAt) login.expiresAt = data.expiresAt;
  return login;
}

export interface RepositoryInfo {
  name: string;
  uri: string;
  /** MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION. */
  mutability: string;
  /** The wildcard filters (`deployed-*`) of the tags excluded from `mutability`, for the *_WITH_EXCLUSION settings. */
  exclusionFilters?: string[];
}

/**
 * Whether PutImage may move `tag` once it exists: ECR's tag mutability, where a tag matching an exclusion filter
 * (WILDCARD: `*` matches any run of characters) takes the opposite of the repository's setting.
 */
export function canMoveTag(repository: Pick<RepositoryInfo, 'mutability' | 'exclusionFilters'>, tag: string): boolean {
  const excluded = (repository.exclusionFilters ?? []).some((filter) =>
    new RegExp(`^${filter.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(tag),
  );
  switch (repository.mutability) {
    case 'IMMUTABLE':
      return false;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return excluded;
    case 'MUTABLE_WITH_EXCLUSION':
      return !excluded;
    default:
      return true;
  }
}

/** `registryId` when set: the ECR calls' parameter naming another account's registry. */
function inRegistry(registryId: string | undefined): { registryId?: string } {
  return registryId ? { registryId } : {};
}

/** The repository, or undefined when it does not exist. */
export async function describeRepository(
  client: ECRClient,
  repository: string,
  registryId?: string,
): Promise<RepositoryInfo | undefined> {
  try {
    const out = await client.send(
      new DescribeRepositoriesCommand({ repositoryNames: [repository], ...inRegistry(registryId) }),
    );
    const repo = out.repositories?.[0];
    if (!repo) return undefined;
    return {
      name: repo.repositoryName ?? repository,
      uri: repo.repositoryUri ?? '',
      mutability: repo.imageTagMutability ?? 'MUTABLE',
      ...(repo.imageTagMutabilityExclusionFilters?.length
        ? { exclusionFilters: repo.imageTagMutabilityExclusionFilters.map((f) => f.filter ?? '').filter(Boolean) }
        : {}),
    };
  } catch (error) {
    if (awsErrorName(error) === 'RepositoryNotFoundException') return undefined;
    throw wrapAwsError(`describe the ECR repository ${repository}`, error);
  }
}

export async function createRepository(
  client: ECRClient,
  options: { repository: string; mutability: 'MUTABLE' | 'IMMUTABLE'; scanOnPush: boolean; registryId?: string },
): Promise<RepositoryInfo> {
  try {
    const out = await client.send(
      new CreateRepositoryCommand({
        ...inRegistry(options.registryId),
        repositoryName: options.repository,
        imageTagMutability: options.mutability,
        imageScanningConfiguration: { scanOnPush: options.scanOnPush },
      }),
    );
    return {
      name: options.repository,
      uri: out.repository?.repositoryUri ?? '',
      mutability: out.repository?.imageTagMutability ?? options.mutability,
    };
  } catch (error) {
    // Another job created it between our look and this call: that is what we wanted.
    if (awsErrorName(error) === 'RepositoryAlreadyExistsException') {
      const existing = await describeRepository(client, options.repository, options.registryId);
      if (existing) return existing;
    }
    throw wrapAwsError(`create the ECR repository ${options.repository}`, error);
  }
}

export interface FoundImage {
  digest: string;
  tags: string[];
  mediaType?: string;
  sizeInBytes?: number;
  /** ECR's imageStatus: ACTIVE, ARCHIVED or ACTIVATING (absent in older answers, which means ACTIVE). */
  status?: string;
}

/**
 * Whether ECR can serve the image now. An ARCHIVED image (ECR's archive storage class) cannot be pulled until it is
 * restored, and an ACTIVATING one is still being restored: neither is something to deploy or roll back to.
 */
export function isPullable(image: FoundImage): boolean {
  return image.status === undefined || image.status === 'ACTIVE';
}

/** Why an image cannot be pulled, for a message; '' when it can. */
export function unpullableReason(image: FoundImage): string {
  if (image.status === 'ARCHIVED')
    return 'it is ARCHIVED in ECR (archive storage class: it cannot be pulled until it is restored to STANDARD)';
  if (image.status === 'ACTIVATING') return 'ECR is still restoring it from the archive (ACTIVATING)';
  return isPullable(image) ? '' : `its ECR status is ${image.status}`;
}

/** The image a tag (or digest) names, or undefined when the repository does not hold it. */
export async function findImage(
  client: ECRClient,
  repository: string,
  tagOrDigest: string,
  options: { abortSignal?: AbortSignal; registryId?: string | undefined } = {},
): Promise<FoundImage | undefined> {
  try {
    const out = await client.send(
      new DescribeImagesCommand({
        ...inRegistry(options.registryId),
        repositoryName: repository,
        imageIds: [imageId(tagOrDigest)],
      }),
      options.abortSignal ? { abortSignal: options.abortSignal } : {},
    );
    const detail = out.imageDetails?.[0];
    if (!detail?.imageDigest) return undefined;
    const found: FoundImage = { digest: detail.imageDigest, tags: detail.imageTags ?? [] };
    if (detail.imageManifestMediaType) found.mediaType = detail.imageManifestMediaType;
    if (detail.imageSizeInBytes !== undefined) found.sizeInBytes = detail.imageSizeInBytes;
    if (detail.imageStatus) found.status = detail.imageStatus;
    return found;
  } catch (error) {
    if (awsErrorName(error) === 'ImageNotFoundException') return undefined;
    throw wrapAwsError(`look up ${tagOrDigest} in the ECR repository ${repository}`, error);
  }
}

/** Every tagged image of the repository (DescribeImages with tagStatus TAGGED, all pages). */
export async function listTaggedImages(client: ECRClient, repository: string): Promise<FoundImage[]> {
  return withContext(`list the images of the ECR repository ${repository}`, async () => {
    const images: FoundImage[] = [];
    const pages = paginateDescribeImages(
      { client, pageSize: 1000 },
      { repositoryName: repository, filter: { tagStatus: 'TAGGED' } },
    );
    for await (const page of pages) {
      for (const detail of page.imageDetails ?? []) {
        if (detail.imageDigest) images.push({ digest: detail.imageDigest, tags: detail.imageTags ?? [] });
      }
    }
    return images;
  });
}

export interface PromoteOptions {
  repository: string;
  /** A tag, or a `sha256:` digest. */
  source: string;
  /** Tags to point at the source's manifest. */
  tags: readonly string[];
  logger?: Logger;
  /** Bounds every request (a cancelled job's clean-up has seconds, not the SDK's full retry budget). */
  abortSignal?: AbortSignal;
  /** Another account's registry. */
  registryId?: string | undefined;
}

export interface PromoteResult {
  digest: string;
  mediaType: string;
  /** Tags that now point at the digest and did not before. */
  moved: string[];
  /** Tags that already pointed at the digest. */
  unchanged: string[];
}

/**
 * Points tags at the manifest of `source` without moving a layer: one BatchGetImage, then one PutImage per tag with the
 * manifest byte for byte (a re-serialised manifest would be a new digest), its media type (omitting it breaks OCI
 * manifests) and the digest as a guard. A tag that already points there is success, on IMMUTABLE repositories too.
 */
export async function promoteImage(client: ECRClient, options: PromoteOptions): Promise<PromoteResult> {
  const { repository, source } = options;
  const logger = options.logger ?? silentLogger;
  const send = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const got = await withContext(`read the manifest of ${source} in the ECR repository ${repository}`, () =>
    client.send(
      new BatchGetImageCommand({
        ...inRegistry(options.registryId),
        repositoryName: repository,
        imageIds: [imageId(source)],
        acceptedMediaTypes: MANIFEST_MEDIA_TYPES,
      }),
      send,
    ),
  );
  const image = got.images?.[0];
  if (!image?.imageManifest || !image.imageId?.imageDigest) {
    const failure = got.failures?.[0];
    const why = failure ? `${failure.failureReason ?? 'not found'} (${failure.failureCode ?? 'failure'})` : 'not found';
    // ImageInaccessible (and KmsError): ECR holds the image but will not serve it; "was it pushed?" would mislead.
    const advice =
      failure?.failureCode === 'ImageInaccessible' || failure?.failureCode === 'KmsError'
        ? 'ECR holds the image but cannot serve it now: it may be archived (restore it to the STANDARD storage ' +
          'class with UpdateImageStorageClass first), or its KMS key may be unusable.'
        : 'Check that the image was pushed (build-push outputs its digest) and has not been expired by a lifecycle policy.';
    throw new DeployError(`Could not promote ${source} in the ECR repository ${repository}: ${why}. ${advice}`);
  }
  const manifest = image.imageManifest;
  const digest = image.imageId.imageDigest;
  const mediaType = image.imageManifestMediaType ?? mediaTypeOf(manifest);

  const result: PromoteResult = { digest, mediaType, moved: [], unchanged: [] };
  for (const tag of options.tags) {
    const outcome = await putTag(client, {
      repository,
      tag,
      manifest,
      mediaType,
      digest,
      send,
      ...inRegistry(options.registryId),
    });
    (outcome === 'moved' ? result.moved : result.unchanged).push(tag);
    logger.info(
      outcome === 'moved'
        ? `Tagged ${repository}:${tag} -> ${digest}`
        : `${repository}:${tag} already points at ${digest}`,
    );
  }
  return result;
}

async function putTag(
  client: ECRClient,
  p: {
    repository: string;
    tag: string;
    manifest: string;
    mediaType: string;
    digest: string;
    send: { abortSignal?: AbortSignal };
    registryId?: string;
  },
): Promise<'moved' | 'unchanged'> {
  try {
    await client.send(
      new PutImageCommand({
        ...inRegistry(p.registryId),
        repositoryName: p.repository,
        imageTag: p.tag,
        imageManifest: p.manifest,
        imageManifestMediaType: p.mediaType,
        imageDigest: p.digest,
      }),
      p.send,
    );
    return 'moved';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'ImageAlreadyExistsException') return 'unchanged';
    if (name !== 'ImageTagAlreadyExistsException') {
      throw wrapAwsError(`tag ${p.repository}:${p.tag} with ${p.digest}`, error);
    }
    // IMMUTABLE repository and the tag exists. ECR may say so even when it already points at this digest, so look.
    const current = await findImage(client, p.repository, p.tag, { ...p.send, ...inRegistry(p.registryId) });
    if (current?.digest === p.digest) return 'unchanged';
    throw new DeployError(
      `Could not tag ${p.repository}:${p.tag} with ${p.digest}: the repository is IMMUTABLE and ${p.tag} already ` +
        `points at ${current?.digest ?? 'another image'}. Use a new tag, or make the repository's tags mutable ` +
        '(or exclude this tag with an IMMUTABLE_WITH_EXCLUSION filter).',
      { cause: error },
    );
  }
}

function imageId(tagOrDigest: string): ImageIdentifier {
  return isDigest(tagOrDigest) ? { imageDigest: tagOrDigest } : { imageTag: tagOrDigest };
}

/** ECR always returns the media type; this covers an old API answer without it. */
function mediaTypeOf(manifest: string): string {
  try {
    const parsed = JSON.parse(manifest) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  } catch {
    // Not JSON: let PutImage say what is wrong with it.
  }
  return MANIFEST_MEDIA_TYPES[0]!;
}
