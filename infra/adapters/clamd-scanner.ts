import net from 'node:net';
import type { Readable } from 'node:stream';
import { ScannerUnavailableError, type ScanVerdict, type Scanner } from './scanner';
import { MAX_CHUNK_BYTES, MAX_REPLY_BYTES, PING_COMMAND } from './clamd-protocol';
import { instreamScan } from './clamd-instream';

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

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_CHUNK_BYTES = 64 * 1024;

function positiveInt(value: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new RangeError(`ClamdScanner: ${what} must be an integer between 1 and ${max}, got ${value}`);
  }
  return value;
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
    return instreamScan(
      {
        connect: () => this.connect(),
        target: this.target,
        timeoutMs: this.timeoutMs,
        chunkBytes: this.chunkBytes,
        maxStreamBytes: this.maxStreamBytes,
      },
      stream,
      opts.signal,
    );
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
