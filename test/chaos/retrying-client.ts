import { createHash } from 'node:crypto';
import { request, type JsonResponse } from '../helpers/http';

/** One answer of the API as the client saw it. */
export interface Answer {
  route: string;
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  /** A problem's detail: which dependency the API said was away. */
  detail: string | null;
  startedAt: number;
  ms: number;
}

export interface Uploaded {
  assetId: string;
  sha256: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Storage answers the client directly (pre-signed PUTs), without a Retry-After: a short pause, then again.
const STORAGE_RETRY_MS = 500;

/**
 * A client as a well-behaved application writes one: it repeats a request answered 503 after its Retry-After and
 * a PUT the storage refused, and gives up only at its deadline. Every API answer is recorded with its latency.
 */
export class RetryingClient {
  readonly answers: Answer[] = [];

  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly giveUpAfterMs: number,
  ) {}

  /** One request, recorded; a connection the API itself drops is recorded as status 0. */
  async call<T = Record<string, unknown>>(
    route: string,
    method: string,
    path: string,
    opts: { body?: unknown; redirect?: RequestInit['redirect'] } = {},
  ): Promise<JsonResponse<T>> {
    const startedAt = Date.now();
    const url = path.startsWith('http') ? path : `${this.apiUrl}${path}`;
    let res: JsonResponse<T> | undefined;
    try {
      res = await request<T>(method, url, { token: this.token, ...opts });
      return res;
    } finally {
      this.answers.push({
        route,
        status: res?.status ?? 0,
        retryAfter: res?.headers.get('retry-after') ?? null,
        contentType: res?.headers.get('content-type') ?? null,
        detail: (res?.body as { detail?: string } | null)?.detail ?? null,
        startedAt,
        ms: Date.now() - startedAt,
      });
    }
  }

  /** Repeats the request while it is answered 503, waiting as long as Retry-After says. */
  async untilServed<T = Record<string, unknown>>(
    route: string,
    method: string,
    path: string,
    opts: { body?: unknown } = {},
  ): Promise<JsonResponse<T>> {
    const deadline = Date.now() + this.giveUpAfterMs;
    for (;;) {
      const res = await this.call<T>(route, method, path, opts);
      if (res.status !== 503 || Date.now() > deadline) return res;
      await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
    }
  }

  /** A whole upload session: URL (single PUT or multipart), the bytes, completion; returns once completed. */
  async upload(
    data: Buffer,
    contentType: string,
    filename: string,
    opts: { multipart?: boolean } = {},
  ): Promise<Uploaded> {
    const sha256 = createHash('sha256').update(data).digest('hex');
    const ticket = await this.untilServed<{
      assetId: string;
      upload: { method: string; url: string; headers: Record<string, string>; parts?: { url: string }[] };
    }>('upload-url', 'POST', '/media/upload-url', {
      body: { filename, contentType, sizeBytes: data.length, checksumSha256: sha256, ...opts },
    });
    if (ticket.status !== 201)
      throw new Error(`upload-url answered ${ticket.status}: ${JSON.stringify(ticket.body)}`);
    const { assetId, upload } = ticket.body;
    let body: unknown;
    if (upload.method === 'MULTIPART') {
      // Small enough for one part: the multipart path is here for the storage calls the API makes on it.
      const etag = await this.put(upload.parts![0]!.url, {}, data);
      body = { parts: [{ partNumber: 1, etag }] };
    } else {
      await this.put(upload.url, upload.headers, data);
    }
    const done = await this.untilServed('complete', 'POST', `/media/${assetId}/complete`, { body });
    if (done.status !== 202)
      throw new Error(`complete answered ${done.status}: ${JSON.stringify(done.body)}`);
    return { assetId, sha256 };
  }

  private async put(url: string, headers: Record<string, string>, data: Buffer): Promise<string> {
    const deadline = Date.now() + this.giveUpAfterMs;
    for (;;) {
      try {
        const res = await fetch(url, { method: 'PUT', headers, body: data });
        await res.arrayBuffer();
        if (res.ok) return res.headers.get('etag') ?? '';
        if (res.status < 500) throw new Error(`storage refused the PUT: ${res.status}`);
      } catch (err) {
        // fetch rejects with a TypeError when the storage is not listening; anything else is a real failure.
        if (!(err instanceof TypeError)) throw err;
      }
      if (Date.now() > deadline)
        throw new Error(`storage did not take the PUT within ${this.giveUpAfterMs} ms`);
      await sleep(STORAGE_RETRY_MS);
    }
  }
}
