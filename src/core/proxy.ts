import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { getProxyUrl } from '@actions/http-client/lib/proxy';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { redactUrl } from './redact';

/**
 * An agent that sends each request through the proxy HTTPS_PROXY / HTTP_PROXY name (lower case first), or straight
 * to the host when NO_PROXY lists it (`*`, a host, a domain and its subdomains, `.suffix`, host:port) or it is a
 * loopback address. The choice is @actions/http-client's, so the AWS calls and health probes go where this job's
 * GitHub API calls (Octokit through @actions/github) go. It is made per request: one SDK client may be sent to a
 * bypassed endpoint (AWS_ENDPOINT_URL_<SERVICE>, a VPC endpoint in NO_PROXY) while another goes out.
 */
class EnvProxyAgent extends Agent {
  private readonly direct: HttpAgent;
  private readonly tunnels = new Map<string, Agent>();

  constructor(private readonly secure: boolean) {
    super({ keepAlive: true });
    this.direct = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  }

  override connect(req: { path: string }, options: AgentConnectOpts): HttpAgent {
    const host = options.host?.includes(':') ? `[${options.host}]` : (options.host ?? 'localhost');
    const url = new URL(`${this.secure ? 'https' : 'http'}://${host}:${options.port}${req.path}`);
    const proxy = getProxyUrl(url)?.href;
    if (!proxy) return this.direct;
    let tunnel = this.tunnels.get(proxy);
    if (!tunnel) {
      // https: a CONNECT tunnel, TLS to the host inside it; http: the request itself goes to the proxy (absolute
      // URI), since many proxies allow CONNECT to port 443 only.
      tunnel = this.secure ? new HttpsProxyAgent(proxy) : new HttpProxyAgent(proxy);
      this.tunnels.set(proxy, tunnel);
    }
    return tunnel;
  }
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/** The proxy variables the runner set (read from process.env, as @actions/http-client reads them). */
function proxyVariables(): { name: string; value: string }[] {
  return PROXY_VARIABLES.filter((name) => process.env[name]).map((name) => ({
    name,
    value: process.env[name] as string,
  }));
}

let agents: { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined;

/**
 * The agents for every outgoing AWS and health-check request when a proxy variable is set; undefined otherwise, so
 * that without a proxy the SDK keeps its own agents. One pair per process: every client shares the tunnels.
 */
export function proxyAgents(): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined {
  if (proxyVariables().length === 0) return undefined;
  agents ??= {
    httpAgent: new EnvProxyAgent(false),
    // An agent-base Agent speaks for both protocols; the SDK's type wants an https one.
    httpsAgent: new EnvProxyAgent(true) as unknown as HttpsAgent,
  };
  return agents;
}

/** One line for the log: which proxy each kind of request goes through and what bypasses it, credentials redacted. */
export function describeProxy(): string | undefined {
  const set = proxyVariables();
  if (set.length === 0) return undefined;
  // Lower case wins over upper case, as in @actions/http-client.
  const pick = (lower: string, upper: string) => set.find((v) => v.name === lower) ?? set.find((v) => v.name === upper);
  // A value without a scheme ("user:secret@proxy:3128") would not parse as the URL it means, and keep its password.
  const shown = (value: string) => redactUrl(value.includes('://') ? value : `http://${value}`);
  const routes = [
    ['https', pick('https_proxy', 'HTTPS_PROXY')],
    ['http', pick('http_proxy', 'HTTP_PROXY')],
  ] as const;
  const via = routes.map(([kind, v]) => (v ? `${kind} through ${shown(v.value)} (${v.name})` : `${kind} direct`));
  const noProxy = process.env.no_proxy || process.env.NO_PROXY;
  return (
    `Proxy for AWS and health-check requests: ${via.join(', ')}; ` +
    `direct to loopback addresses${noProxy ? ` and to NO_PROXY (${noProxy})` : ''}.`
  );
}
