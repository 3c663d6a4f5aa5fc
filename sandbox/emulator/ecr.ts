import { createHash } from 'node:crypto';
import { readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxRegistry } from '../registry';
import { checkLifecyclePolicy } from './ecr-lifecycle';
import { AwsFault, epochSeconds } from './protocol';
import type { ServiceDefinition } from './server';

export const ACCOUNT_ID = '123456789012';
const REGION = 'us-east-1';
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

type Mutability = 'MUTABLE' | 'IMMUTABLE' | 'MUTABLE_WITH_EXCLUSION' | 'IMMUTABLE_WITH_EXCLUSION';

interface RepositoryState {
  repositoryName: string;
  createdAt: Date;
  imageTagMutability: Mutability;
  exclusionFilters: { filterType: string; filter: string }[];
  scanOnPush: boolean;
}

type ImageDetail = Record<string, unknown> & { imageDigest: string };

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

// The ECR model's RepositoryName pattern: components separated by `.`, `_`, `__` or any run of `-`.
const repositoryPattern = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;

/**
 * The ECR control plane, served from the sandbox registry's own manifests and tags: a PutImage really writes a
 * manifest under a tag, a DescribeImages really reads what `docker push` stored. Repository settings (mutability,
 * scan on push) live here, as they do in ECR rather than in the registry.
 */
export class EcrEmulator {
  readonly repositories = new Map<string, RepositoryState>();
  /** repository -> digest -> storage state of the images not ACTIVE (ECR's archive storage class). */
  private readonly storage = new Map<string, Map<string, { status: 'ARCHIVED' | 'ACTIVATING'; archivedAt: Date }>>();
  /** repository -> its lifecycle policy text (stored, not run: nothing in the sandbox waits a day for expiry). */
  readonly lifecyclePolicies = new Map<string, string>();

  constructor(private readonly registry: SandboxRegistry) {}

  /** Test set-up: a repository as CreateRepository would make it. */
  createRepository(name: string, imageTagMutability: Mutability = 'MUTABLE', exclusionFilters: string[] = []): void {
    this.repositories.set(name, {
      repositoryName: name,
      createdAt: new Date(),
      imageTagMutability,
      exclusionFilters: checkMutability(
        imageTagMutability,
        exclusionFilters.map((filter) => ({ filterType: 'WILDCARD', filter })),
      ),
      scanOnPush: false,
    });
  }

  /** Test set-up: what UpdateImageStorageClass ARCHIVE does (or a lifecycle policy's archive rule). */
  archiveImage(repository: string, digest: string): void {
    const images = this.storage.get(repository) ?? new Map();
    images.set(digest, { status: 'ARCHIVED', archivedAt: new Date() });
    this.storage.set(repository, images);
  }

  /** Test set-up: the end of a restore (ECR takes up to about 20 minutes; the emulator waits for this call). */
  finishRestore(repository: string, digest: string): void {
    this.storage.get(repository)?.delete(digest);
  }

  private imageStatus(repository: string, digest: string): 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING' {
    return this.storage.get(repository)?.get(digest)?.status ?? 'ACTIVE';
  }

  repositoryUri(name: string): string {
    return `${this.registry.host}/${name}`;
  }

  definition(): ServiceDefinition {
    return {
      name: 'ecr',
      protocol: 'json',
      targetPrefix: 'AmazonEC2ContainerRegistry_V20150921',
      contentType: 'application/x-amz-json-1.1',
      operations: {
        GetAuthorizationToken: () => this.getAuthorizationToken(),
        CreateRepository: (p) => this.createRepositoryOp(p),
        DescribeRepositories: (p) => this.describeRepositories(p),
        DescribeImages: (p) => this.describeImages(p),
        BatchGetImage: (p) => this.batchGetImage(p),
        PutImage: (p) => this.putImage(p),
        BatchDeleteImage: (p) => this.batchDeleteImage(p),
        UpdateImageStorageClass: (p) => this.updateImageStorageClass(p),
        PutImageTagMutability: (p) => this.putImageTagMutability(p),
        PutLifecyclePolicy: (p) => this.putLifecyclePolicy(p),
        GetLifecyclePolicy: (p) => this.getLifecyclePolicy(p),
      },
    };
  }

  private getAuthorizationToken() {
    return {
      authorizationData: [
        {
          authorizationToken: Buffer.from(`AWS:${this.registry.password}`).toString('base64'),
          expiresAt: epochSeconds(new Date(Date.now() + 12 * 3600_000)),
          proxyEndpoint: `https://${this.registry.host}`,
        },
      ],
    };
  }

  private repositoryView(repo: RepositoryState) {
    return {
      repositoryArn: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${repo.repositoryName}`,
      registryId: ACCOUNT_ID,
      repositoryName: repo.repositoryName,
      repositoryUri: this.repositoryUri(repo.repositoryName),
      createdAt: epochSeconds(repo.createdAt),
      imageTagMutability: repo.imageTagMutability,
      ...(repo.exclusionFilters.length > 0 ? { imageTagMutabilityExclusionFilters: repo.exclusionFilters } : {}),
      imageScanningConfiguration: { scanOnPush: repo.scanOnPush },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }

  private createRepositoryOp(p: Record<string, unknown>) {
    const name = requireString(p, 'repositoryName');
    if (name.length < 2 || name.length > 256 || !repositoryPattern.test(name)) {
      throw new AwsFault(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${repositoryPattern.source}''`,
      );
    }
    if (this.repositories.has(name)) {
      throw new AwsFault(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${ACCOUNT_ID}'`,
      );
    }
    const mutability = (p.imageTagMutability as Mutability | undefined) ?? 'MUTABLE';
    const filters = checkMutability(mutability, p.imageTagMutabilityExclusionFilters);
    const repo: RepositoryState = {
      repositoryName: name,
      createdAt: new Date(),
      imageTagMutability: mutability,
      exclusionFilters: filters,
      scanOnPush: Boolean((p.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush),
    };
    this.repositories.set(name, repo);
    return { repository: this.repositoryView(repo) };
  }

  private putImageTagMutability(p: Record<string, unknown>) {
    const repo = this.requireRepository(requireString(p, 'repositoryName'));
    const mutability = requireString(p, 'imageTagMutability') as Mutability;
    repo.exclusionFilters = checkMutability(mutability, p.imageTagMutabilityExclusionFilters);
    repo.imageTagMutability = mutability;
    return {
      registryId: ACCOUNT_ID,
      repositoryName: repo.repositoryName,
      imageTagMutability: mutability,
      ...(repo.exclusionFilters.length > 0 ? { imageTagMutabilityExclusionFilters: repo.exclusionFilters } : {}),
    };
  }

  private describeRepositories(p: Record<string, unknown>) {
    const names = p.repositoryNames as string[] | undefined;
    if (names) {
      return {
        repositories: names.map((name) => this.repositoryView(this.requireRepository(name))),
      };
    }
    const all = [...this.repositories.values()].map((r) => this.repositoryView(r));
    return paginate(all, p, 'repositories');
  }

  private requireRepository(name: string): RepositoryState {
    const repo = this.repositories.get(name);
    if (!repo) {
      throw new AwsFault(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${ACCOUNT_ID}'`,
      );
    }
    return repo;
  }

  /** Every manifest digest the registry holds for the repository, tagged or not. */
  private async allDigests(repository: string): Promise<string[]> {
    const dir = join(this.revisionsDir(repository));
    try {
      return (await readdir(dir)).map((hex) => `sha256:${hex}`);
    } catch {
      return [];
    }
  }

  /** When the registry linked the manifest into the repository: the image's push time. */
  private async linkTime(repository: string, digest: string): Promise<Date | undefined> {
    try {
      return (await stat(this.linkPath(repository, digest))).mtime;
    } catch {
      return undefined;
    }
  }

  private linkPath(repository: string, digest: string): string {
    return join(this.revisionsDir(repository), digest.slice(7), 'link');
  }

  private revisionsDir(repository: string): string {
    return join(this.registry.storageDir, 'docker/registry/v2/repositories', repository, '_manifests/revisions/sha256');
  }

  /** digest -> tags, from the registry's tags. */
  private async tagIndex(repository: string): Promise<Map<string, string[]>> {
    const index = new Map<string, string[]>();
    for (const tag of await this.registry.client.tags(repository)) {
      const manifest = await this.registry.client.manifest(repository, tag);
      if (!manifest) continue;
      index.set(manifest.digest, [...(index.get(manifest.digest) ?? []), tag]);
    }
    return index;
  }

  private async imageDetail(repository: string, digest: string, tags: string[]): Promise<ImageDetail | undefined> {
    const manifest = await this.registry.client.manifest(repository, digest);
    if (!manifest) return undefined;
    const parsed = JSON.parse(manifest.bytes.toString('utf8')) as {
      config?: { size?: number; mediaType?: string };
      layers?: { size?: number }[];
      manifests?: { size?: number }[];
    };
    const size =
      (parsed.config?.size ?? 0) + (parsed.layers ?? parsed.manifests ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
    // A manifest the registry serves but whose link we cannot stat: report now.
    const pushedAt = (await this.linkTime(repository, digest)) ?? new Date();
    return {
      registryId: ACCOUNT_ID,
      repositoryName: repository,
      imageDigest: digest,
      ...(tags.length > 0 ? { imageTags: [...tags].sort() } : {}),
      imageSizeInBytes: size,
      imagePushedAt: epochSeconds(pushedAt),
      imageManifestMediaType: manifest.mediaType,
      ...(parsed.config?.mediaType ? { artifactMediaType: parsed.config.mediaType } : {}),
      imageStatus: this.imageStatus(repository, digest),
      ...(this.storage.get(repository)?.has(digest)
        ? { lastArchivedAt: epochSeconds(this.storage.get(repository)!.get(digest)!.archivedAt) }
        : {}),
    };
  }

  private async updateImageStorageClass(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const id = (p.imageId ?? {}) as ImageId;
    const target = p.targetStorageClass;
    if (target !== 'STANDARD' && target !== 'ARCHIVE')
      throw new AwsFault(
        'InvalidParameterException',
        `Invalid parameter at 'targetStorageClass': ${String(target)} is not one of STANDARD, ARCHIVE`,
      );
    const digest = await this.resolve(repository, id);
    if (!digest) {
      throw new AwsFault(
        'ImageNotFoundException',
        `The image with imageId {${describeId(id)}} does not exist within the repository with name '${repository}' in the registry with id '${ACCOUNT_ID}'`,
      );
    }
    const images = this.storage.get(repository) ?? new Map();
    this.storage.set(repository, images);
    if (target === 'ARCHIVE' && this.imageStatus(repository, digest) === 'ACTIVE')
      images.set(digest, { status: 'ARCHIVED', archivedAt: new Date() });
    // A restore is not immediate: the image is ACTIVATING until it is back in the standard storage class.
    if (target === 'STANDARD' && images.get(digest)?.status === 'ARCHIVED') images.get(digest)!.status = 'ACTIVATING';
    return {
      registryId: ACCOUNT_ID,
      repositoryName: repository,
      imageId: { imageDigest: digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
      imageStatus: this.imageStatus(repository, digest),
    };
  }

  private async describeImages(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const tagIndex = await this.tagIndex(repository);
    const ids = p.imageIds as ImageId[] | undefined;
    if (ids && ids.length > 0) {
      const details: ImageDetail[] = [];
      for (const id of ids) {
        const digest = await this.resolve(repository, id, tagIndex);
        if (!digest) {
          throw new AwsFault(
            'ImageNotFoundException',
            `The image with imageId {${describeId(id)}} does not exist within the repository with name '${repository}' in the registry with id '${ACCOUNT_ID}'`,
          );
        }
        const detail = await this.imageDetail(repository, digest, tagIndex.get(digest) ?? []);
        if (detail && !details.some((d) => d.imageDigest === digest)) details.push(detail);
      }
      return { imageDetails: details };
    }
    const filter = p.filter as { tagStatus?: string; imageStatus?: string } | undefined;
    const tagStatus = filter?.tagStatus ?? 'ANY';
    // The model: "If not specified, only images with ACTIVE status are returned."
    const imageStatus = filter?.imageStatus ?? 'ACTIVE';
    const details = [];
    for (const digest of (await this.allDigests(repository)).sort()) {
      const tags = tagIndex.get(digest) ?? [];
      if (tagStatus === 'TAGGED' && tags.length === 0) continue;
      if (tagStatus === 'UNTAGGED' && tags.length > 0) continue;
      if (imageStatus !== 'ANY' && this.imageStatus(repository, digest) !== imageStatus) continue;
      const detail = await this.imageDetail(repository, digest, tags);
      if (detail) details.push(detail);
    }
    return paginate(details, p, 'imageDetails');
  }

  /** The digest an image id names, or undefined. A digest+tag pair must agree. */
  private async resolve(
    repository: string,
    id: ImageId,
    tagIndex?: Map<string, string[]>,
  ): Promise<string | undefined> {
    if (id.imageTag) {
      const manifest = await this.registry.client.manifest(repository, id.imageTag);
      if (!manifest) return undefined;
      if (id.imageDigest && id.imageDigest !== manifest.digest) return undefined;
      return manifest.digest;
    }
    if (id.imageDigest) {
      if (tagIndex?.has(id.imageDigest)) return id.imageDigest;
      return (await this.registry.client.manifest(repository, id.imageDigest))?.digest;
    }
    return undefined;
  }

  private async batchGetImage(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const ids = p.imageIds as ImageId[] | undefined;
    if (!ids || ids.length === 0)
      throw new AwsFault('InvalidParameterException', "Missing required parameter 'imageIds'");
    const images = [];
    const failures = [];
    for (const id of ids) {
      const problem = invalidId(id);
      if (problem) {
        failures.push({ imageId: id, ...problem });
        continue;
      }
      const manifest = await this.registry.client.manifest(repository, id.imageTag ?? id.imageDigest!);
      if (!manifest) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      if (id.imageTag && id.imageDigest && id.imageDigest !== manifest.digest) {
        failures.push({
          imageId: id,
          failureCode: 'ImageTagDoesNotMatchDigest',
          failureReason: 'Invalid image tag or image digest',
        });
        continue;
      }
      // An archived image "cannot be pulled" (ECR user guide); which failure code BatchGetImage gives is not
      // documented: ImageInaccessible is the model's code for an image ECR holds but will not serve.
      if (this.imageStatus(repository, manifest.digest) !== 'ACTIVE') {
        failures.push({
          imageId: id,
          failureCode: 'ImageInaccessible',
          failureReason: `The image is ${this.imageStatus(repository, manifest.digest)} and cannot be pulled`,
        });
        continue;
      }
      images.push({
        registryId: ACCOUNT_ID,
        repositoryName: repository,
        imageId: { imageDigest: manifest.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: manifest.bytes.toString('utf8'),
        imageManifestMediaType: manifest.mediaType,
      });
    }
    return { images, failures };
  }

  private isImmutableTag(repo: RepositoryState, tag: string): boolean {
    const excluded = repo.exclusionFilters.some((f) => wildcard(f.filter).test(tag));
    switch (repo.imageTagMutability) {
      case 'IMMUTABLE':
        return true;
      case 'IMMUTABLE_WITH_EXCLUSION':
        return !excluded;
      case 'MUTABLE_WITH_EXCLUSION':
        return excluded;
      default:
        return false;
    }
  }

  private async putImage(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    const repo = this.requireRepository(repository);
    const manifestText = requireString(p, 'imageManifest');
    const bytes = Buffer.from(manifestText, 'utf8');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const tag = p.imageTag as string | undefined;
    if (tag !== undefined && !tagPattern.test(tag)) {
      throw new AwsFault(
        'InvalidParameterException',
        `Invalid parameter at 'imageTag' failed to satisfy constraint: 'must satisfy regular expression '${tagPattern.source}''`,
      );
    }
    const expectedDigest = p.imageDigest as string | undefined;
    if (expectedDigest !== undefined && expectedDigest !== digest) {
      throw new AwsFault(
        'ImageDigestDoesNotMatchException',
        `Invalid parameter at 'imageDigest': the digest ${expectedDigest} does not match the digest of the image manifest ${digest}`,
      );
    }
    let mediaType = p.imageManifestMediaType as string | undefined;
    let parsed: { mediaType?: string; manifests?: unknown };
    try {
      parsed = JSON.parse(manifestText) as { mediaType?: string; manifests?: unknown };
    } catch {
      throw new AwsFault(
        'InvalidParameterException',
        'Invalid parameter at imageManifest: the manifest is not valid JSON',
      );
    }
    mediaType ??= parsed.mediaType ?? DOCKER_V2;

    if (tag !== undefined) {
      const current = await this.registry.client.manifest(repository, tag);
      if (current?.digest === digest) {
        throw new AwsFault(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}' and tag '${tag}' already exists in the repository with name '${repository}' in registry with id '${ACCOUNT_ID}'`,
        );
      }
      if (current && this.isImmutableTag(repo, tag)) {
        throw new AwsFault(
          'ImageTagAlreadyExistsException',
          `The image tag '${tag}' already exists in the '${repository}' repository and cannot be overwritten because the repository is immutable.`,
        );
      }
    } else if (await this.registry.client.manifest(repository, digest)) {
      throw new AwsFault(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}' already exists in the repository with name '${repository}' in registry with id '${ACCOUNT_ID}'`,
      );
    }

    // The registry re-links a manifest it already holds, which would restamp its push time; ECR keeps the time of
    // the first push across retags, and rollback planning may order images by it.
    const firstPushed = await this.linkTime(repository, digest);
    const res = await this.registry.client.send(
      'PUT',
      `/v2/${repository}/manifests/${tag ?? digest}`,
      { 'content-type': mediaType },
      bytes,
    );
    if (res.status !== 201) {
      const body = res.body.toString();
      // The registry answers MANIFEST_BLOB_UNKNOWN both for a missing layer and for a missing manifest of an index:
      // what is missing depends on what kind of manifest was put.
      if (/BLOB_UNKNOWN|MANIFEST_UNKNOWN|manifest unknown/.test(body)) {
        if (Array.isArray(parsed.manifests)) {
          throw new AwsFault(
            'ReferencedImagesNotFoundException',
            `The image index references manifests that do not exist in the repository '${repository}'`,
          );
        }
        throw new AwsFault(
          'LayersNotFoundException',
          `The image manifest references layers that do not exist in the repository '${repository}'`,
        );
      }
      throw new AwsFault('InvalidParameterException', `The registry refused the manifest: ${body}`);
    }
    if (firstPushed) await utimes(this.linkPath(repository, digest), firstPushed, firstPushed);
    return {
      image: {
        registryId: ACCOUNT_ID,
        repositoryName: repository,
        imageId: { imageDigest: digest, ...(tag ? { imageTag: tag } : {}) },
        imageManifest: manifestText,
        imageManifestMediaType: mediaType,
      },
    };
  }

  private putLifecyclePolicy(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const text = checkLifecyclePolicy(requireString(p, 'lifecyclePolicyText'));
    this.lifecyclePolicies.set(repository, text);
    return { registryId: ACCOUNT_ID, repositoryName: repository, lifecyclePolicyText: text };
  }

  private getLifecyclePolicy(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const text = this.lifecyclePolicies.get(repository);
    if (text === undefined)
      throw new AwsFault(
        'LifecyclePolicyNotFoundException',
        `Lifecycle policy does not exist for the repository with name '${repository}' in the registry with id '${ACCOUNT_ID}'`,
      );
    return { registryId: ACCOUNT_ID, repositoryName: repository, lifecyclePolicyText: text };
  }

  /** digest -> the image index (manifest list) of the repository that lists it. */
  private async listedBy(repository: string): Promise<Map<string, string>> {
    const listed = new Map<string, string>();
    for (const digest of await this.allDigests(repository)) {
      const manifest = await this.registry.client.manifest(repository, digest);
      const children = manifest
        ? (JSON.parse(manifest.bytes.toString('utf8')) as { manifests?: unknown }).manifests
        : [];
      if (Array.isArray(children))
        for (const child of children as { digest?: string }[]) if (child.digest) listed.set(child.digest, digest);
    }
    return listed;
  }

  private async batchDeleteImage(p: Record<string, unknown>) {
    const repository = requireString(p, 'repositoryName');
    this.requireRepository(repository);
    const ids = p.imageIds as ImageId[] | undefined;
    if (!ids || ids.length === 0)
      throw new AwsFault('InvalidParameterException', "Missing required parameter 'imageIds'");
    // The model's ImageIdentifierList: 1 to 100 members.
    if (ids.length > 100)
      throw new AwsFault(
        'InvalidParameterException',
        "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'",
      );
    const listedBy = await this.listedBy(repository);
    const deleted: ImageId[] = [];
    const failures = [];
    for (const id of ids) {
      const problem = invalidId(id);
      if (problem) {
        failures.push({ imageId: id, ...problem });
        continue;
      }
      const digest = await this.resolve(repository, id);
      if (!digest) {
        failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        continue;
      }
      if (id.imageTag) {
        // Registry 2.8 has no tag-delete API: remove the tag from its storage, then the image if it was the last tag.
        await rm(
          join(this.registry.storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags', id.imageTag),
          { recursive: true, force: true },
        );
        const remaining = (await this.tagIndex(repository)).get(digest) ?? [];
        if (remaining.length === 0) await this.registry.client.deleteManifest(repository, digest);
        deleted.push({ imageDigest: digest, imageTag: id.imageTag });
      } else {
        // ECR keeps a platform image while an index in the repository lists it: delete the index first.
        const index = listedBy.get(digest);
        if (index && (await this.registry.client.manifest(repository, index))) {
          failures.push({
            imageId: id,
            failureCode: 'ImageReferencedByManifestList',
            failureReason: `Requested image referenced by manifest list: [${index}]`,
          });
          continue;
        }
        await this.registry.client.deleteManifest(repository, digest);
        deleted.push({ imageDigest: digest });
      }
    }
    return { imageIds: deleted, failures };
  }
}

const exclusionFilterPattern = /^[0-9a-zA-Z._*-]{1,128}$/;

/**
 * A tag mutability setting and its exclusion filters, checked as the model constrains them: the *_WITH_EXCLUSION
 * settings need 1-5 WILDCARD filters matching `^[0-9a-zA-Z._*-]{1,128}$`; the plain settings take none.
 */
function checkMutability(mutability: string, given: unknown): RepositoryState['exclusionFilters'] {
  if (!['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(mutability)) {
    throw new AwsFault('InvalidParameterException', `Invalid parameter at 'imageTagMutability': ${mutability}`);
  }
  const filters = (given ?? []) as { filterType?: string; filter?: string }[];
  const withExclusion = mutability.endsWith('_WITH_EXCLUSION');
  if (withExclusion && (filters.length < 1 || filters.length > 5)) {
    throw new AwsFault(
      'InvalidParameterException',
      `Invalid parameter at 'imageTagMutabilityExclusionFilters': ${mutability} needs 1 to 5 exclusion filters`,
    );
  }
  if (!withExclusion && filters.length > 0) {
    throw new AwsFault(
      'InvalidParameterException',
      `Invalid parameter at 'imageTagMutabilityExclusionFilters': exclusion filters need MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION, not ${mutability}`,
    );
  }
  for (const f of filters) {
    if (f.filterType !== 'WILDCARD' || typeof f.filter !== 'string' || !exclusionFilterPattern.test(f.filter)) {
      throw new AwsFault(
        'InvalidParameterException',
        `Invalid parameter at 'imageTagMutabilityExclusionFilters': filterType must be WILDCARD and filter must satisfy ${exclusionFilterPattern.source}`,
      );
    }
  }
  return filters.map((f) => ({ filterType: 'WILDCARD', filter: f.filter as string }));
}

function requireString(p: Record<string, unknown>, name: string): string {
  const value = p[name];
  if (typeof value !== 'string' || value === '') {
    throw new AwsFault('InvalidParameterException', `Missing required parameter '${name}'`);
  }
  return value;
}

function invalidId(id: ImageId): { failureCode: string; failureReason: string } | undefined {
  if (!id.imageDigest && !id.imageTag)
    return { failureCode: 'MissingDigestAndTag', failureReason: 'Missing image digest and tag' };
  if (id.imageDigest && !digestPattern.test(id.imageDigest))
    return {
      failureCode: 'InvalidImageDigest',
      failureReason: 'Invalid request parameters: image digest should satisfy the regex',
    };
  if (id.imageTag && !tagPattern.test(id.imageTag))
    return {
      failureCode: 'InvalidImageTag',
      failureReason: 'Invalid request parameters: image tag should satisfy the regex',
    };
  return undefined;
}

function describeId(id: ImageId): string {
  return [id.imageDigest ? `imageDigest:'${id.imageDigest}'` : '', id.imageTag ? `imageTag:'${id.imageTag}'` : '']
    .filter(Boolean)
    .join(',');
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
}

function paginate<T>(items: T[], p: Record<string, unknown>, key: string): Record<string, unknown> {
  const max = Number(p.maxResults ?? 100);
  // A zero page size would hand out a nextToken that never advances.
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new AwsFault(
      'InvalidParameterException',
      `Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'`,
    );
  }
  const start = p.nextToken ? Number(Buffer.from(String(p.nextToken), 'base64').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new AwsFault('InvalidParameterException', 'Invalid nextToken');
  const page = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
  return { [key]: page, ...(next ? { nextToken: next } : {}) };
}
