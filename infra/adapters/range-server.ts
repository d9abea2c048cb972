import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { RangeNotSatisfiableError, type ByteRange, type ObjectStore } from './object-store';

export interface RangeServer {
  /** A loopback URL (with an unguessable path) serving the object with byte ranges. */
  url: string;
  /** Bytes sent so far: what reading through ranges cost instead of the whole object. */
  bytesServed(): number;
  close(): Promise<void>;
}

/**
 * Serves one stored object over loopback HTTP with Range support, so a tool that seeks (ffmpeg's http protocol)
 * reads only the parts it needs, each as a ranged GET to the store, instead of the worker downloading it whole.
 */
export async function serveObjectRanges(store: ObjectStore, key: string): Promise<RangeServer> {
  const path = `/${randomBytes(16).toString('hex')}`;
  let served = 0;
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url !== path || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404).end();
        return;
      }
      let read;
      try {
        read = await store.readRange(key, parseRange(req.headers.range));
      } catch (err) {
        if (err instanceof RangeNotSatisfiableError) {
          res.writeHead(416, { 'Content-Range': `bytes */${err.totalSize}` }).end();
          return;
        }
        throw err;
      }
      if (!read) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(read.contentRange ? 206 : 200, {
        'Accept-Ranges': 'bytes',
        'Content-Length': String(read.contentLength),
        ...(read.contentRange ? { 'Content-Range': read.contentRange } : {}),
      });
      if (req.method === 'HEAD') {
        read.body.destroy();
        res.end();
        return;
      }
      read.body.on('data', (chunk: Buffer) => (served += chunk.length));
      // ffmpeg drops a connection when it seeks elsewhere: the store's stream ends with it.
      await pipeline(read.body, res).catch(() => undefined);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    bytesServed: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `bytes=N-` and `bytes=N-M`, which ffmpeg sends; anything else reads the whole object. */
function parseRange(header: string | undefined): ByteRange | undefined {
  const m = header && /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  return m[2] ? { start: Number(m[1]), end: Number(m[2]) } : { start: Number(m[1]) };
}
