import type { AssetlineClient, AssetStatus } from './client.ts';
import { call } from './client.ts';
import type { components } from './generated/openapi.ts';
import { AssetlineError } from './errors.ts';
import { openSource, type UploadSource } from './source.ts';
import { putBytes } from './put-part.ts';
import { MultipartSession, StalePartError, type DonePart, type PartUrls } from './multipart.ts';

export interface UploadProgress {
  totalBytes: number;
  /** Bytes S3 acknowledged in this run. */
  sentBytes: number;
  /** Bytes of parts S3 already held from an earlier run (not sent again). */
  skippedBytes: number;
}

export interface UploadSession {
  assetId: string;
  method: 'PUT' | 'MULTIPART';
}

export interface UploadOptions {
  contentType: string;
  /** Defaults to the file's name, or "upload". */
  filename?: string;
  metadata?: Record<string, string>;
  visibility?: components['schemas']['Visibility'];
  /** Required for a stream source. */
  size?: number;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
  /** Sent as Idempotency-Key, so a retried request finds the session it created (once the API supports it). */
  idempotencyKey?: string;
  /** Parts in flight at once (default 4); each holds one part in memory. */
  concurrency?: number;
  /** Attempts per part before the upload fails (default 5). */
  attempts?: number;
  /** Continue this asset's upload: parts S3 already holds are not sent again. */
  resume?: { assetId: string; partUrls?: PartUrls };
  /**
   * Send Content-MD5 with each part, so S3 refuses a body cut short (default false: it costs a second hash of every
   * byte, and a resume finds a damaged part by its ETag anyway).
   */
  contentMd5?: boolean;
  /** Called once the asset exists, before any byte is sent: persist it to resume after a crash. */
  onSession?: (s: UploadSession) => void | Promise<void>;
  /**
   * Called with part URLs as they arrive (the first answer signs only some parts, the rest come later), before any is
   * used: kept with the session, they let a resume send a damaged part again.
   */
  onPartUrls?: (urls: PartUrls) => void | Promise<void>;
  /** Called after each part S3 acknowledged; the upload waits for it. */
  onPart?: (partNumber: number) => void | Promise<void>;
}

export interface UploadResult {
  assetId: string;
  status: AssetStatus;
  sha256: string;
  sizeBytes: number;
  /** Parts sent by this call, and parts found already uploaded. */
  sentParts: number;
  skippedParts: number;
  /** Where the time went (ms): creating or resuming the session, sending the bytes, completing. */
  timings: { sessionMs: number; sendMs: number; completeMs: number };
}

/** A session to send bytes to: new (POST /media/upload-url) or resumed (GET /media/{id}/upload). */
type Ticket = {
  assetId: string;
  upload:
    | { method: 'PUT'; url: string; headers: Record<string, string>; received?: boolean }
    | { method: 'MULTIPART'; partSizeBytes: number; parts: PartUrls; done?: DonePart[] };
};

/**
 * One asset's upload: create or resume the session, send what is missing while hashing, complete. A resumed session
 * whose parts turn out not to be this file's is aborted and the upload starts over, when the source can be re-read.
 */
export async function uploadAsset(
  client: AssetlineClient,
  source: UploadSource,
  opts: UploadOptions,
): Promise<UploadResult> {
  try {
    return await uploadOnce(client, source, opts);
  } catch (err) {
    const rereadable = typeof source === 'string' || source instanceof Uint8Array;
    // A damaged part without a saved URL to send it again: the session cannot be finished, a new one can.
    if (!(err instanceof StalePartError) || !opts.resume || !rereadable) throw err;
    const id = opts.resume.assetId;
    await client.api.DELETE('/media/{id}/upload', { params: { path: { id } } });
    return uploadOnce(client, source, { ...opts, resume: undefined });
  }
}

async function uploadOnce(
  client: AssetlineClient,
  source: UploadSource,
  opts: UploadOptions,
): Promise<UploadResult> {
  const { size, name, reader } = await openSource(source, opts.size);
  try {
    const progress: UploadProgress = { totalBytes: size, sentBytes: 0, skippedBytes: 0 };
    const t0 = performance.now();
    const resumed = opts.resume ? await resumeSession(client, opts.resume.assetId) : undefined;
    if (resumed === 'settled') {
      // A previous run completed it: nothing to send; the checksum still comes from the bytes.
      const sha256 = await reader.finish(size);
      const asset = await client.get(opts.resume!.assetId);
      return {
        assetId: asset.assetId,
        status: asset.status,
        sha256,
        sizeBytes: size,
        sentParts: 0,
        skippedParts: 0,
        timings: { sessionMs: performance.now() - t0, sendMs: 0, completeMs: 0 },
      };
    }
    const ticket: Ticket = resumed ?? (await requestUpload(client, size, name, opts));
    await opts.onSession?.({ assetId: ticket.assetId, method: ticket.upload.method });
    const t1 = performance.now();
    let sentParts = 0;
    let skippedParts = 0;
    let completeBody: { parts?: { partNumber: number; etag: string }[] } = {};
    if (ticket.upload.method === 'PUT') {
      // Below the server's multipart threshold: one request, its body held in memory for a retry.
      const body = await reader.read(size);
      if (ticket.upload.received) skippedParts = 1;
      else {
        await putSingle(ticket.upload, body, opts.signal);
        sentParts = 1;
      }
      progress.sentBytes = sentParts ? size : 0;
      progress.skippedBytes = skippedParts ? size : 0;
      opts.onProgress?.({ ...progress });
    } else {
      const session = new MultipartSession(client, ticket.assetId, ticket.upload, opts, progress);
      const parts = await session.run(reader, size);
      sentParts = session.sentParts;
      skippedParts = session.skippedParts;
      completeBody = { parts };
    }
    const sha256 = await reader.finish(size);
    const t2 = performance.now();
    const completed = await call(
      client.api.POST('/media/{id}/complete', {
        params: { path: { id: ticket.assetId } },
        // The server checks the stored bytes against the hash taken while they were read here.
        body: { ...completeBody, checksumSha256: sha256 },
        signal: opts.signal,
      }),
    );
    return {
      assetId: ticket.assetId,
      status: completed.status,
      sha256,
      sizeBytes: size,
      sentParts,
      skippedParts,
      timings: { sessionMs: t1 - t0, sendMs: t2 - t1, completeMs: performance.now() - t2 },
    };
  } finally {
    await reader.close();
  }
}

async function requestUpload(
  client: AssetlineClient,
  size: number,
  name: string | undefined,
  opts: UploadOptions,
) {
  const headers: Record<string, string> = {};
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  const created = await call(
    client.api.POST('/media/upload-url', {
      body: {
        filename: opts.filename ?? name ?? 'upload',
        contentType: opts.contentType as never,
        sizeBytes: size,
        ...(opts.metadata ? { metadata: opts.metadata } : {}),
        ...(opts.visibility ? { visibility: opts.visibility } : {}),
      },
      headers,
      signal: opts.signal,
    }),
  );
  return created as Ticket;
}

/**
 * GET /media/{id}/upload: the parts S3 holds (with ETags) and fresh URLs for the rest. 'settled' when the upload is
 * over (409: a previous run completed it); undefined when the asset is gone (404), so a new upload starts.
 */
async function resumeSession(
  client: AssetlineClient,
  assetId: string,
): Promise<Ticket | 'settled' | undefined> {
  const result = await client.api.GET('/media/{id}/upload', { params: { path: { id: assetId } } });
  if (result.response.status === 409) return 'settled';
  if (result.response.status === 404) return undefined;
  const session = await call(Promise.resolve(result));
  if (session.method === 'PUT') {
    if (!session.received) {
      // A single PUT's URL is only in the first answer: abort it and start a new session.
      await client.api.DELETE('/media/{id}/upload', { params: { path: { id: assetId } } });
      return undefined;
    }
    return { assetId, upload: { method: 'PUT', url: '', headers: {}, received: true } };
  }
  const { partSizeBytes, missing, parts } = session;
  return { assetId, upload: { method: 'MULTIPART', partSizeBytes, parts: missing, done: parts } };
}

async function putSingle(
  upload: { url: string; headers: Record<string, string> },
  body: Buffer,
  signal: AbortSignal | undefined,
): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const response = await putBytes(upload.url, body, upload.headers, signal);
      if (response.status >= 200 && response.status < 300) return;
      lastError = AssetlineError.fromText(response.status, response.text);
      if (response.status < 500 && response.status !== 429) throw lastError;
    } catch (err) {
      if (err === lastError || signal?.aborted) throw err;
      lastError = err;
    }
    await backoff(attempt, signal);
  }
  throw lastError;
}

export function backoff(attempt: number, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
