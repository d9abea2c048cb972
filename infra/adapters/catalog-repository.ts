import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { RegionMode } from '../../domain/delivery/regions';
import type { ReleaseVisibility, Visibility } from '../../domain/visibility';
import { regionAllowsSql } from './region-sql';

export interface CatalogFilter {
  /** Any of these exact types; undefined: every type. */
  mimeTypes?: string[] | undefined;
  /** The viewer's country; undefined when unknown (assets with an allow list are then left out). */
  viewerCountry: string | undefined;
  /** The last entry of the previous page: `releasedAt` as microsecond ISO text, as `position` gives it. */
  after?: { releasedAt: string; assetId: string } | undefined;
  limit: number;
  now: Date;
}

/** One listed asset, as plain values: what the catalogue shows and what its delivery URLs are built from. */
export interface CatalogEntry {
  assetId: string;
  contentType: string;
  filename: string;
  releasedAt: string;
  /** The keyset position: released_at to the microsecond (a Date would round it and skip or repeat rows). */
  position: string;
  title: string | null;
  description: string | null;
  access: {
    visibility: Visibility;
    release_visibility: ReleaseVisibility | null;
    publish_at: Date | null;
    unpublish_at: Date | null;
    region_mode: RegionMode | null;
    regions: string[];
  };
  renditions: { name: string; mimeType: string; width: number | null; height: number | null }[];
}

/**
 * GET /catalog: public, ready assets newest release first. The page is found by an index-only walk of
 * media_assets_catalog_idx (every filter is on a column it includes) and stops at limit + 1 entries; only those
 * rows are then read from the heap, so a filter that leaves out many does not cost a heap fetch each.
 */
export class CatalogRepository {
  constructor(private readonly db: Db) {}

  pageQuery(f: CatalogFilter) {
    let q = this.db
      .selectFrom('media_assets as c')
      .select(['c.asset_id', 'c.released_at'])
      .where('c.visibility', '=', 'public')
      .where('c.status', '=', 'ready')
      // A public asset not yet stamped has no place in the order; none should exist (publishing stamps it).
      .where('c.released_at', 'is not', null)
      .where((eb) => eb.or([eb('c.unpublish_at', 'is', null), eb('c.unpublish_at', '>', f.now)]))
      .where(regionAllowsSql(f.viewerCountry, 'c'));
    if (f.mimeTypes) q = q.where('c.mime_type', 'in', f.mimeTypes);
    if (f.after) {
      const { releasedAt, assetId } = f.after;
      q = q.where(sql<boolean>`(c.released_at, c.asset_id) < (${releasedAt}::timestamptz, ${assetId}::uuid)`);
    }
    const page = q
      .orderBy('c.released_at', 'desc')
      .orderBy('c.asset_id', 'desc')
      .limit(f.limit + 1);
    return this.db
      .selectFrom(page.as('page'))
      .innerJoin('media_assets as a', 'a.asset_id', 'page.asset_id')
      .select([
        'a.asset_id',
        'a.mime_type',
        'a.filename',
        'a.blob_sha256',
        'a.visibility',
        'a.release_visibility',
        'a.publish_at',
        'a.unpublish_at',
        'a.region_mode',
        'a.regions',
        sql<string>`to_char(a.released_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
          'position',
        ),
      ])
      .orderBy('page.released_at', 'desc')
      .orderBy('page.asset_id', 'desc');
  }

  /** limit + 1 entries, so the caller knows whether there is a next page. */
  async page(f: CatalogFilter): Promise<CatalogEntry[]> {
    const rows = await this.pageQuery(f).execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.asset_id);
    const shas = [...new Set(rows.flatMap((r) => (r.blob_sha256 ? [r.blob_sha256] : [])))];
    const [tags, renditions] = await Promise.all([
      this.db
        .selectFrom('asset_metadata')
        .select(['asset_id', 'key', 'value'])
        .where('asset_id', 'in', ids)
        .where('key', 'in', ['title', 'description'])
        .execute(),
      shas.length === 0
        ? []
        : this.db
            .selectFrom('blob_renditions')
            .select(['blob_sha256', 'name', 'mime_type', 'width', 'height'])
            .where('blob_sha256', 'in', shas)
            .orderBy('name')
            .execute(),
    ]);
    const tag = (assetId: string, key: string) =>
      tags.find((t) => t.asset_id === assetId && t.key === key)?.value ?? null;
    return rows.map((r) => ({
      assetId: r.asset_id,
      contentType: r.mime_type,
      filename: r.filename,
      releasedAt: r.position,
      position: r.position,
      title: tag(r.asset_id, 'title'),
      description: tag(r.asset_id, 'description'),
      access: {
        visibility: r.visibility,
        release_visibility: r.release_visibility,
        publish_at: r.publish_at,
        unpublish_at: r.unpublish_at,
        region_mode: r.region_mode,
        regions: r.regions,
      },
      renditions: renditions
        .filter((x) => x.blob_sha256 === r.blob_sha256)
        .map((x) => ({ name: x.name, mimeType: x.mime_type, width: x.width, height: x.height })),
    }));
  }
}
