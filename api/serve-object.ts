import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { RangeNotSatisfiableError, type ObjectStore } from '../infra/adapters/object-store';
import { etagMatches, parseRange } from './delivery/range';
import type { Logger } from '../infra/logger';
import { HttpProblem, notFound } from './problem';

export interface ServeOptions {
  contentType: string;
  cacheControl: string;
  /** Called once bytes are about to be sent (200 or 206 to a GET), not for HEAD, 304 or errors. */
  onRead: () => void;
}

const baseHeaders = (o: ServeOptions) => ({
  'Cache-Control': o.cacheControl,
  'X-Content-Type-Options': 'nosniff',
});

/**
 * Streams an object as S3 stores it, never buffered: one byte range (206), whole (200), HEAD, or 304 for a matching
 * If-None-Match (S3's ETag). The conditional and HEAD paths cost one extra HEAD to S3, the common GET none.
 */
export async function serveObject(
  req: Request,
  res: Response,
  store: ObjectStore,
  key: string,
  opts: ServeOptions,
  logger: Logger,
): Promise<void> {
  const ifNoneMatch = req.get('if-none-match');
  if (req.method === 'HEAD' || ifNoneMatch) {
    const head = await store.head(key);
    if (!head) throw notFound('no such object');
    const headers = { ...baseHeaders(opts), ...(head.etag ? { ETag: head.etag } : {}) };
    if (ifNoneMatch && etagMatches(ifNoneMatch, head.etag)) {
      res.status(304).set(headers).end();
      return;
    }
    if (req.method === 'HEAD') {
      res
        .status(200)
        .set({ ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': String(head.sizeBytes) })
        .type(opts.contentType)
        .end();
      return;
    }
  }

  let read;
  try {
    read = await store.readRange(key, parseRange(req.get('range')));
  } catch (err) {
    if (!(err instanceof RangeNotSatisfiableError)) throw err;
    throw new HttpProblem(
      416,
      'Range Not Satisfiable',
      `the object has ${err.totalSize} bytes`,
      {},
      { 'Content-Range': `bytes */${err.totalSize}` },
    );
  }
  if (!read) throw notFound('no such object');
  res
    .status(read.contentRange ? 206 : 200)
    .set({
      ...baseHeaders(opts),
      'Accept-Ranges': 'bytes',
      'Content-Length': String(read.contentLength),
      ...(read.contentRange ? { 'Content-Range': read.contentRange } : {}),
      ...(read.etag ? { ETag: read.etag } : {}),
    })
    .type(opts.contentType);
  opts.onRead();
  await pipeline(read.body, res).catch((err: Error) => {
    // The client went away (or S3 did) mid-body: the response is already cut short, nothing more to send.
    logger.debug({ key, err: err.message }, 'delivery stream ended early');
  });
}

/**
 * HLS playlists are small and are rewritten on the way out (their URIs carry the request's token), so they are read
 * whole, their ETag is that of the rewritten text, and ranges do not apply.
 */
export async function servePlaylist(
  req: Request,
  res: Response,
  store: ObjectStore,
  key: string,
  rewrite: (text: string) => string,
  opts: ServeOptions,
): Promise<void> {
  const read = await store.readRange(key);
  if (!read) throw notFound('no such object');
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  const body = Buffer.from(rewrite(Buffer.concat(chunks).toString('utf8')), 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  res.set({ ...baseHeaders(opts), ETag: etag, 'Accept-Ranges': 'none' }).type(opts.contentType);
  const ifNoneMatch = req.get('if-none-match');
  if (ifNoneMatch && etagMatches(ifNoneMatch, etag)) {
    res.status(304).end();
    return;
  }
  res.status(200).set('Content-Length', String(body.length));
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  opts.onRead();
  res.end(body);
}
