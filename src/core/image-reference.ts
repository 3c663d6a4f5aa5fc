import { ConfigurationError } from './errors';
import { repositoryNameSource } from './validate';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** What the platform is given: `<registry>/<repository>@<digest>` when a digest is known, else `…:<tag>`. */
  identifier: string;
}

const imagePattern = new RegExp(
  `^([a-z0-9.-]+(?::\\d+)?)\\/(${repositoryNameSource})(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

/** Parses an ECR image URI as the platforms take it; a digest wins over a tag, since it is what gets pinned. */
export function parseImageReference(input: string, value: string): ImageReference {
  const match = imagePattern.exec(value.trim());
  if (!match || (!match[3] && !match[4])) {
    throw new ConfigurationError(
      input,
      value,
      'an image URI with a registry and a digest or a tag, e.g. ' +
        '"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:…" (the build-push output) or "…/web:v1"',
    );
  }
  const [, registry = '', repository = '', tag, digest] = match;
  return {
    registry,
    repository,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
    identifier: digest ? `${registry}/${repository}@${digest}` : `${registry}/${repository}:${tag}`,
  };
}
