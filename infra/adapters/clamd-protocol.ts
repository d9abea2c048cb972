import type { Readable } from 'node:stream';
import type { ScanVerdict } from './scanner';

/**
 * clamd answered, but not with a verdict: an `... ERROR` reply or something unexpected. `sizeLimitExceeded` (the
 * stream is larger than clamd's StreamMaxLength) is permanent for these bytes; other replies are clamd trouble.
 */
export class ClamdReplyError extends Error {
  override readonly name = 'ClamdReplyError';

  constructor(
    message: string,
    /** clamd's reply without the terminating NUL (empty when the limit was enforced locally). */
    readonly reply: string,
    readonly sizeLimitExceeded: boolean,
  ) {
    super(message);
  }
}

/** No clamd reply is anywhere near this long; more without a NUL means we are not talking to clamd. */
export const MAX_REPLY_BYTES = 64 * 1024;
export const MAX_CHUNK_BYTES = 0xffff_ffff;
export const END_OF_STREAM = Buffer.alloc(4); // a zero-length chunk
export const INSTREAM_COMMAND = Buffer.from('zINSTREAM\0');
export const PING_COMMAND = Buffer.from('zPING\0');

/** The 4-byte length prefix of an INSTREAM chunk. */
export function chunkHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(length);
  return header;
}

/** Maps a clamd INSTREAM reply (without the NUL) to a verdict; throws ClamdReplyError for anything else. */
export function parseInstreamReply(reply: string): ScanVerdict {
  if (reply === 'stream: OK') return { verdict: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found?.[1]) return { verdict: 'infected', signature: found[1] };
  if (/size limit exceeded/i.test(reply)) {
    throw new ClamdReplyError(
      `clamd refused the stream: ${reply} (the stream is larger than clamd's StreamMaxLength)`,
      reply,
      true,
    );
  }
  if (/ERROR$/.test(reply))
    throw new ClamdReplyError(`clamd could not scan the stream: ${reply}`, reply, false);
  throw new ClamdReplyError(`unexpected reply from clamd: ${JSON.stringify(reply)}`, reply, false);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`ClamdScanner: the stream must yield bytes, got ${typeof chunk}`);
}

/**
 * Cuts an input stream read in paused mode into INSTREAM chunk bodies of at most `chunkBytes`, so small input
 * chunks are gathered into one INSTREAM chunk and big ones are split.
 */
export class InstreamChunker {
  private pending: Buffer | undefined; // input chunk being sent
  private pendingOffset = 0;
  private bytesRead = 0;

  constructor(
    private readonly stream: Readable,
    private readonly chunkBytes: number,
    private readonly maxStreamBytes: number | undefined,
  ) {}

  /** The next chunk body, or undefined when the input has nothing buffered right now. */
  next(): Buffer | undefined {
    const parts: Buffer[] = [];
    let size = 0;
    while (size < this.chunkBytes) {
      if (!this.pending) {
        const chunk: unknown = this.stream.read();
        if (chunk === null) break;
        this.pending = toBuffer(chunk);
        this.pendingOffset = 0;
        this.bytesRead += this.pending.length;
        if (this.maxStreamBytes !== undefined && this.bytesRead > this.maxStreamBytes) {
          throw new ClamdReplyError(
            `clamd would refuse the stream: it is larger than StreamMaxLength (${this.maxStreamBytes} bytes)`,
            '',
            true,
          );
        }
      }
      const part = this.pending.subarray(this.pendingOffset, this.pendingOffset + this.chunkBytes - size);
      this.pendingOffset += part.length;
      if (this.pendingOffset >= this.pending.length) this.pending = undefined;
      if (part.length > 0) parts.push(part); // never a zero-length chunk: that ends the stream for clamd
      size += part.length;
    }
    if (size === 0) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
  }

  /** Lets go of the input chunk being sent once the scan is over. */
  discard(): void {
    this.pending = undefined;
  }
}
