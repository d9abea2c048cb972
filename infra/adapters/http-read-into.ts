import net from 'node:net';
import type { ByteSink } from './byte-sink';

/** The answer was not a plain 200 with a Content-Length; nothing reached the sink, so another reader may try. */
export class UnsupportedAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedAnswerError';
  }
}

/** An HTTP answer other than 200 or 404. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`GET answered ${status}${body ? `: ${body.slice(0, 300)}` : ''}`);
    this.name = 'HttpStatusError';
  }
}

export interface HttpReadOptions {
  connectTimeoutMs: number;
  /** Longest silence while the answer arrives. */
  idleTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * GETs a plain-HTTP URL (a pre-signed S3 URL) with the socket reading straight into the sink's memory. Node's HTTP
 * client allocates a new buffer for every 64 KiB read, and on a gigabyte those buffers and their collection cost
 * as much CPU as the hashing they feed. Resolves with the body's byte count, or null on a 404.
 */
export function httpReadInto(url: URL, sink: ByteSink, opts: HttpReadOptions): Promise<number | null> {
  if (url.protocol !== 'http:') throw new UnsupportedAnswerError(`${url.protocol} is not plain HTTP`);
  const head = Buffer.allocUnsafe(MAX_HEAD_BYTES);
  let headBytes = 0;
  let status = 0;
  let bodyLeft = -1; // -1 until the head is parsed
  let bodyBytes = 0;
  let settled = false;

  return new Promise<number | null>((resolve, reject) => {
    let bodyStart = 0;
    const finish = (err: Error | null, result: number | null = null) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    const fail = (err: Error) => finish(err);
    const statusError = () =>
      new HttpStatusError(status, head.subarray(bodyStart, headBytes).toString('utf8'));

    // Parses the status line and headers, once they are all in the head buffer.
    const parseHead = (end: number) => {
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = headers.get('content-length');
      const plain = !headers.has('transfer-encoding') && length !== undefined && /^\d+$/.test(length);
      if (status === 200 && !plain) throw new UnsupportedAnswerError('a 200 without a plain Content-Length');
      bodyStart = end + HEAD_END.length;
      // An error answer's body (short XML) stays in the head buffer, as much of it as fits.
      bodyLeft =
        status === 200 ? Number(length) : Math.min(plain ? Number(length) : 0, MAX_HEAD_BYTES - bodyStart);
    };

    // Bytes into the head buffer: the head, the start of the body that came with it, an error answer's body.
    const onHeadBytes = () => {
      if (bodyLeft < 0) {
        const end = head.subarray(0, headBytes).indexOf(HEAD_END);
        if (end < 0) {
          if (headBytes === MAX_HEAD_BYTES) fail(new UnsupportedAnswerError('answer head too large'));
          return;
        }
        parseHead(end);
        if (status === 200) {
          const rest = head.subarray(bodyStart, headBytes);
          if (rest.length > bodyLeft) return fail(new Error('server sent more than its Content-Length'));
          for (let at = 0; at < rest.length;) {
            const n = rest.copy(sink.space(), 0, at);
            at += n;
            deliver(n);
          }
          if (bodyLeft === 0) finish(null, bodyBytes);
          return;
        }
      }
      if (status === 404) return finish(null, null);
      if (headBytes - bodyStart >= bodyLeft) fail(statusError());
    };

    const deliver = (n: number): boolean => {
      bodyLeft -= n;
      bodyBytes += n;
      return sink.commit(n);
    };

    const socket = net.connect({
      host: url.hostname,
      port: Number(url.port || 80),
      onread: {
        buffer: () => (status !== 200 ? head.subarray(headBytes) : sink.space()),
        callback: (n: number) => {
          try {
            if (status !== 200) {
              headBytes += n;
              onHeadBytes();
              return true;
            }
            if (n > bodyLeft) return (fail(new Error('server sent more than its Content-Length')), false);
            if (!deliver(n)) {
              socket.pause();
              void sink.drained().then(() => socket.resume(), fail);
            }
            if (bodyLeft === 0) finish(null, bodyBytes);
          } catch (err) {
            fail(err as Error);
          }
          return true;
        },
      },
    } as net.NetConnectOpts);

    const connectTimer = setTimeout(
      () => fail(new Error(`no connection to ${url.host} within ${opts.connectTimeoutMs} ms`)),
      opts.connectTimeoutMs,
    );
    const onAbort = () =>
      fail(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      socket.setTimeout(opts.idleTimeoutMs);
    });
    socket.on('timeout', () => fail(new Error(`no bytes from ${url.host} for ${opts.idleTimeoutMs} ms`)));
    socket.on('error', fail);
    const closedEarly = () =>
      fail(
        bodyLeft < 0
          ? new Error(`${url.host} closed the connection before answering`)
          : status !== 200
            ? statusError()
            : new Error(
                `${url.host} closed the connection after ${bodyBytes} of ${bodyBytes + bodyLeft} bytes`,
              ),
      );
    socket.on('end', closedEarly);
    socket.on('close', closedEarly);
    socket.setNoDelay(true);
    socket.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`,
    );
  });
}
