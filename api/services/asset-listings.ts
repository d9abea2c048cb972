import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { DeadLetterRepository } from '../../infra/adapters/dead-letter-repository';
import type { ListedAsset, SearchFilter, SearchRepository } from '../../infra/adapters/search-repository';
import type { AssetStatus } from '../../domain/asset-status';
import type { Visibility } from '../../domain/visibility';
import { ALLOWED_CONTENT_TYPES } from '../../domain/media-types';
import { releaseAsOf, renderAssetSummary } from '../asset-summary';
import type { Principal } from '../auth';
import { assetIdSchema } from '../schemas';
import { principalsOf } from './access-control';

/** A `type` filter is a family (all its allowed types) or one exact type. */
export const FAMILIES = ['image', 'video', 'audio', 'document'];
/** The exact types a `type` filter stands for; undefined for none. */
export const mimeTypesOf = (type: string | undefined): string[] | undefined =>
  type === undefined
    ? undefined
    : FAMILIES.includes(type)
      ? Object.keys(ALLOWED_CONTENT_TYPES).filter((t) => ALLOWED_CONTENT_TYPES[t] === type)
      : [type];

const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export interface ListingFilter {
  status?: AssetStatus | undefined;
  type?: string | undefined;
  tags: [key: string, value: string][];
  /** The caller's own assets with these bytes only: a checksum must never reveal what another owner holds. */
  checksumSha256?: string | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
  visibility?: Visibility | undefined;
  /** A service listing for a viewer: leave out what that viewer's country may not watch. */
  viewerCountry?: string | undefined;
  after?: SearchFilter['after'];
  limit: number;
}

/** Listings, newest first by keyset, each page ending in the cursor of the next (null on the last). */
export class AssetListings {
  constructor(
    private readonly deps: {
      search: SearchRepository;
      assets: AssetRepository;
      deadLetters: DeadLetterRepository;
    },
  ) {}

  /**
   * GET /media: the assets the caller may read (its own and those granted to it or its groups; another's draft only
   * with write or delete on it). Public and unlisted assets of others are readable, never listed here.
   */
  async search(principal: Principal, f: ListingFilter) {
    const { search } = this.deps;
    const rows = await search.list({
      ownerId: principal.userId,
      // Grants to everyone ('*') make an asset readable, not part of every caller's listing.
      principals: principalsOf(principal).filter((p) => p !== '*'),
      status: f.status,
      mimeTypes: mimeTypesOf(f.type),
      tags: f.tags,
      checksumSha256: f.checksumSha256,
      createdFrom: f.createdFrom,
      createdTo: f.createdTo,
      visibility: f.visibility,
      viewerCountry: f.viewerCountry,
      after: f.after,
      limit: f.limit,
    });
    const page = rows.slice(0, f.limit);
    const details = await search.details(page);
    const items = page.map((a) => {
      const blob = a.blob_sha256 ? details.blobs.get(a.blob_sha256) : undefined;
      const renditions = (a.blob_sha256 && details.renditions.get(a.blob_sha256)) || [];
      return releaseAsOf(renderAssetSummary(a, details.metadata.get(a.asset_id) ?? {}, blob, renditions));
    });
    const last = page.at(-1);
    return { items, next: rows.length > f.limit && last ? encodeSearchCursor(last) : null };
  }

  /** GET /admin/failures: failed assets, latest failure first. */
  async failures(limit: number, before: string | undefined) {
    const rows = await this.deps.assets.listFailed(limit, decodeFailureCursor(before));
    const last = rows.at(-1);
    return {
      failures: rows.map((r) => ({
        assetId: r.asset_id,
        ownerId: r.owner_id,
        contentType: r.mime_type,
        stage: r.failed_stage,
        error: r.status_reason,
        attempts: r.failure_attempts,
        failedAt: r.updated_at,
      })),
      next:
        rows.length === limit && last
          ? Buffer.from(`${new Date(last.updated_at).toISOString()}|${last.asset_id}`).toString('base64url')
          : null,
    };
  }

  /** GET /admin/dead-letters: inputs that kept killing or hanging their worker, the latest first. */
  async deadLetters(limit: number, before: string | undefined) {
    const after = decodeFailureCursor(before);
    const letters = await this.deps.deadLetters.list(
      limit,
      after && { lastSeenAt: after.updatedAt, assetId: after.assetId },
    );
    const last = letters.at(-1);
    return {
      deadLetters: letters,
      next:
        letters.length === limit && last
          ? Buffer.from(`${last.lastSeenAt}|${last.assetId}`).toString('base64url')
          : null,
    };
  }
}

const encodeSearchCursor = (a: ListedAsset) =>
  Buffer.from(JSON.stringify([a.position, a.asset_id])).toString('base64url');

export function decodeSearchCursor(value: string): SearchFilter['after'] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [createdAt, assetId] = parsed as unknown[];
    if (typeof createdAt !== 'string' || !POSITION.test(createdAt)) return undefined;
    if (!assetIdSchema.safeParse(assetId).success) return undefined;
    return { createdAt, assetId: String(assetId).toLowerCase() };
  } catch {
    return undefined;
  }
}

export function decodeFailureCursor(cursor: string | undefined) {
  if (!cursor) return undefined;
  const [at, assetId] = Buffer.from(cursor, 'base64url').toString().split('|');
  const updatedAt = new Date(at ?? '');
  // The id goes to a uuid column: anything else would fail the query (a 500) rather than the request.
  const id = assetIdSchema.safeParse(assetId);
  if (!id.success || Number.isNaN(updatedAt.getTime())) return undefined;
  return { updatedAt, assetId: id.data };
}
