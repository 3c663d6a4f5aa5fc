import { ConfigurationError } from './errors';

// ECR's own rules. A repository name's components are separated by `.`, `_`, `__` or any run of `-` (the ECR model's
// RepositoryName pattern, as the OCI distribution spec): `my__app` and `my--app` are valid names.
const component = '[a-z0-9]+(?:(?:\\.|__?|-+)[a-z0-9]+)*';
/** An ECR repository name without anchors, for patterns that embed one (an image URI). */
export const repositoryNameSource = `(?:${component}\\/)*${component}`;
const repositoryPattern = new RegExp(`^${repositoryNameSource}$`);
/**
 * An image by digest, `<registry>/<repository>[:<tag>]@sha256:<64 hex>` (the build-push output `image`): groups
 * 1 registry, 2 repository, 3 digest. The repository part is ECR's own rule, so `my__app` is accepted as everywhere.
 */
export const digestUriPattern = new RegExp(
  `^([a-z0-9.-]+(?::\\d+)?)\\/(${repositoryNameSource})(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@(sha256:[a-f0-9]{64})$`,
);
/** An image digest URI (digestUriPattern) split into its parts; `why` says why a tag is not accepted. */
export function parseDigestUri(
  input: string,
  value: string,
  why: string,
): { uri: string; registry: string; repository: string; digest: string } {
  const match = digestUriPattern.exec(value);
  if (!match) {
    throw new ConfigurationError(
      input,
      value,
      `an image digest URI "<registry>/<repository>@sha256:<64 hex>" (the build-push output \`image\`); a tag is not accepted, ${why}`,
    );
  }
  return { uri: value, registry: match[1]!, repository: match[2]!, digest: match[3]! };
}

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
const regionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const shaPattern = /^[0-9a-f]{7,40}$/;

export function validateRepositoryName(input: string, value: string): string {
  if (value.length < 2 || value.length > 256 || !repositoryPattern.test(value)) {
    throw new ConfigurationError(
      input,
      value,
      'an ECR repository name: 2-256 lowercase letters and digits, with . _ __ or - (one or more) between them and optional / namespaces (e.g. "team/web")',
    );
  }
  return value;
}

export function validateTag(input: string, value: string): string {
  if (!tagPattern.test(value)) {
    throw new ConfigurationError(
      input,
      value,
      'an image tag of 1-128 characters from A-Z a-z 0-9 _ . - that does not start with . or -',
    );
  }
  return value;
}

export function validateDigest(input: string, value: string): string {
  if (!digestPattern.test(value)) {
    throw new ConfigurationError(input, value, 'an image digest "sha256:" followed by 64 lowercase hex characters');
  }
  return value;
}

export function validateRegion(input: string, value: string | undefined): string {
  if (!value || !regionPattern.test(value)) {
    throw new ConfigurationError(
      input,
      value,
      'an AWS region such as "us-east-1" (set the input, or AWS_REGION in the environment)',
    );
  }
  return value;
}

export function validateCommitSha(input: string, value: string | undefined): string {
  const sha = value?.trim().toLowerCase();
  if (!sha || !shaPattern.test(sha)) {
    throw new ConfigurationError(input, value, 'a git commit SHA of 7-40 hexadecimal characters');
  }
  return sha;
}

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

const appRunnerArnPattern =
  /^arn:aws[a-z-]*:apprunner:([a-z0-9-]+):\d{12}:service\/[A-Za-z0-9][A-Za-z0-9_-]*\/[0-9a-f]{32}$/;

/** An App Runner service ARN; returns the region it names (the service lives there). */
export function validateAppRunnerServiceArn(input: string, value: string): { arn: string; region: string } {
  const match = appRunnerArnPattern.exec(value);
  if (!match?.[1]) {
    throw new ConfigurationError(
      input,
      value,
      'an App Runner service ARN such as "arn:aws:apprunner:us-east-1:123456789012:service/web/0123456789abcdef0123456789abcdef"',
    );
  }
  return { arn: value, region: match[1] };
}

/**
 * GitHub environment names: 1-255 characters, none of , ; ' " ` < > \ or a control character (a newline). The
 * environment names tags and the GitHub Deployment, so every action that takes one checks it the same way.
 */
const environmentPattern = /^[^,;'"`<>\\\p{Cc}]{1,255}$/u;

export function validateEnvironment(input: string, value: string): string {
  if (!environmentPattern.test(value)) {
    throw new ConfigurationError(
      input,
      value,
      'a GitHub environment name (1 to 255 characters, no commas, semicolons, quotes, < > or \\)',
    );
  }
  return value;
}
