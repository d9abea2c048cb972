import type net from 'node:net';
import type { Readable } from 'node:stream';
import { ScannerLostError, ScannerUnavailableError, type ScanVerdict } from './scanner';
import {
  ClamdReplyError,
  END_OF_STREAM,
  INSTREAM_COMMAND,
  InstreamChunker,
  MAX_REPLY_BYTES,
  chunkHeader,
  parseInstreamReply,
} from './clamd-protocol';

export interface InstreamSettings {
  /** Opens a new connection to clamd. */
  connect(): net.Socket;
  /** `host:port` or the socket path, for messages. */
  target: string;
  timeoutMs: number;
  chunkBytes: number;
  maxStreamBytes: number | undefined;
}

function noop(): void {}

/**
 * One INSTREAM scan over a connection of its own: the bytes are sent as they arrive (with backpressure), never
 * buffered whole. Takes ownership of the stream as `Scanner.scan` describes.
 */
export function instreamScan(
  settings: InstreamSettings,
  stream: Readable,
  signal: AbortSignal | undefined,
): Promise<ScanVerdict> {
  const { target, timeoutMs } = settings;
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

    const socket = settings.connect();
    const chunks = new InstreamChunker(stream, settings.chunkBytes, settings.maxStreamBytes);
    const replyChunks: Buffer[] = [];
    let replyBytes = 0;
    let bytesSent = 0; // to clamd
    let pumpScheduled: NodeJS.Immediate | undefined;
    let sourceEnded = false;
    let endSent = false;
    let settled = false;

    const timer = setTimeout(() => {
      fail(
        new ScannerUnavailableError(
          `clamd at ${target}: no progress for ${timeoutMs} ms (${bytesSent} bytes sent` +
            `${endSent ? ', waiting for the verdict' : ''})`,
        ),
      );
    }, timeoutMs);
    const progress = (): void => {
      timer.refresh();
    };

    const cleanup = (): void => {
      clearTimeout(timer);
      if (pumpScheduled) clearImmediate(pumpScheduled);
      chunks.discard();
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
        `clamd at ${target}: ${what} (after ${bytesSent} bytes${endSent ? ', before the verdict' : ''})`,
        cause === undefined ? undefined : { cause },
      );
    // The connection dropped once clamd had the whole stream: it went away while scanning, perhaps because of it.
    const lostOrUnavailable = (what: string, cause?: unknown): ScannerUnavailableError =>
      endSent && replyBytes === 0
        ? new ScannerLostError(
            `clamd at ${target}: ${what} after the whole stream (${bytesSent} bytes), before its verdict`,
            cause === undefined ? undefined : { cause },
          )
        : unavailable(what, cause);

    function onAbort(): void {
      fail(signal?.reason ?? new Error('scan aborted'));
    }

    /*
     * Sends at most one INSTREAM chunk per event-loop turn, and only while the socket is not backed up. clamd
     * refuses an oversized stream by replying and closing at once; a write issued after that close fails with
     * EPIPE and Node then discards the socket with the reply unread. Writing from setImmediate (after the poll
     * phase has read whatever clamd sent) keeps that window to microseconds instead of a burst of writes.
     */
    const schedulePump = (): void => {
      pumpScheduled ??= setImmediate(pump);
    };
    const pump = (): void => {
      pumpScheduled = undefined;
      if (settled || socket.writableNeedDrain) return; // 'drain' schedules the next turn
      let piece: Buffer | undefined;
      try {
        piece = chunks.next();
      } catch (err) {
        fail(err);
        return;
      }
      if (piece) {
        progress();
        socket.cork();
        socket.write(chunkHeader(piece.length));
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
        if (replyBytes > MAX_REPLY_BYTES) fail(unavailable(`no NUL-terminated reply in ${replyBytes} bytes`));
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
      fail(lostOrUnavailable(`${err.message}${hint}`, err));
    });
    socket.on('end', () => fail(lostOrUnavailable('clamd closed the connection without a reply')));
    socket.on('close', () => fail(lostOrUnavailable('the connection closed without a reply')));
  });
}
