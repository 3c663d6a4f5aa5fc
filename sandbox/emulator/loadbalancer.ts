import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Something the load balancer can route to. */
export interface Backend {
  url: string;
}

/**
 * A tiny HTTP load balancer on a stable loopback port: each request goes to the next of the backends `pick()` offers
 * (round robin), or gets 503 when there are none, as an ALB with no healthy targets answers.
 */
export class LoadBalancer {
  private server: Server | undefined;
  private next = 0;
  port = 0;
  /** The LoadBalancer dimension of its CloudWatch metrics, as ALB names it: `app/<name>/<16 hex>`. */
  readonly dimension: string;

  /**
   * `onAnswer` hears every answer sent, with whether a target sent it (its 5xx count as HTTPCode_Target_5XX_Count)
   * or the load balancer itself (no healthy target, a target that did not answer: HTTPCode_ELB_5XX_Count).
   */
  constructor(
    private readonly pick: () => Backend[],
    options: { name?: string; onAnswer?: (answer: { status: number; fromTarget: boolean }) => void } = {},
  ) {
    this.dimension = `app/${(options.name ?? 'sandbox').slice(0, 32)}/${randomBytes(8).toString('hex')}`;
    this.onAnswer = options.onAnswer ?? (() => {});
  }

  private readonly onAnswer: (answer: { status: number; fromTarget: boolean }) => void;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const backends = this.pick();
      if (backends.length === 0) {
        this.onAnswer({ status: 503, fromTarget: false });
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('503 Service Temporarily Unavailable: no healthy targets\n');
        return;
      }
      const backend = backends[this.next++ % backends.length]!;
      const target = new URL(req.url ?? '/', backend.url);
      const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
        this.onAnswer({ status: answer.statusCode ?? 502, fromTarget: true });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) this.onAnswer({ status: 502, fromTarget: false });
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('502 Bad Gateway\n');
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
