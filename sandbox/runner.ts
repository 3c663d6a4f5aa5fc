import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import type { SandboxRegistry } from './registry';

const run = promisify(execFile);

const INDEX_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
]);
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunningImage {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The manifest digest the reference resolved to (for a tag: what the tag pointed at when started). */
  digest: string;
  pid: number;
  /** stdout and stderr of the process. */
  logFile: string;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** SIGTERM to the process group, SIGKILL after 3 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Added to (and overriding) the image's Env. PORT is always set to the chosen port. */
  env?: Record<string, string>;
  /** The port the process gets as $PORT; a free one by default. */
  port?: number;
}

interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
}

interface PreparedImage {
  digest: string;
  rootfs: string;
  config: ImageConfig;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os?: string; architecture?: string };
}

/**
 * Runs images of the sandbox registry as plain processes on loopback, since podman cannot run containers here (no
 * cgroups): the layers are unpacked into a root directory and the entrypoint runs chrooted into it (`unshare -R -w`,
 * which also honours WorkingDir), sharing the host's network so its $PORT is reachable on 127.0.0.1. Unpacked layers
 * and composed roots are cached by digest, so starting many instances of one image costs one copy each.
 */
export class ImageRunner {
  private readonly layers = new Map<string, Promise<string>>();
  private readonly images = new Map<string, Promise<PreparedImage>>();
  private readonly instances = new Set<Instance>();
  private counter = 0;
  private readonly killOnExit = () => {
    for (const instance of this.instances) instance.killNow();
  };

  constructor(
    private readonly registry: SandboxRegistry,
    private readonly workDir: string,
  ) {
    // A crashed or interrupted test must not leave app processes listening after node is gone.
    process.once('exit', this.killOnExit);
  }

  /** The manifest digest `reference` (tag or digest) names in `repository` now; undefined when there is none. */
  async resolve(repository: string, reference: string): Promise<string | undefined> {
    return (await this.registry.client.manifest(repository, reference))?.digest;
  }

  /** reference = tag or sha256 digest in `repository`. Resolves once the process is started (not necessarily healthy). */
  async start(repository: string, reference: string, options: StartOptions = {}): Promise<RunningImage> {
    const image = await this.prepare(repository, reference);
    const id = `${++this.counter}-${image.digest.slice(7, 19)}`;
    const root = join(this.workDir, 'instances', id);
    await mkdir(dirname(root), { recursive: true });
    await run('cp', ['-a', image.rootfs, root]);

    const port = options.port ?? (await freePort());
    const env: Record<string, string> = {};
    for (const entry of image.config.Env ?? []) {
      const at = entry.indexOf('=');
      if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
    }
    env.PATH ??= DEFAULT_PATH;
    Object.assign(env, options.env ?? {}, { PORT: String(port) });

    const argv = [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
    if (argv.length === 0) throw new Error(`Image ${repository}:${reference} has neither Entrypoint nor Cmd`);
    const logFile = join(this.workDir, 'instances', `${id}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn('unshare', ['-R', root, '-w', image.config.WorkingDir || '/', ...argv], {
        env,
        stdio: ['ignore', fd, fd],
        // Its own process group, so stop() also reaches whatever the entrypoint forked.
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    const instance = new Instance(child, root, `http://127.0.0.1:${port}`, port, image.digest, logFile, () =>
      this.instances.delete(instance),
    );
    this.instances.add(instance);
    return instance;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.instances].map((i) => i.stop()));
    process.removeListener('exit', this.killOnExit);
  }

  private prepare(repository: string, reference: string): Promise<PreparedImage> {
    return (async () => {
      const top = await this.registry.client.manifest(repository, reference);
      if (!top) throw new Error(`No image ${repository}:${reference} in the sandbox registry`);
      let cached = this.images.get(top.digest);
      if (!cached) {
        cached = this.compose(repository, top.digest, top.mediaType, top.bytes);
        this.images.set(top.digest, cached);
        cached.catch(() => this.images.delete(top.digest));
      }
      return cached;
    })();
  }

  private async compose(repository: string, digest: string, mediaType: string, bytes: Buffer): Promise<PreparedImage> {
    let manifest = JSON.parse(bytes.toString()) as {
      mediaType?: string;
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    if (INDEX_TYPES.has(mediaType || manifest.mediaType || '') || manifest.manifests) {
      const pick = manifest.manifests?.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64');
      if (!pick) throw new Error(`Image index ${repository}@${digest} has no linux/amd64 manifest`);
      const child = await this.registry.client.manifest(repository, pick.digest);
      if (!child) throw new Error(`Image index ${repository}@${digest} names a missing manifest ${pick.digest}`);
      manifest = JSON.parse(child.bytes.toString()) as typeof manifest;
    }
    if (!manifest.config || !manifest.layers)
      throw new Error(`${repository}@${digest} is not an image manifest (schema 1 is not supported)`);
    const configBlob = await this.registry.client.blob(repository, manifest.config.digest);
    const config = (JSON.parse(configBlob.toString()) as { config?: ImageConfig }).config ?? {};

    const layerDirs = await Promise.all(manifest.layers.map((layer) => this.layer(repository, layer.digest)));
    const rootfs = join(this.workDir, 'images', digest.replace(':', '-'));
    const building = `${rootfs}.partial`;
    await rm(building, { recursive: true, force: true });
    await mkdir(building, { recursive: true });
    for (const layerDir of layerDirs) await applyLayer(layerDir, building);
    // Programs commonly write to /dev/null; an empty root has none.
    await mkdir(join(building, 'dev'), { recursive: true });
    await run('mknod', ['-m', '666', join(building, 'dev', 'null'), 'c', '1', '3']).catch(() => undefined);
    await mkdir(join(building, 'tmp'), { recursive: true, mode: 0o1777 });
    await rename(building, rootfs);
    return { digest, rootfs, config };
  }

  /** A layer unpacked on its own (whiteout files kept) into the cache, once per digest. */
  private layer(repository: string, digest: string): Promise<string> {
    let cached = this.layers.get(digest);
    if (!cached) {
      cached = (async () => {
        const blob = await this.registry.client.blob(repository, digest);
        const actual = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
        if (actual !== digest) throw new Error(`Layer ${digest} of ${repository} has digest ${actual}`);
        const dir = join(this.workDir, 'layers', digest.replace(':', '-'));
        const archive = `${dir}.tar`;
        await mkdir(dir, { recursive: true });
        await writeFile(archive, blob);
        // GNU tar detects gzip (and plain tar) by itself.
        await run('tar', ['-xf', archive, '-C', dir, '--numeric-owner']);
        await rm(archive, { force: true });
        return dir;
      })();
      this.layers.set(digest, cached);
      cached.catch(() => this.layers.delete(digest));
    }
    return cached;
  }
}

/**
 * Applies one unpacked layer on top of `root`: an opaque whiteout (`.wh..wh..opq`) empties its directory, a
 * whiteout `.wh.NAME` removes NAME from the layers below; then the layer's files are copied over.
 */
export async function applyLayer(layerDir: string, root: string): Promise<void> {
  const entries = await readdir(layerDir, { recursive: true });
  const whiteouts = entries.filter((e) => basename(e).startsWith('.wh.'));
  for (const entry of whiteouts) {
    const dir = join(root, dirname(entry));
    const name = basename(entry);
    if (name === '.wh..wh..opq') {
      const existing = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(existing.map((e) => rm(join(dir, e), { recursive: true, force: true })));
    } else {
      await rm(join(dir, name.slice(4)), { recursive: true, force: true });
    }
  }
  await run('cp', ['-a', `${layerDir}/.`, root]);
  await Promise.all(whiteouts.map((entry) => rm(join(root, entry), { force: true })));
}

class Instance implements RunningImage {
  readonly pid: number;
  private exited: Promise<void>;
  private done = false;

  constructor(
    child: ChildProcess,
    private readonly root: string,
    readonly url: string,
    readonly port: number,
    readonly digest: string,
    readonly logFile: string,
    private readonly forget: () => void,
  ) {
    this.pid = child.pid ?? 0;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.done = true;
        return resolve();
      }
      child.once('exit', () => {
        this.done = true;
        resolve();
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Synchronous kill of the whole group, for process exit. */
  killNow(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  async stop(): Promise<void> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(timer);
    // Whatever the entrypoint forked into the group goes too, even when the leader exited on its own.
    this.signal('SIGKILL');
    this.forget();
    await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }
}
