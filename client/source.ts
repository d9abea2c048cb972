import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';

/** A file path, bytes in memory, or a stream whose size the caller knows (S3 needs every part's length up front). */
export type UploadSource = string | Uint8Array | Readable | ReadableStream<Uint8Array>;

export interface OpenedSource {
  size: number;
  /** The file's own name, for a path. */
  name: string | undefined;
  reader: PartReader;
}

export async function openSource(source: UploadSource, size?: number): Promise<OpenedSource> {
  if (typeof source === 'string') {
    const info = await stat(source);
    if (!info.isFile()) throw new Error(`${source} is not a file`);
    // 1 MiB reads: few syscalls, and a part is assembled from a handful of chunks.
    const stream = createReadStream(source, { highWaterMark: 1024 * 1024 });
    return { size: info.size, name: basename(source), reader: new PartReader(stream) };
  }
  if (source instanceof Uint8Array) {
    return { size: source.byteLength, name: undefined, reader: new PartReader([Buffer.from(source)]) };
  }
  if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw new Error('a stream needs its size in bytes (options.size)');
  }
  const stream = source instanceof Readable ? source : Readable.fromWeb(source as never);
  return { size, name: undefined, reader: new PartReader(stream) };
}

/**
 * Hands out the source's bytes in consecutive pieces of a given length, hashing every byte on the way: memory holds
 * the pieces the caller keeps plus one read chunk, never the whole source.
 */
export class PartReader {
  private readonly iterator: AsyncIterator<Buffer | Uint8Array | string>;
  private readonly hash: Hash = createHash('sha256');
  private pending: Buffer | undefined;
  private consumed = 0;

  constructor(chunks: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer>) {
    const iterable = chunks as AsyncIterable<Buffer>;
    this.iterator =
      Symbol.asyncIterator in iterable
        ? iterable[Symbol.asyncIterator]()
        : (async function* () {
            yield* chunks as Iterable<Buffer>;
          })();
  }

  get bytesRead(): number {
    return this.consumed;
  }

  /** Exactly `length` bytes, fewer only at the end of the source. */
  async read(length: number): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let have = 0;
    while (have < length) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        const next = await this.iterator.next();
        if (next.done) break;
        chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      }
      const take = Math.min(chunk.length, length - have);
      if (take < chunk.length) this.pending = chunk.subarray(take);
      pieces.push(take < chunk.length ? chunk.subarray(0, take) : chunk);
      have += take;
    }
    const piece = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, have);
    this.hash.update(piece);
    this.consumed += piece.length;
    return piece;
  }

  /** Reads what is left (hashing it) and answers the SHA-256 of everything read. */
  async finish(expectedSize: number): Promise<string> {
    while ((await this.read(1024 * 1024)).length > 0);
    if (this.consumed !== expectedSize) {
      throw new Error(`the source had ${this.consumed} bytes, not the ${expectedSize} declared`);
    }
    await this.iterator.return?.();
    return this.hash.digest('hex');
  }

  /** Stops reading early (an error or an abort): closes the file. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}
