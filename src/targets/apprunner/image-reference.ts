import type { AppRunnerService } from '../../aws/apprunner';
import { DeployError } from '../../core/errors';
import type { VerifyOptions } from './types';

export { type ImageReference, parseImageReference } from '../../core/image-reference';

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
