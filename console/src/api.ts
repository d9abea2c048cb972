import createClient from 'openapi-fetch';
import type { components, paths } from '../../client/generated/openapi';

export type Asset = components['schemas']['Asset'];
export type AssetSummary = components['schemas']['AssetSummary'];
export type AssetStatus = components['schemas']['AssetStatus'];
export type Visibility = components['schemas']['Visibility'];
export type ListFilters = NonNullable<paths['/media']['get']['parameters']['query']>;
export type Api = ReturnType<typeof createClient<paths>>;

/** The console is served by the API, so every call is same-origin. */
export function apiFor(token: string): Api {
  return createClient<paths>({ baseUrl: location.origin, headers: { Authorization: `Bearer ${token}` } });
}

/** A problem+json `detail` (or the status) for the page to show. */
export function problemText(error: unknown, response: Response): string {
  const p = error as
    { detail?: string; title?: string; errors?: { field: string; message: string }[] } | undefined;
  const fields = p?.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
  return [p?.detail ?? p?.title ?? `HTTP ${response.status}`, fields].filter(Boolean).join(' — ');
}

export async function must<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await pending;
  if (error !== undefined || data === undefined) throw new Error(problemText(error, response));
  return data;
}

/**
 * Where a rendition is delivered: GET /media/{id}/content answers a 302 to a signed URL, which fetch follows (with
 * the bearer, which the origin ignores). The final URL is what players load; the body is returned too.
 */
export async function delivered(token: string, assetId: string, rendition?: string): Promise<Response> {
  const q = rendition ? `?rendition=${encodeURIComponent(rendition)}` : '';
  const res = await fetch(`${location.origin}/media/${assetId}/content${q}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`${rendition ?? 'original'}: HTTP ${res.status}`);
  return res;
}

/** A blob: URL of a rendition's bytes, for <img>: the bearer cannot ride on an image request. */
export async function renditionObjectUrl(token: string, assetId: string, rendition: string): Promise<string> {
  const res = await delivered(token, assetId, rendition);
  return URL.createObjectURL(await res.blob());
}

export const SETTLED: readonly AssetStatus[] = [
  'ready',
  'rejected',
  'quarantined',
  'failed',
  'expired',
  'deleted',
];

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
