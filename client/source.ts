import { createHash, type Hash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
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
    return {
      size: info.size,
      name: basename(source),
      reader: new PartReader(await open(source, 'r'), source),
    };
  }
  if (source instanceof Uint8Array) {
    const bytes = Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return { size: source.byteLength, name: undefined, reader: new PartReader([bytes]) };
  }
  if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw new Error('a stream needs its size in bytes (options.size)');
  }
  const stream = source instanceof Readable ? source : Readable.fromWeb(source as never);
  return { size, name: undefined, reader: new PartReader(stream) };
}

/**
 * Hands out the source's bytes in consecutive pieces, hashing every byte on the way. A file is read straight into
 * the caller's buffer (`into`), so an upload's memory is the buffers it reuses, whatever the file's size; bytes in
 * memory are handed out as views, without a copy.
 */
export class PartReader {
  private readonly file: FileHandle | undefined;
  private readonly iterator: AsyncIterator<Buffer | Uint8Array | string> | undefined;
  private readonly hash: Hash = createHash('sha256');
  private pending: Buffer | undefined;
  private consumed = 0;
  private scratch: Buffer | undefined;
  /** Set for a file: its parts can be sent from the file itself, without holding them in memory. */
  readonly path: string | undefined;

  constructor(source: FileHandle | AsyncIterable<Buffer | Uint8Array | string> | Buffer[], path?: string) {
    this.path = path;
    if (Array.isArray(source)) {
      this.iterator = source[Symbol.iterator]() as unknown as AsyncIterator<Buffer>;
    } else if (Symbol.asyncIterator in source) {
      this.iterator = source[Symbol.asyncIterator]();
    } else {
      this.file = source;
    }
  }

  /** Exactly `length` bytes (fewer only at the end), in `into` when given. */
  async read(length: number, into?: Buffer): Promise<Buffer> {
    const piece = this.file
      ? await this.fromFile(this.file, length, into)
      : await this.fromChunks(length, into);
    this.hash.update(piece);
    this.consumed += piece.length;
    return piece;
  }

  /**
   * Reads the next `length` bytes of a file only to hash them (into `also` too, e.g. a part's MD5), through one small
   * reused buffer: the part itself is sent from the file.
   */
  async pass(length: number, also?: Hash): Promise<number> {
    this.scratch ??= Buffer.allocUnsafe(4 * 1024 * 1024);
    let left = length;
    while (left > 0) {
      const piece = await this.read(Math.min(left, this.scratch.length), this.scratch);
      if (piece.length === 0) break;
      also?.update(piece);
      left -= piece.length;
    }
    return length - left;
  }

  /** Reads what is left (hashing it) and answers the SHA-256 of everything read. */
  async finish(expectedSize: number): Promise<string> {
    const scratch = Buffer.allocUnsafe(1024 * 1024);
    while ((await this.read(scratch.length, scratch)).length > 0);
    if (this.consumed !== expectedSize) {
      throw new Error(`the source had ${this.consumed} bytes, not the ${expectedSize} declared`);
    }
    return this.hash.digest('hex');
  }

  /** Closes the file (or ends the stream), done or not. */
  async close(): Promise<void> {
    await this.file?.close();
    await this.iterator?.return?.();
  }

  private async fromFile(file: FileHandle, length: number, into?: Buffer): Promise<Buffer> {
    const target = into ?? Buffer.allocUnsafe(length);
    let have = 0;
    while (have < length) {
      const { bytesRead } = await file.read(target, have, length - have, this.consumed + have);
      if (bytesRead === 0) break;
      have += bytesRead;
    }
    return target.subarray(0, have);
  }

  private async fromChunks(length: number, into?: Buffer): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let have = 0;
    while (have < length) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        const next = await this.iterator!.next();
        if (next.done) break;
        chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      }
      const take = Math.min(chunk.length, length - have);
      if (take < chunk.length) this.pending = chunk.subarray(take);
      pieces.push(chunk.subarray(0, take));
      have += take;
    }
    if (pieces.length === 1 && !into) return pieces[0]!;
    const target = into ?? Buffer.allocUnsafe(have);
    let at = 0;
    for (const p of pieces) at += p.copy(target, at);
    return target.subarray(0, have);
  }
}
