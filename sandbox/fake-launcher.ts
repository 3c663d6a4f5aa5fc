import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LaunchedImage, Launcher } from './emulator/autoscaling';

/** What a fake image serves: its /version, and whether /health answers 200. */
export interface FakeImage {
  version: string;
  healthy: boolean;
}

/**
 * A stand-in for the ImageRunner when a test is about the Auto Scaling state machine rather than about images: tags
 * and digests live in maps, and each "instance" is a tiny HTTP server answering /version and /health as the sample
 * app does.
 */
export class FakeLauncher implements Launcher {
  /** `repository:tag` → digest. Moving a tag is `tags.set(...)`. */
  readonly tags = new Map<string, string>();
  readonly images = new Map<string, FakeImage>();
  readonly servers = new Set<Server>();

  /** Adds an image and points `repository:tag` at it; returns its digest. */
  push(repository: string, tag: string, image: FakeImage): string {
    const digest = `sha256:${Buffer.from(`${repository}/${image.version}/${image.healthy}`).toString('hex').padEnd(64, '0').slice(0, 64)}`;
    this.images.set(digest, image);
    this.tags.set(`${repository}:${tag}`, digest);
    return digest;
  }

  async resolve(repository: string, reference: string): Promise<string | undefined> {
    if (reference.startsWith('sha256:')) return this.images.has(reference) ? reference : undefined;
    return this.tags.get(`${repository}:${reference}`);
  }

  async start(repository: string, reference: string): Promise<LaunchedImage> {
    const digest = await this.resolve(repository, reference);
    const image = digest ? this.images.get(digest) : undefined;
    if (!digest || !image) throw new Error(`No image ${repository}:${reference}`);
    const server = createServer((req, res) => {
      if (req.url === '/version') {
        res.writeHead(200);
        res.end(`${image.version}\n`);
      } else if (req.url === '/health' && image.healthy) {
        res.writeHead(200);
        res.end('ok\n');
      } else {
        res.writeHead(404);
        res.end('not found\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.add(server);
    const port = (server.address() as AddressInfo).port;
    return {
      url: `http://127.0.0.1:${port}`,
      digest,
      stop: async () => {
        this.servers.delete(server);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
}
