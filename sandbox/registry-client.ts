import { createHash } from 'node:crypto';
import { request } from 'node:https';

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Every manifest media type we accept, so the registry never converts what it stores. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
];

export interface StoredManifest {
  digest: string;
  mediaType: string;
  /** Byte-exact, as stored: the digest is the sha256 of these bytes. */
  bytes: Buffer;
}

/** A small client of the OCI distribution API of the sandbox registry (HTTPS, basic auth, our own CA). */
export class RegistryClient {
  constructor(
    readonly host: string,
    private readonly auth: { user: string; password: string },
    private readonly ca: string,
  ) {}

  send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<RegistryResponse> {
    const [hostname, port] = this.host.split(':');
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method,
          hostname,
          port: Number(port),
          path,
          ca: this.ca,
          headers: {
            authorization: `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString('base64')}`,
            ...headers,
            ...(body ? { 'content-length': String(body.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async repositories(): Promise<string[]> {
    const res = await this.send('GET', '/v2/_catalog?n=10000');
    if (res.status !== 200) throw new Error(`catalog: HTTP ${res.status}`);
    return (JSON.parse(res.body.toString()) as { repositories?: string[] }).repositories ?? [];
  }

  /** Tags of a repository; [] when the repository has none (or does not exist in the registry yet). */
  async tags(repository: string): Promise<string[]> {
    const res = await this.send('GET', `/v2/${repository}/tags/list?n=10000`);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`tags of ${repository}: HTTP ${res.status}`);
    return (JSON.parse(res.body.toString()) as { tags?: string[] | null }).tags ?? [];
  }

  /** The manifest a tag or digest names, byte-exact; undefined when there is none. */
  async manifest(repository: string, reference: string): Promise<StoredManifest | undefined> {
    const res = await this.send('GET', `/v2/${repository}/manifests/${reference}`, {
      accept: MANIFEST_MEDIA_TYPES.join(', '),
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200)
      throw new Error(`manifest ${repository}:${reference}: HTTP ${res.status} ${res.body.toString()}`);
    return {
      digest: `sha256:${createHash('sha256').update(res.body).digest('hex')}`,
      mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!,
      bytes: res.body,
    };
  }

  async putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.send(
      'PUT',
      `/v2/${repository}/manifests/${reference}`,
      { 'content-type': mediaType },
      bytes,
    );
    if (res.status !== 201)
      throw new Error(`put manifest ${repository}:${reference}: HTTP ${res.status} ${res.body.toString()}`);
    return String(res.headers['docker-content-digest']);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const res = await this.send('DELETE', `/v2/${repository}/manifests/${digest}`);
    return res.status === 202;
  }

  async blob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.send('GET', `/v2/${repository}/blobs/${digest}`);
    if (res.status === 307 || res.status === 302)
      throw new Error('blob redirects are not expected from the sandbox registry');
    if (res.status !== 200) throw new Error(`blob ${repository}@${digest}: HTTP ${res.status}`);
    return res.body;
  }
}
