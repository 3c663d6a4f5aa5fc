import type { AppRunnerService } from '../../aws/apprunner';
import { ConfigurationError, DeployError } from '../../core/errors';
import { repositoryNameSource } from '../../core/validate';
import type { VerifyOptions } from './types';

export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** What App Runner is given: `<registry>/<repository>@<digest>` when a digest is known, else `…:<tag>`. */
  identifier: string;
}

const imagePattern = new RegExp(
  `^([a-z0-9.-]+(?::\\d+)?)\\/(${repositoryNameSource})(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

/** Parses an image URI as App Runner takes it; a digest wins over a tag, since it is what gets pinned. */
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

const loopback = /^(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?$/;

/**
 * App Runner gives a bare host name, served over HTTPS. The local sandbox serves on a loopback port over plain HTTP;
 * App Runner never gives a loopback host, so that is the one case served as http://.
 */
export function serviceUrlOf(host: string): string {
  if (host === '') return '';
  if (/^https?:\/\//.test(host)) return host;
  return `${loopback.test(host) ? 'http' : 'https'}://${host}`;
}

/** A health URL given as a path ("/version") is on the service URL. */
export function resolveHealthUrl(url: string, serviceUrl: string): string {
  if (!url.startsWith('/')) return url;
  if (!serviceUrl) throw new DeployError(noServiceUrl(url));
  return new URL(url, serviceUrl).href;
}

function noServiceUrl(path: string, service?: AppRunnerService): string {
  const who = service ? `the App Runner service ${service.name}` : 'the App Runner service';
  const why =
    service && !service.publiclyAccessible
      ? ' It is a private service (reachable only through its VPC interface endpoint), and App Runner gives it no URL.'
      : ' App Runner gives it no URL (a private service reachable only through a VPC endpoint may have none).';
  return (
    `Cannot check ${path}: it is a path on the service's URL, and ${who} has none.${why} Set health-url to a full ` +
    'URL this runner can reach (for example through your VPC endpoint or a custom domain).'
  );
}

/** Fails before anything is deployed when the health check is a path on a URL the service does not have. */
export function requireServiceUrl(service: AppRunnerService, verify: VerifyOptions | undefined): void {
  if (!verify?.url.startsWith('/') || service.url !== '') return;
  throw new DeployError(noServiceUrl(verify.url, service));
}
