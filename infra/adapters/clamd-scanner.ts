import net from 'node:net';
import type { Readable } from 'node:stream';
import { ScannerUnavailableError, type ScanVerdict, type Scanner } from './scanner';

export type ClamdAddress = { host: string; port: number } | { socketPath: string };

export type ClamdScannerOptions = ClamdAddress & {
  /**
   * Give up (ScannerUnavailableError) when nothing has happened for this long: no connect, no byte read from the
   * input or written to / read from clamd. Covers clamd's scan after the last byte. Default 60 s.
   */
  timeoutMs?: number;
  /** Largest INSTREAM chunk sent to clamd; bigger input chunks are split. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * clamd's StreamMaxLength in bytes, if known. A stream growing beyond it is refused here (ClamdReplyError with
   * sizeLimitExceeded) before clamd sees the excess. Without it clamd refuses by replying and closing the
   * connection; if that close hits a write before the reply was read, the reply is lost and the scan fails with
   * ScannerUnavailableError instead (still never clean).
   */
  maxStreamBytes?: number;
};

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

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** No clamd reply is anywhere near this long; more without a NUL means we are not talking to clamd. */
const MAX_REPLY_BYTES = 64 * 1024;
const MAX_CHUNK_BYTES = 0xffff_ffff;
const END_OF_STREAM = Buffer.alloc(4); // a zero-length chunk
const INSTREAM_COMMAND = Buffer.from('zINSTREAM\0');
const PING_COMMAND = Buffer.from('zPING\0');

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

function positiveInt(value: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new RangeError(`ClamdScanner: ${what} must be an integer between 1 and ${max}, got ${value}`);
  }
  return value;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`ClamdScanner: the stream must yield bytes, got ${typeof chunk}`);
}

function noop(): void {}

/**
 * Scans with a running clamd over TCP or a Unix socket, using INSTREAM: the bytes are sent as they arrive (with
 * backpressure), never buffered whole. One connection per scan or ping.
 */
export class ClamdScanner implements Scanner {
  readonly name = 'clamd';
  private readonly address: ClamdAddress;
  private readonly timeoutMs: number;
  private readonly chunkBytes: number;
  private readonly maxStreamBytes: number | undefined;

  constructor(opts: ClamdScannerOptions) {
    this.address =
      'socketPath' in opts ? { socketPath: opts.socketPath } : { host: opts.host, port: opts.port };
    this.timeoutMs = positiveInt(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.chunkBytes = positiveInt(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, 'chunkBytes', MAX_CHUNK_BYTES);
    this.maxStreamBytes =
      opts.maxStreamBytes === undefined ? undefined : positiveInt(opts.maxStreamBytes, 'maxStreamBytes');
  }

  /** `host:port` or the socket path, for messages. */
  get target(): string {
    return 'socketPath' in this.address
      ? this.address.socketPath
      : `${this.address.host}:${this.address.port}`;
  }

  private connect(): net.Socket {
    return 'socketPath' in this.address
      ? net.connect({ path: this.address.socketPath })
      : net.connect({ host: this.address.host, port: this.address.port });
  }

  scan(stream: Readable, opts: { signal?: AbortSignal } = {}): Promise<ScanVerdict> {
    const { signal } = opts;
    return new Promise<ScanVerdict>((resolve, reject) => {
      if (signal?.aborted) {
        stream.destroy();
        reject(signal.reason);
        return;
      }
      if (stream.destroyed || stream.readableEnded) {
        reject(new TypeError('ClamdScanner: the stream was already consumed or destroyed'));
        return;
      }

      const socket = this.connect();
      const replyChunks: Buffer[] = [];
      let replyBytes = 0;
      let bytesRead = 0; // from the input
      let bytesSent = 0; // to clamd
      let pending: Buffer | undefined; // input chunk being sent
      let pendingOffset = 0;
      let pumpScheduled: NodeJS.Immediate | undefined;
      let sourceEnded = false;
      let endSent = false;
      let settled = false;

      const timer = setTimeout(() => {
        fail(
          new ScannerUnavailableError(
            `clamd at ${this.target}: no progress for ${this.timeoutMs} ms (${bytesSent} bytes sent` +
              `${endSent ? ', waiting for the verdict' : ''})`,
          ),
        );
      }, this.timeoutMs);
      const progress = (): void => {
        timer.refresh();
      };

      const cleanup = (): void => {
        clearTimeout(timer);
        if (pumpScheduled) clearImmediate(pumpScheduled);
        pending = undefined;
        signal?.removeEventListener('abort', onAbort);
        stream
          .off('readable', onReadable)
          .off('end', onEnd)
          .off('error', onStreamError)
          .off('close', onStreamClose);
        socket.removeAllListeners();
        socket.on('error', noop); // late errors of a socket we are discarding
        socket.destroy();
        if (!sourceEnded) {
          stream.on('error', noop);
          stream.destroy();
        }
      };
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(err);
      };
      const succeed = (verdict: ScanVerdict): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(verdict);
      };
      const unavailable = (what: string, cause?: unknown): ScannerUnavailableError =>
        new ScannerUnavailableError(
          `clamd at ${this.target}: ${what} (after ${bytesSent} bytes${endSent ? ', before the verdict' : ''})`,
          cause === undefined ? undefined : { cause },
        );

      function onAbort(): void {
        fail(signal?.reason ?? new Error('scan aborted'));
      }

      /*
       * Sends at most one INSTREAM chunk per event-loop turn, and only while the socket is not backed up. clamd
       * refuses an oversized stream by replying and closing at once; a write issued after that close fails with
       * EPIPE and Node then discards the socket with the reply unread. Writing from setImmediate (after the poll
       * phase has read whatever clamd sent) keeps that window to microseconds instead of a burst of writes.
       * The input is read in paused mode, so small input chunks are gathered into one INSTREAM chunk.
       */
      const schedulePump = (): void => {
        pumpScheduled ??= setImmediate(pump);
      };
      const nextPiece = (): Buffer | undefined => {
        const parts: Buffer[] = [];
        let size = 0;
        while (size < this.chunkBytes) {
          if (!pending) {
            const chunk: unknown = stream.read();
            if (chunk === null) break;
            pending = toBuffer(chunk);
            pendingOffset = 0;
            bytesRead += pending.length;
            if (this.maxStreamBytes !== undefined && bytesRead > this.maxStreamBytes) {
              throw new ClamdReplyError(
                `clamd would refuse the stream: it is larger than StreamMaxLength (${this.maxStreamBytes} bytes)`,
                '',
                true,
              );
            }
          }
          const part = pending.subarray(pendingOffset, pendingOffset + this.chunkBytes - size);
          pendingOffset += part.length;
          if (pendingOffset >= pending.length) pending = undefined;
          if (part.length > 0) parts.push(part); // never a zero-length chunk: that ends the stream for clamd
          size += part.length;
        }
        if (size === 0) return undefined;
        return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
      };
      const pump = (): void => {
        pumpScheduled = undefined;
        if (settled || socket.writableNeedDrain) return; // 'drain' schedules the next turn
        let piece: Buffer | undefined;
        try {
          piece = nextPiece();
        } catch (err) {
          fail(err);
          return;
        }
        if (piece) {
          progress();
          const header = Buffer.allocUnsafe(4);
          header.writeUInt32BE(piece.length);
          socket.cork();
          socket.write(header);
          socket.write(piece);
          socket.uncork();
          bytesSent += piece.length;
          schedulePump();
        } else if (sourceEnded && !endSent) {
          endSent = true;
          socket.write(END_OF_STREAM);
        }
        // else: 'readable' schedules the next turn
      };

      const onReadable = (): void => {
        progress();
        schedulePump();
      };
      const onDrain = (): void => {
        progress();
        schedulePump();
      };
      const onEnd = (): void => {
        progress();
        sourceEnded = true;
        schedulePump();
      };
      const onStreamError = (err: Error): void => {
        fail(unavailable(`the input stream failed: ${err.message}`, err));
      };
      const onStreamClose = (): void => {
        if (!sourceEnded) fail(unavailable('the input stream was closed before its end'));
      };

      const onSocketData = (data: Buffer): void => {
        progress();
        replyChunks.push(data);
        replyBytes += data.length;
        const nul = data.indexOf(0);
        if (nul === -1) {
          if (replyBytes > MAX_REPLY_BYTES)
            fail(unavailable(`no NUL-terminated reply in ${replyBytes} bytes`));
          return;
        }
        const all = Buffer.concat(replyChunks, replyBytes);
        const reply = all.subarray(0, all.indexOf(0)).toString('utf8').trim();
        let verdict: ScanVerdict;
        try {
          verdict = parseInstreamReply(reply);
        } catch (err) {
          fail(err);
          return;
        }
        if (!endSent) {
          fail(new ClamdReplyError(`clamd replied before the end of the stream: ${reply}`, reply, false));
          return;
        }
        succeed(verdict);
      };

      stream.on('error', onStreamError);
      stream.on('close', onStreamClose);
      signal?.addEventListener('abort', onAbort, { once: true });

      socket.on('connect', () => {
        progress();
        socket.write(INSTREAM_COMMAND);
        stream.on('readable', onReadable);
        stream.on('end', onEnd);
        schedulePump();
      });
      socket.on('drain', onDrain);
      socket.on('data', onSocketData);
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const hungUp = !endSent && bytesSent > 0 && (err.code === 'EPIPE' || err.code === 'ECONNRESET');
        const hint = hungUp
          ? ': clamd closed the connection while the stream was being sent (it went away, or the stream is ' +
            'larger than its StreamMaxLength and the reply was lost)'
          : '';
        fail(unavailable(`${err.message}${hint}`, err));
      });
      socket.on('end', () => fail(unavailable('clamd closed the connection without a reply')));
      socket.on('close', () => fail(unavailable('the connection closed without a reply')));
    });
  }

  ping(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const socket = this.connect();
      let reply = '';
      let settled = false;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        socket.removeAllListeners();
        socket.on('error', noop);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      socket.setTimeout(this.timeoutMs, () =>
        finish(new ScannerUnavailableError(`clamd at ${this.target}: no PONG within ${this.timeoutMs} ms`)),
      );
      socket.on('connect', () => socket.write(PING_COMMAND));
      socket.setEncoding('utf8');
      socket.on('data', (data: string) => {
        reply += data;
        const nul = reply.indexOf('\0');
        if (nul === -1 && reply.length <= MAX_REPLY_BYTES) return;
        const answer = (nul === -1 ? reply : reply.slice(0, nul)).trim();
        finish(
          answer === 'PONG'
            ? undefined
            : new ScannerUnavailableError(
                `clamd at ${this.target}: expected PONG, got ${JSON.stringify(answer.slice(0, 200))}`,
              ),
        );
      });
      socket.on('error', (err) =>
        finish(new ScannerUnavailableError(`clamd at ${this.target}: ${err.message}`, { cause: err })),
      );
      socket.on('close', () =>
        finish(new ScannerUnavailableError(`clamd at ${this.target}: connection closed without PONG`)),
      );
    });
  }
}
