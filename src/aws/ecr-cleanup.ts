import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  type ECRClient,
  GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand,
  paginateDescribeImages,
} from '@aws-sdk/client-ecr';
import { awsErrorName, withContext, wrapAwsError } from '../core/errors';

/** One image of a repository as DescribeImages reports it, with what an image index lists. */
export interface ListedImage {
  digest: string;
  tags: string[];
  pushedAt?: Date;
  sizeInBytes?: number;
  mediaType?: string;
  children?: string[];
}

const INDEX_TYPES = [
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

/** Every image of the repository, tagged or not (DescribeImages, all pages), with the manifests each index lists. */
export async function listAllImages(client: ECRClient, repository: string): Promise<ListedImage[]> {
  const images = await withContext(`list the images of the ECR repository ${repository} (DescribeImages)`, async () => {
    const found: ListedImage[] = [];
    for await (const page of paginateDescribeImages({ client, pageSize: 1000 }, { repositoryName: repository })) {
      for (const d of page.imageDetails ?? []) {
        if (!d.imageDigest) continue;
        found.push({
          digest: d.imageDigest,
          tags: d.imageTags ?? [],
          ...(d.imagePushedAt ? { pushedAt: d.imagePushedAt } : {}),
          ...(d.imageSizeInBytes !== undefined ? { sizeInBytes: d.imageSizeInBytes } : {}),
          ...(d.imageManifestMediaType ? { mediaType: d.imageManifestMediaType } : {}),
        });
      }
    }
    return found;
  });
  const indexes = images.filter((image) => image.mediaType && INDEX_TYPES.includes(image.mediaType));
  for (const batch of chunk(indexes, 100)) {
    const out = await withContext(`read the image indexes of the ECR repository ${repository} (BatchGetImage)`, () =>
      client.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds: batch.map((image) => ({ imageDigest: image.digest })),
          acceptedMediaTypes: INDEX_TYPES,
        }),
      ),
    );
    for (const got of out.images ?? []) {
      const image = batch.find((i) => i.digest === got.imageId?.imageDigest);
      if (!image || !got.imageManifest) continue;
      const manifest = JSON.parse(got.imageManifest) as { manifests?: { digest?: string }[] };
      image.children = (manifest.manifests ?? []).map((m) => m.digest ?? '').filter(Boolean);
    }
  }
  return images;
}

export interface DeleteFailure {
  digest: string;
  code: string;
  reason: string;
}

export interface DeleteResult {
  deleted: string[];
  failures: DeleteFailure[];
}

/**
 * Deletes images by digest with BatchDeleteImage, at most 100 ids per call (the API's limit). An image ECR refuses
 * (ImageReferencedByManifestList, KmsError…) is a failure entry of the answer, not a thrown error: it is reported
 * and the rest go on. An image already gone (ImageNotFound) counts as deleted: someone else did the job.
 */
export async function deleteImages(
  client: ECRClient,
  repository: string,
  digests: readonly string[],
): Promise<DeleteResult> {
  const result: DeleteResult = { deleted: [], failures: [] };
  for (const batch of chunk(digests, 100)) {
    const out = await withContext(
      `delete ${batch.length} image(s) from the ECR repository ${repository} (BatchDeleteImage)`,
      () =>
        client.send(
          new BatchDeleteImageCommand({
            repositoryName: repository,
            imageIds: batch.map((imageDigest) => ({ imageDigest })),
          }),
        ),
    );
    for (const id of out.imageIds ?? []) if (id.imageDigest) result.deleted.push(id.imageDigest);
    for (const failure of out.failures ?? []) {
      const digest = failure.imageId?.imageDigest ?? '';
      if (failure.failureCode === 'ImageNotFound') result.deleted.push(digest);
      else
        result.failures.push({
          digest,
          code: failure.failureCode ?? 'Unknown',
          reason: failure.failureReason ?? 'no reason given',
        });
    }
  }
  return result;
}

/** The repository's lifecycle policy text, or undefined when it has none. */
export async function getLifecyclePolicy(client: ECRClient, repository: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetLifecyclePolicyCommand({ repositoryName: repository }));
    return out.lifecyclePolicyText;
  } catch (error) {
    if (awsErrorName(error) === 'LifecyclePolicyNotFoundException') return undefined;
    throw wrapAwsError(`read the lifecycle policy of the ECR repository ${repository}`, error);
  }
}

export async function putLifecyclePolicy(client: ECRClient, repository: string, text: string): Promise<void> {
  await withContext(`write the lifecycle policy of the ECR repository ${repository} (PutLifecyclePolicy)`, () =>
    client.send(new PutLifecyclePolicyCommand({ repositoryName: repository, lifecyclePolicyText: text })),
  );
}

/** Splits a list into batches of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
