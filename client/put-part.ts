import http from 'node:http';
import https from 'node:https';
import { open } from 'node:fs/promises';

/**
 * A PUT to a pre-signed URL with node:http rather than fetch: fetch copies a Buffer body and feeds it through web
 * streams, which cost the CLI a third of curl's rate and hundreds of MiB of RSS on 1 GiB. One keep-alive agent per
 * protocol, so parts reuse their connections.
 */
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

export interface PutAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body, for an error's detail (S3 answers XML). */
  text: string;
}

/** `length` bytes of the file at `path` from `start`: a part sent from the file itself. */
export interface FileRange {
  path: string;
  start: number;
  length: number;
}

/**
 * A part's bytes as the upload reads the file: chunks pushed in order (hashed on the way), each handed back with
 * `done` once written. Used once: a retry sends the part again from the file.
 */
export class ChunkFeed {
  private readonly queue: { bytes: Buffer; done: () => void }[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private abandoned = false;

  // A plain field, not a parameter property: Node runs the CLI's sources by stripping types, which cannot rewrite one.
  readonly length: number;

  constructor(length: number) {
    this.length = length;
  }

  push(bytes: Buffer, done: () => void): void {
    if (this.abandoned) return done();
    this.queue.push({ bytes, done });
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The request is over (failed or never made): what is queued, and whatever comes later, is let go at once. */
  abandon(): void {
    this.abandoned = true;
    for (const chunk of this.queue.splice(0)) chunk.done();
    this.wake?.();
  }

  async *chunks(): AsyncGenerator<{ bytes: Buffer; done: () => void }> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended || this.abandoned) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * Buffers a file range is sent through, reused part after part. A file stream would allocate a fresh buffer per
 * chunk: on 1 GiB that kept V8's collector busy for more CPU time than the sending itself (3.5 s of 10).
 */
const CHUNK = 1024 * 1024;
const spare: Buffer[] = [];
const SPARE_MAX = 16;

/** `body`: bytes in memory, a range of a file streamed through two reused buffers, or a feed of chunks. */
export function putBytes(
  url: string,
  body: Uint8Array | FileRange | ChunkFeed,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<PutAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = agents[target.protocol as keyof typeof agents];
  const length = body instanceof Uint8Array ? body.byteLength : body.length;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      target,
      { method: 'PUT', agent, signal, headers: { ...headers, 'Content-Length': String(length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body instanceof Uint8Array) return req.end(body);
    const writing = body instanceof ChunkFeed ? writeFeed(req, body) : writeRange(req, body);
    writing.catch((err: unknown) => {
      req.destroy(err as Error);
      reject(err);
    });
  });
}

/**
 * Writes the feed's chunks as they come; each is handed back once written, or once the request is closed (a failed
 * request drops what it had not written, and may never call those writes back).
 */
async function writeFeed(req: http.ClientRequest, feed: ChunkFeed): Promise<void> {
  const pending = new Set<() => void>();
  req.once('close', () => {
    for (const done of pending) done();
    pending.clear();
  });
  try {
    let sent = 0;
    for await (const chunk of feed.chunks()) {
      sent += chunk.bytes.length;
      let released = false;
      const done = () => {
        if (released) return;
        released = true;
        pending.delete(done);
        chunk.done();
      };
      pending.add(done);
      req.write(chunk.bytes, done);
    }
    if (sent !== feed.length) throw new Error(`part fed ${sent} bytes, not ${feed.length}`);
    req.end();
  } finally {
    // A request that ends early (an error answer, a reset) stops taking chunks: the reader must not wait on it.
    feed.abandon();
  }
}

/** Reads the next chunk into one buffer while the other is being written; a buffer is reused once written. */
async function writeRange(req: http.ClientRequest, range: FileRange): Promise<void> {
  const file = await open(range.path, 'r');
  const buffers = [
    spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK),
    spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK),
  ];
  const written: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  try {
    let sent = 0;
    for (let i = 0; sent < range.length; i ^= 1) {
      await written[i];
      const buffer = buffers[i]!;
      const { bytesRead } = await file.read(
        buffer,
        0,
        Math.min(CHUNK, range.length - sent),
        range.start + sent,
      );
      if (bytesRead === 0) throw new Error(`${range.path} ended ${range.length - sent} bytes early`);
      sent += bytesRead;
      written[i] = new Promise((resolve, reject) =>
        req.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())),
      );
    }
    req.end();
    await Promise.all(written);
  } finally {
    await file.close();
    // A buffer goes back only once no write holds it (after an error, when the destroyed request lets go).
    void Promise.allSettled(written).then(() => {
      if (spare.length + buffers.length <= SPARE_MAX) spare.push(...buffers);
    });
  }
}
