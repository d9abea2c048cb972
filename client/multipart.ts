import { createHash } from 'node:crypto';
import type { AssetlineClient } from './client.ts';
import { call } from './client.ts';
import { AssetlineError } from './errors.ts';
import { ChunkFeed, putBytes, type FileRange } from './put-part.ts';
import type { PartReader } from './source.ts';
import { backoff, type UploadOptions, type UploadProgress } from './upload.ts';

export type PartUrls = { partNumber: number; url: string }[];
export type DonePart = { partNumber: number; etag: string; sizeBytes: number };

/** A part S3 holds from an earlier run is not this file's bytes: the session cannot be resumed. */
export class StalePartError extends Error {}

/** A part to send: opened afresh for each attempt (a file range is read again each time). */
interface PartBody {
  length: number;
  open(attempt: number): Buffer | FileRange | ChunkFeed;
  release(): void;
}

/** Buffers the file is read through once, in order: a part's chunks are hashed, then written from the same memory. */
class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((b: Buffer) => void)[] = [];
  private made = 0;
  // Plain fields, not parameter properties (see MultipartSession).
  private readonly size: number;
  private readonly max: number;

  constructor(size: number, max: number) {
    this.size = size;
    this.max = max;
  }

  take(): Promise<Buffer> | Buffer {
    const buffer = this.free.pop();
    if (buffer) return buffer;
    if (this.made < this.max) {
      this.made++;
      return Buffer.allocUnsafeSlow(this.size);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

const FEED_CHUNK = 1024 * 1024;
/** At most this many MiB read ahead of what the connections have written. */
const FEED_BUFFERS = 16;

/**
 * The parts of one multipart upload: read in order (the hash needs every byte in order), sent `concurrency` at a
 * time, each retried with backoff; parts S3 already holds are read for the hash but not sent.
 */
export class MultipartSession {
  sentParts = 0;
  skippedParts = 0;
  private readonly urls = new Map<number, string>();
  private readonly done = new Map<number, string>();
  private refreshing: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly pool = new BufferPool(FEED_CHUNK, FEED_BUFFERS);
  // Plain fields, not parameter properties: Node runs this file by stripping types, which has no such rewrite.
  private readonly client: AssetlineClient;
  private readonly assetId: string;
  private readonly upload: { partSizeBytes: number; parts: PartUrls; done?: DonePart[] };
  private readonly opts: UploadOptions;
  private readonly progress: UploadProgress;

  constructor(
    client: AssetlineClient,
    assetId: string,
    upload: { partSizeBytes: number; parts: PartUrls; done?: DonePart[] },
    opts: UploadOptions,
    progress: UploadProgress,
  ) {
    this.client = client;
    this.assetId = assetId;
    this.upload = upload;
    this.opts = opts;
    this.progress = progress;
    // URLs saved from the session's first answer, then the fresh ones for the missing parts.
    for (const p of opts.resume?.partUrls ?? []) this.urls.set(p.partNumber, p.url);
    for (const p of upload.parts) this.urls.set(p.partNumber, p.url);
    for (const p of upload.done ?? []) this.done.set(p.partNumber, p.etag);
    opts.signal?.addEventListener('abort', () => this.abort.abort(opts.signal?.reason), { once: true });
  }

  /** Every part, sent or found; the list POST /media/{id}/complete takes. */
  async run(reader: PartReader, size: number): Promise<{ partNumber: number; etag: string }[]> {
    const partSize = this.upload.partSizeBytes;
    const count = Math.max(1, Math.ceil(size / partSize));
    const limit = Math.max(1, this.opts.concurrency ?? 4);
    await this.opts.onPartUrls?.(this.upload.parts);
    const inFlight = new Set<Promise<void>>();
    // One buffer per slot, reused part after part: garbage of 16 MiB a part would grow the heap faster than GC.
    const free: Buffer[] = [];
    const take = () => free.pop() ?? Buffer.allocUnsafeSlow(partSize);
    let failure: unknown;
    for (let partNumber = 1; partNumber <= count && failure === undefined; partNumber++) {
      // Read only when a slot is free: memory stays at `limit` parts whatever the file's size.
      while (inFlight.size >= limit) await Promise.race(inFlight);
      if (failure !== undefined) break;
      const offset = (partNumber - 1) * partSize;
      const length = Math.min(partSize, size - offset);
      const held = this.done.get(partNumber);
      // A part's MD5 is needed to check a held part against its ETag, and for Content-MD5.
      const check = held !== undefined || this.opts.contentMd5 ? createHash('md5') : undefined;
      let body: PartBody;
      const path = reader.path;
      let feed: ChunkFeed | undefined;
      if (path && !check) {
        // A file part nobody needs the MD5 of first: read once, hashed and sent from the same buffers; only a retry
        // reads it from the file again.
        const live = new ChunkFeed(length);
        feed = live;
        body = {
          length,
          open: (attempt) => (attempt === 0 ? live : { path, start: offset, length }),
          release: () => live.abandon(),
        };
      } else if (path) {
        // A file: hash it in passing, and send each part from the file itself (memory stays small).
        await reader.pass(length, check);
        body = {
          length,
          open: () => ({ path, start: offset, length }),
          release: () => undefined,
        };
      } else {
        const buffer = take();
        const bytes = await reader.read(length, buffer);
        check?.update(bytes);
        body = { length: bytes.length, open: () => bytes, release: () => free.push(buffer) };
      }
      const partMd5 = check?.digest();
      if (held !== undefined) {
        // A plain S3 ETag is the part's MD5: a part from another file (or a body cut short and stored by a lax
        // server) must not become part of this one.
        const hex = /^"?([0-9a-f]{32})"?$/.exec(held)?.[1];
        if (!hex || hex === partMd5!.toString('hex')) {
          body.release();
          this.skippedParts++;
          this.progress.skippedBytes += length;
          this.opts.onProgress?.({ ...this.progress });
          continue;
        }
        // Damaged (versitygw keeps a body cut short by a killed client as a whole part): send it again.
        this.done.delete(partNumber);
        if (!this.urls.has(partNumber)) {
          throw new StalePartError(`part ${partNumber} on the server is not this file's bytes`);
        }
      }
      const contentMd5 = this.opts.contentMd5 ? partMd5!.toString('base64') : undefined;
      const task = this.send(partNumber, body, contentMd5)
        .catch((err: unknown) => {
          failure ??= err;
          this.abort.abort(err);
        })
        .finally(() => {
          inFlight.delete(task);
          body.release();
        });
      inFlight.add(task);
      if (feed) await this.feed(reader, feed, length);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return [...this.done]
      .map(([partNumber, etag]) => ({ partNumber, etag }))
      .sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Reads the part's bytes in order (the SHA-256 takes them on the way) and hands them to its request. */
  private async feed(reader: PartReader, feed: ChunkFeed, length: number): Promise<void> {
    let left = length;
    while (left > 0) {
      const buffer = await this.pool.take();
      const piece = await reader.read(Math.min(left, buffer.length), buffer);
      if (piece.length === 0) {
        this.pool.give(buffer);
        throw new Error(`the file ended ${left} bytes before its declared size`);
      }
      left -= piece.length;
      feed.push(piece, () => this.pool.give(buffer));
    }
    feed.end();
  }

  private async send(partNumber: number, body: PartBody, contentMd5: string | undefined): Promise<void> {
    const etag = await this.put(partNumber, body, contentMd5);
    this.done.set(partNumber, etag);
    this.sentParts++;
    this.progress.sentBytes += body.length;
    this.opts.onProgress?.({ ...this.progress });
    // Outside the retry loop: the caller's hook failing stops the upload, it never resends the part.
    await this.opts.onPart?.(partNumber);
  }

  /** One part to S3, retried with backoff on network errors, 5xx and 429, with fresh URLs after a 403. */
  private async put(partNumber: number, body: PartBody, contentMd5: string | undefined): Promise<string> {
    const attempts = this.opts.attempts ?? 5;
    const signal = this.abort.signal;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      signal.throwIfAborted();
      let url = this.urls.get(partNumber);
      if (!url) {
        await this.refresh();
        url = this.urls.get(partNumber);
        if (!url) throw new AssetlineError(409, { title: 'no URL for part', detail: `part ${partNumber}` });
      }
      try {
        // Content-MD5 (opt-in): S3 refuses a body that arrives other than sent, a killed client's half part included.
        const headers: Record<string, string> = contentMd5 ? { 'Content-MD5': contentMd5 } : {};
        const response = await putBytes(url, body.open(attempt), headers, signal);
        const etag = response.headers.etag;
        const ok = response.status >= 200 && response.status < 300;
        if (ok && etag) return etag;
        lastError = AssetlineError.fromText(response.status, response.text);
        // 403: the presigned URL expired (or the clock moved); fresh URLs, then this part again.
        if (response.status === 403) this.urls.clear();
        else if (response.status < 500 && response.status !== 429) throw lastError;
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        if (err === lastError) throw err;
        lastError = err;
      }
      await backoff(attempt, signal);
    }
    throw lastError;
  }

  /**
   * Fresh URLs for the parts still missing, once for all parts in flight: GET /media/{id}/upload signs them while
   * the session lasts; after it expired, POST /media/{id}/upload/renew (where the API has it) opens it again.
   */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const session = await call(
        this.client.api.GET('/media/{id}/upload', { params: { path: { id: this.assetId } } }),
      );
      let missing = session.method === 'MULTIPART' ? session.missing : [];
      if (missing.length === 0) missing = await this.renew();
      await this.opts.onPartUrls?.(missing);
      for (const p of missing) this.urls.set(p.partNumber, p.url);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async renew(): Promise<PartUrls> {
    const url = new URL(`${this.client.baseUrl}/media/${this.assetId}/upload/renew`);
    const response = await this.client.send(url, { method: 'POST', signal: this.abort.signal });
    if (response.status === 404 || response.status === 405) {
      await response.body?.cancel();
      throw new AssetlineError(410, {
        title: 'upload session expired',
        detail: `the part URLs of ${this.assetId} expired and this API cannot renew them; upload the file again`,
      });
    }
    if (!response.ok) throw await AssetlineError.fromResponse(response);
    const renewed = (await response.json()) as { upload?: { parts?: PartUrls } };
    return renewed.upload?.parts ?? [];
  }
}
