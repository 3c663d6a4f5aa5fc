import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { proxyAgents } from '../core/proxy';

/** Settings every AWS SDK client of the toolkit shares. */
export interface ClientSettings {
  region: string;
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  customUserAgent: string;
  /** NodeHttpHandler options, only when a proxy is set: the SDK itself ignores HTTPS_PROXY. */
  requestHandler?: { httpAgent: HttpAgent; httpsAgent: HttpsAgent };
}

export const DEFAULT_MAX_ATTEMPTS = 10;

export const USER_AGENT = 'aws-deploy-kit/0.1.0';

/**
 * Client configuration. The SDK's own retry strategy handles throttling and 5xx; `adaptive` adds a client-side rate
 * limiter so parallel deploys in one account back off together. Ten attempts, not the SDK's three: the SDK's
 * throttling backoff (500 ms doubling, capped at 20 s) then spans about 45 s, enough for a fleet of jobs starting at
 * once to queue behind an account's rate limit (bench ecs-fleet; six attempts lost 3 of 20 deploys there).
 * AWS_MAX_ATTEMPTS / AWS_RETRY_MODE still win, and
 * AWS_ENDPOINT_URL_<SERVICE> points the clients elsewhere (the local sandbox) without code of ours. HTTPS_PROXY /
 * HTTP_PROXY / NO_PROXY (see core/proxy.ts) send the requests through a proxy, as on runners in a locked-down VPC.
 */
export function clientSettings(region: string, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const attempts = Number(env.AWS_MAX_ATTEMPTS);
  const agents = proxyAgents();
  return {
    region,
    maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : DEFAULT_MAX_ATTEMPTS,
    retryMode: env.AWS_RETRY_MODE === 'standard' ? 'standard' : 'adaptive',
    customUserAgent: USER_AGENT,
    ...(agents ? { requestHandler: agents } : {}),
  };
}

/** Bounds one request, e.g. `{ abortSignal: AbortSignal.timeout(3000) }` for clean-up within a cancelled job's grace. */
export interface RequestOptions {
  abortSignal?: AbortSignal;
}
