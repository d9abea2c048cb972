import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import createFetchClient from 'openapi-fetch';
import type { components, paths } from './generated/openapi.ts';
import { AssetlineError, problemError } from './errors.ts';
import { uploadAsset, type UploadOptions, type UploadResult } from './upload.ts';
import type { UploadSource } from './source.ts';

export type Asset = components['schemas']['Asset'];
export type AssetSummary = components['schemas']['AssetSummary'];
export type AssetStatus = components['schemas']['AssetStatus'];
export type ListFilters = NonNullable<paths['/media']['get']['parameters']['query']>;
export type Api = ReturnType<typeof createFetchClient<paths>>;

/** Statuses an asset does not leave by itself: waiting ends there. */
export const SETTLED_STATUSES: readonly AssetStatus[] = [
  'ready',
  'rejected',
  'quarantined',
  'failed',
  'expired',
  'deleted',
];

export interface ClientOptions {
  baseUrl: string;
  token: string;
  /** Another fetch for the API's requests (not the S3 PUTs, which use node:http); global fetch otherwise. */
  fetch?: typeof fetch;
}

/** Unwraps openapi-fetch's `{data, error}` into the data or a thrown AssetlineError; network failures too. */
export async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new AssetlineError(
      0,
      { title: 'network error', detail: String((err as Error)?.cause ?? err) },
      { cause: err },
    );
  }
  if (result.error !== undefined || !result.response.ok)
    throw problemError(result.response.status, result.error);
  return result.data as T;
}

export class AssetlineClient {
  /** Every operation of GET /openapi.json, typed from it (client/generated/openapi.ts). */
  readonly api: Api;
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  private readonly token: string;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.api = createFetchClient<paths>({
      baseUrl: this.baseUrl,
      headers: { Authorization: `Bearer ${opts.token}` },
      fetch: this.fetch,
    });
  }

  upload(source: UploadSource, options: UploadOptions): Promise<UploadResult> {
    return uploadAsset(this, source, options);
  }

  async get(assetId: string, signal?: AbortSignal): Promise<Asset> {
    return call(this.api.GET('/media/{id}', { params: { path: { id: assetId } }, signal }));
  }

  async delete(assetId: string): Promise<{ assetId: string; status: AssetStatus }> {
    return call(this.api.DELETE('/media/{id}', { params: { path: { id: assetId } } })) as Promise<{
      assetId: string;
      status: AssetStatus;
    }>;
  }

  /** Every page of GET /media, following `next`; stop iterating to stop fetching. */
  async *list(filters: Omit<ListFilters, 'cursor'> = {}): AsyncGenerator<AssetSummary> {
    let cursor: string | undefined;
    do {
      const page = await call(this.api.GET('/media', { params: { query: { ...filters, cursor } } }));
      yield* page.items;
      cursor = page.next ?? undefined;
    } while (cursor);
  }

  /**
   * Polls GET /media/{id} until the asset settles (ready, rejected, failed, …); `onStage` hears each change of
   * status, stage or percent. Polling, not webhooks: a CLI or script has no public address to be called at.
   */
  async waitUntilReady(
    assetId: string,
    opts: {
      onStage?: (s: { status: AssetStatus; stage: string | null; percent: number | null }) => void;
      timeoutMs?: number;
      intervalMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<Asset> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
    let last = '';
    for (;;) {
      opts.signal?.throwIfAborted();
      const asset = await this.get(assetId, opts.signal);
      const now = {
        status: asset.status,
        stage: asset.stage?.name ?? null,
        percent: asset.stage?.percent ?? null,
      };
      const key = JSON.stringify(now);
      if (key !== last) opts.onStage?.(now);
      last = key;
      if (SETTLED_STATUSES.includes(asset.status)) return asset;
      if (Date.now() > deadline) {
        throw new AssetlineError(0, { title: 'timeout', detail: `${assetId} is still ${asset.status}` });
      }
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
    }
  }

  /** Where the bytes are served (GET /media/{id}/content answers 302): a signed URL for this caller. */
  async contentUrl(assetId: string, rendition?: string): Promise<string> {
    const url = new URL(`${this.baseUrl}/media/${encodeURIComponent(assetId)}/content`);
    if (rendition) url.searchParams.set('rendition', rendition);
    const response = await this.send(url, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status !== 302 || !location) throw await AssetlineError.fromResponse(response);
    await response.body?.cancel();
    return new URL(location, url).toString();
  }

  /** Streams the asset (or a rendition) to a file; answers the bytes written. */
  async download(assetId: string, opts: { rendition?: string; to: string }): Promise<number> {
    const url = await this.contentUrl(assetId, opts.rendition);
    const response = await this.send(new URL(url), {});
    if (!response.ok || !response.body) throw await AssetlineError.fromResponse(response);
    let bytes = 0;
    const counted = Readable.fromWeb(response.body as never).on('data', (c: Buffer) => (bytes += c.length));
    await pipeline(counted, createWriteStream(opts.to));
    return bytes;
  }

  /** A request outside the generated operations (redirects, routes newer than this SDK's document). */
  async send(url: URL, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (url.origin === new URL(this.baseUrl).origin) headers.set('Authorization', `Bearer ${this.token}`);
    try {
      return await this.fetch(url, { ...init, headers });
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      throw new AssetlineError(0, { title: 'network error', detail: String((err as Error)?.cause ?? err) });
    }
  }
}
