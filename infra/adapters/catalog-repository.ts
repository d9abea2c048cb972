import { sql, type RawBuilder } from 'kysely';
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
 *
 * A release to public whose instant has passed is listed from that instant, as every other read decides
 * (domain/visibility.ts visibilityAt), not from when the release clock writes the row: those few rows come from
 * media_assets_scheduled_idx, at the position the clock will give them (the publish instant, or the earlier release
 * of an unlisted asset), so paging is the same before and after it does.
 */
export class CatalogRepository {
  constructor(private readonly db: Db) {}

  pageQuery(f: CatalogFilter) {
    const page = this.db
      .selectFrom((eb) =>
        eb
          .selectFrom(this.releasedQuery(f).as('released'))
          .selectAll()
          .unionAll(eb.selectFrom(this.dueQuery(f).as('due')).selectAll())
          .as('listed'),
      )
      .selectAll()
      .orderBy('position_at', 'desc')
      .orderBy('asset_id', 'desc')
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
        sql<string>`to_char(page.position_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
          'position',
        ),
      ])
      .orderBy('page.position_at', 'desc')
      .orderBy('page.asset_id', 'desc');
  }

  /** What is public now, by its release instant. */
  private releasedQuery(f: CatalogFilter) {
    const q = this.db
      .selectFrom('media_assets as c')
      .select(['c.asset_id', sql<Date>`c.released_at`.as('position_at')])
      .where('c.visibility', '=', 'public')
      .where('c.status', '=', 'ready')
      // A public asset not yet stamped has no place in the order; none should exist (publishing stamps it).
      .where('c.released_at', 'is not', null);
    return q
      .where(this.filters(f, sql`c.released_at`))
      .orderBy('c.released_at', 'desc')
      .orderBy('c.asset_id', 'desc')
      .limit(f.limit + 1);
  }

  /** Releases to public whose instant has passed and that the release clock has not written yet. */
  private dueQuery(f: CatalogFilter) {
    const position = sql<Date>`(case when c.visibility = 'unlisted' then c.released_at else c.publish_at end)`;
    const q = this.db
      .selectFrom('media_assets as c')
      .select(['c.asset_id', position.as('position_at')])
      .where('c.publish_at', 'is not', null)
      .where('c.publish_at', '<=', f.now)
      .where('c.release_visibility', '=', 'public')
      .where('c.visibility', '<>', 'public')
      .where('c.status', '=', 'ready');
    return q
      .where(this.filters(f, position))
      .orderBy(position, 'desc')
      .orderBy('c.asset_id', 'desc')
      .limit(f.limit + 1);
  }

  /** The unpublish instant, the viewer's country, the types and the cursor, on either branch. */
  private filters(f: CatalogFilter, position: RawBuilder<unknown>): RawBuilder<boolean> {
    const conditions: RawBuilder<boolean>[] = [
      sql<boolean>`(c.unpublish_at is null or c.unpublish_at > ${f.now})`,
      regionAllowsSql(f.viewerCountry, 'c'),
    ];
    if (f.mimeTypes) conditions.push(sql<boolean>`c.mime_type in (${sql.join(f.mimeTypes)})`);
    if (f.after) {
      const { releasedAt, assetId } = f.after;
      conditions.push(
        sql<boolean>`(${position}, c.asset_id) < (${releasedAt}::timestamptz, ${assetId}::uuid)`,
      );
    }
    return sql<boolean>`${sql.join(conditions, sql` and `)}`;
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
