import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { ThreadedSha256 } from './hash-thread';
import { countingSink, streamIntoSink } from '../../infra/adapters/byte-sink';
import type { ObjectStore } from '../../infra/adapters/object-store';

/** Manifest chunks: small enough to name a damaged range usefully, large enough to keep manifests short. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * SHA-256 of a stream without holding it in memory, hashed on a thread of its own while the next bytes arrive;
 * onProgress sees the running byte count.
 */
export async function sha256OfStream(
  stream: Readable,
  onProgress?: (bytes: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = new ThreadedSha256();
  let bytes: number;
  try {
    bytes = await streamIntoSink(stream, countingSink(hash, onProgress));
  } catch (err) {
    hash.discard();
    throw err;
  }
  return { sha256: await hash.digest(), bytes };
}

/**
 * SHA-256 of a stored object, its bytes read straight into the hashing thread's batches (no buffer per read, no
 * copy); null when there is no object at the key.
 */
export async function sha256OfObject(
  store: Pick<ObjectStore, 'readInto'>,
  key: string,
  opts: { onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
): Promise<{ sha256: string; bytes: number } | null> {
  const hash = new ThreadedSha256();
  let bytes: number | null;
  try {
    bytes = await store.readInto(key, countingSink(hash, opts.onProgress), opts.signal);
  } catch (err) {
    hash.discard();
    throw err;
  }
  if (bytes === null) {
    hash.discard();
    return null;
  }
  return { sha256: await hash.digest(), bytes };
}

/** The SHA-256 of each chunkBytes-long slice of what it is fed, in order (the last may be shorter). */
export class ChunkHasher {
  readonly chunkSha256: string[] = [];
  bytes = 0;
  private chunk: Hash | undefined;
  private inChunk = 0;

  constructor(readonly chunkBytes: number) {}

  update(buf: Buffer): void {
    this.bytes += buf.length;
    // Stream pieces do not line up with chunk boundaries: split each piece where a chunk ends.
    for (let at = 0; at < buf.length;) {
      this.chunk ??= createHash('sha256');
      const take = Math.min(this.chunkBytes - this.inChunk, buf.length - at);
      this.chunk.update(buf.subarray(at, at + take));
      at += take;
      this.inChunk += take;
      if (this.inChunk === this.chunkBytes) this.close();
    }
  }

  finish(): { chunkBytes: number; chunkSha256: string[] } {
    if (this.chunk) this.close();
    return { chunkBytes: this.chunkBytes, chunkSha256: this.chunkSha256 };
  }

  /** Passes a stream through unchanged, feeding this hasher; `done` is set once the stream has ended. */
  tap(): Transform & { done: boolean } {
    const tap = Object.assign(
      new Transform({
        transform: (data: Buffer, _encoding, callback) => {
          this.update(data);
          callback(null, data);
        },
        flush: (callback) => {
          tap.done = true;
          callback();
        },
      }),
      { done: false },
    );
    return tap;
  }

  /** Feeds a whole stream through a fresh hasher: a manifest alone, without the whole-object hash. */
  static async ofStream(
    stream: Readable,
    chunkBytes: number,
  ): Promise<{ chunkBytes: number; chunkSha256: string[] }> {
    const hasher = new ChunkHasher(chunkBytes);
    for await (const data of stream) hasher.update(data as Buffer);
    return hasher.finish();
  }

  private close(): void {
    this.chunkSha256.push(this.chunk!.digest('hex'));
    this.chunk = undefined;
    this.inChunk = 0;
  }
}

/**
 * SHA-256 of a stream and, in the same pass, of each chunkBytes-long slice of it in order (the last may be
 * shorter).
 */
export async function chunkedSha256OfStream(
  stream: Readable,
  chunkBytes: number,
  onProgress?: (bytes: number) => void,
): Promise<{ sha256: string; bytes: number; chunkSha256: string[] }> {
  const hash = createHash('sha256');
  const chunks = new ChunkHasher(chunkBytes);
  let bytes = 0;
  for await (const data of stream) {
    const buf = data as Buffer;
    hash.update(buf);
    chunks.update(buf);
    bytes += buf.length;
    onProgress?.(bytes);
  }
  return { sha256: hash.digest('hex'), bytes, chunkSha256: chunks.finish().chunkSha256 };
}

/** Inclusive byte ranges of the chunks whose hashes differ, e.g. "bytes 8388608-16777215". */
export function differingRanges(
  expected: readonly string[],
  actual: readonly string[],
  chunkBytes: number,
  sizeBytes: number,
): string[] {
  const ranges: string[] = [];
  const chunks = Math.max(expected.length, actual.length);
  for (let i = 0; i < chunks; i++) {
    if (expected[i] === actual[i]) continue;
    const start = i * chunkBytes;
    ranges.push(`bytes ${start}-${Math.min(start + chunkBytes, sizeBytes) - 1}`);
  }
  return ranges;
}
