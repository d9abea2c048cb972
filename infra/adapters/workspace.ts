import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from './object-store';
import { blobOfKey } from '../../domain/object-keys';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.vtt': 'text/vtt',
  '.avif': 'image/avif',
};

export const contentTypeFor = (file: string) =>
  CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/**
 * Partial downloads and scratch directories carry the host and process that made them, so a worker restarted after a
 * crash (kill -9 leaves them behind) can tell its dead predecessor's from those of a live process sharing the disk.
 */
const OWNER = `${hostname()}~${process.pid}`;
const outputsOfBlob = (sha256: string) => `${OWNER}~outputs-${sha256.slice(0, 16)}-`;

function leftByDeadProcess(name: string): boolean {
  const parts = name.replace(/\.part$/, '').split('~');
  if (parts.length < 3) return false;
  const [host, pid] = parts.slice(-3, -1);
  if (host !== hostname() || pid === String(process.pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    // EPERM: alive, under another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * A media worker's local disk: sources are fetched once per worker and kept for the next stage of the same blob
 * (metadata, renditions and validation each need them) until the last one drops them; outputs get a scratch
 * directory of their own.
 */
export class LocalWorkspace {
  constructor(
    readonly root: string,
    private readonly maxAgeMs = 6 * 3600_000,
  ) {}

  /** The blob's bytes on local disk; downloads at most once (the rename makes a half download invisible). */
  async source(store: ObjectStore, sha256: string, key: string, sizeBytes: number): Promise<string> {
    const dir = path.join(this.root, 'sources');
    const file = path.join(dir, sha256);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (stat?.size === sizeBytes) {
      await fsp.utimes(file, new Date(), new Date());
      return file;
    }
    await fsp.mkdir(dir, { recursive: true });
    const partial = `${file}~${OWNER}~${randomUUID()}.part`;
    try {
      await pipeline(await store.read(key), fs.createWriteStream(partial));
      const written = (await fsp.stat(partial)).size;
      if (written !== sizeBytes) throw new Error(`downloaded ${written} of ${sizeBytes} bytes of ${key}`);
      await fsp.rename(partial, file);
    } finally {
      await fsp.rm(partial, { force: true });
    }
    return file;
  }

  async scratch(): Promise<string> {
    const dir = path.join(this.root, 'scratch', `${OWNER}~${randomUUID()}`);
    await fsp.mkdir(dir, { recursive: true });
    return dir;
  }

  async release(dir: string): Promise<void> {
    await fsp.rm(dir, { recursive: true, force: true });
  }

  /**
   * Keeps a render's outputs (already uploaded under prefix) for the validation that follows, so it does not
   * download what this worker just wrote. Another worker, or this one after a restart, downloads them instead.
   */
  async keepOutputs(dir: string, prefix: string): Promise<void> {
    await fsp.rename(dir, this.outputsDir(prefix));
  }

  /** The outputs kept for prefix, if this process rendered them; the caller releases the directory. */
  async keptOutputs(prefix: string): Promise<string | undefined> {
    const dir = this.outputsDir(prefix);
    return (await fsp.stat(dir).catch(() => undefined))?.isDirectory() ? dir : undefined;
  }

  /** Named for the blob too, so the blob's last stage can find the outputs of render attempts nobody validated. */
  private outputsDir(prefix: string): string {
    const id = createHash('sha256').update(prefix).digest('hex').slice(0, 32);
    return path.join(this.root, 'scratch', `${outputsOfBlob(blobOfKey(prefix) ?? 'none')}${id}`);
  }

  /**
   * Once the blob's media stages are done, its local copy is of no further use; nor are the outputs this process
   * kept for attempts whose completion Temporal never recorded (a server restart or a timeout under the render:
   * the retry rendered again under another prefix, and validation read that one).
   */
  async dropSource(sha256: string): Promise<void> {
    await fsp.rm(path.join(this.root, 'sources', sha256), { force: true });
    const scratch = path.join(this.root, 'scratch');
    const unclaimed = (await fsp.readdir(scratch).catch(() => [] as string[])).filter((name) =>
      name.startsWith(outputsOfBlob(sha256)),
    );
    for (const name of unclaimed) await fsp.rm(path.join(scratch, name), { recursive: true, force: true });
  }

  /** Uploads every file below dir under prefix, keeping relative paths; returns each key with its size. */
  async uploadDir(store: ObjectStore, dir: string, prefix: string): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    const entries = await fsp.readdir(dir, { recursive: true, withFileTypes: true });
    for (const entry of entries.filter((e) => e.isFile())) {
      const full = path.join(entry.parentPath, entry.name);
      const relative = path.relative(dir, full).split(path.sep).join('/');
      await store.write(`${prefix}${relative}`, fs.createReadStream(full), {
        contentType: contentTypeFor(full),
      });
      sizes.set(relative, (await fsp.stat(full)).size);
    }
    return sizes;
  }

  async downloadPrefix(store: ObjectStore, prefix: string, dir: string): Promise<void> {
    for (const key of await store.list(prefix)) {
      const target = path.join(dir, ...key.slice(prefix.length).split('/'));
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await pipeline(await store.read(key), fs.createWriteStream(target));
    }
  }

  /**
   * Drops what a dead process on this host left (a worker killed mid-download or mid-render), and sources and
   * scratch directories nobody touched for a while (blobs whose last stage ran on another worker).
   */
  async prune(now = Date.now()): Promise<void> {
    for (const sub of ['sources', 'scratch']) {
      const dir = path.join(this.root, sub);
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const full = path.join(dir, name);
        const stat = await fsp.stat(full).catch(() => undefined);
        if (leftByDeadProcess(name) || (stat && now - stat.mtimeMs > this.maxAgeMs)) {
          await fsp.rm(full, { recursive: true, force: true });
        }
      }
    }
  }
}
