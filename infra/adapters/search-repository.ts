import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { BlobRenditionRow, BlobRow, MediaAssetRow } from '../db/schema';
import type { AssetStatus } from '../../domain/asset-status';
import type { Visibility } from '../../domain/visibility';
import { regionAllowsSql } from './region-sql';

/** How many pages' worth of the owner's newest rows a tag filter walks before the planner's plan. */
const OWN_WALK_PAGES = 4;

/** Postgres's order: microsecond positions compare as text, and uuids as their lower-case hex. */
function newestFirst(x: ListedAsset, y: ListedAsset): number {
  if (x.position !== y.position) return x.position < y.position ? 1 : -1;
  return x.asset_id < y.asset_id ? 1 : x.asset_id > y.asset_id ? -1 : 0;
}

export interface SearchFilter {
  ownerId: string;
  /** `user:<id>` and `group:<name>` principals whose grants count; never `*` (every public asset of everyone). */
  principals: string[];
  status?: AssetStatus | undefined;
  /** Any of these exact types. */
  mimeTypes?: string[] | undefined;
  /** Every pair must be on the asset. */
  tags: [key: string, value: string][];
  /** Set, only the owner's own assets are listed (the shared branch is left out): see AssetListings.search. */
  checksumSha256?: string | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
  visibility?: Visibility | undefined;
  /** Leave out what a viewer in this country may not watch (domain/delivery/regions.ts); undefined: no filter. */
  viewerCountry?: string | undefined;
  /** The last row of the previous page: `createdAt` as microsecond ISO text, as `position` gives it. */
  after?: { createdAt: string; assetId: string } | undefined;
  limit: number;
}

export type ListedAsset = MediaAssetRow & { position: string };

export interface PageDetails {
  metadata: Map<string, Record<string, string>>;
  blobs: Map<string, BlobRow>;
  renditions: Map<string, BlobRenditionRow[]>;
}

/**
 * Listing what a caller may read, newest first, by keyset. Its own assets and those shared with it are two
 * branches, each walking an index in (created_at desc, asset_id desc) order and stopping at limit + 1 rows; an OR
 * of the two would defeat both indexes. A shared draft is listed only to a grantee that may change it
 * (domain/visibility.ts): the check runs for draft rows alone, against the ACL's primary key.
 *
 * A tag filter on the caller's own assets is where Postgres guesses worst: it rates a tag by its share of the whole
 * table, while within one owner a tag may be on every other asset. Depending on ANALYZE's sample it then hash-joins
 * all the tag's rows with the owner's and sorts them (15 ms for a page of a 50,000-asset owner's public assets by a
 * common tag, in 4 of 5 samples) instead of walking the owner's index and stopping at a page (2 ms). So `list` first
 * walks the owner's newest OWN_WALK_PAGES pages' worth of rows in index order, probing the tags per row; a walk that
 * fills a page is the own branch's answer, and only one that does not falls back to the planner's choice.
 */
export class SearchRepository {
  constructor(private readonly db: Db) {}

  /** limit + 1 rows, so the caller knows whether there is a next page. */
  listQuery(f: SearchFilter) {
    const own = this.branch(f).where('a.owner_id', '=', f.ownerId);
    if (f.checksumSha256 !== undefined) return this.db.selectFrom(own.as('own')).selectAll();
    const shared = this.sharedBranch(f);
    return this.db
      .selectFrom((eb) =>
        eb
          .selectFrom(own.as('own'))
          .selectAll()
          .unionAll(eb.selectFrom(shared.as('shared')).selectAll())
          .as('visible'),
      )
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('asset_id', 'desc')
      .limit(f.limit + 1);
  }

  /**
   * The owner's newest rows, at most OWN_WALK_PAGES pages of them, filtered by the tags one probe per row (OFFSET 0
   * keeps each EXISTS a probe: as a join, Postgres scanned every entry of the tag for each of the walk's rows).
   */
  walkQuery(f: SearchFilter) {
    return this.db
      .selectFrom(
        this.unTagged(f)
          .where('a.owner_id', '=', f.ownerId)
          .limit(OWN_WALK_PAGES * (f.limit + 1))
          .as('a'),
      )
      .selectAll('a')
      .where(this.tagProbes(f, sql` offset 0`))
      .orderBy('a.created_at', 'desc')
      .orderBy('a.asset_id', 'desc')
      .limit(f.limit + 1);
  }

  private sharedBranch(f: SearchFilter) {
    return this.branch(f)
      .where('a.owner_id', '<>', f.ownerId)
      .where('a.asset_id', 'in', (eb) =>
        eb.selectFrom('asset_acl').select('asset_id').where('principal', 'in', f.principals),
      )
      .where((eb) =>
        eb.or([
          eb('a.visibility', '<>', 'draft'),
          eb.exists(
            eb
              .selectFrom('asset_acl as w')
              .select('w.asset_id')
              .whereRef('w.asset_id', '=', 'a.asset_id')
              .where('w.principal', 'in', f.principals)
              .where('w.permission', 'in', ['write', 'delete']),
          ),
        ]),
      );
  }

  async list(f: SearchFilter): Promise<ListedAsset[]> {
    if (f.tags.length === 0 || f.checksumSha256 !== undefined) return this.listQuery(f).execute();
    const own = await this.walkQuery(f).execute();
    if (own.length <= f.limit) return this.listQuery(f).execute();
    // The walk holds the owner's first limit + 1 matches, so the page is the newest of them and the shared ones.
    const shared = await this.sharedBranch(f).execute();
    return [...own, ...shared].sort(newestFirst).slice(0, f.limit + 1);
  }

  /** What the listing shows beside each record, in three queries for the whole page. */
  async details(assets: MediaAssetRow[]): Promise<PageDetails> {
    const ids = assets.map((a) => a.asset_id);
    const shas = [...new Set(assets.flatMap((a) => (a.blob_sha256 ? [a.blob_sha256] : [])))];
    const [metadataRows, blobRows, renditionRows] = await Promise.all([
      ids.length === 0
        ? []
        : this.db
            .selectFrom('asset_metadata')
            .select(['asset_id', 'key', 'value'])
            .where('asset_id', 'in', ids)
            .where('key', 'not like', 'media.%')
            .execute(),
      shas.length === 0 ? [] : this.db.selectFrom('blobs').selectAll().where('sha256', 'in', shas).execute(),
      shas.length === 0
        ? []
        : this.db
            .selectFrom('blob_renditions')
            .selectAll()
            .where('blob_sha256', 'in', shas)
            .orderBy('name')
            .execute(),
    ]);
    const metadata = new Map<string, Record<string, string>>();
    for (const r of metadataRows) metadata.set(r.asset_id, { ...metadata.get(r.asset_id), [r.key]: r.value });
    const renditions = new Map<string, BlobRenditionRow[]>();
    for (const r of renditionRows)
      renditions.set(r.blob_sha256, [...(renditions.get(r.blob_sha256) ?? []), r]);
    return { metadata, blobs: new Map(blobRows.map((b) => [b.sha256, b])), renditions };
  }

  private branch(f: SearchFilter) {
    const q = this.unTagged(f);
    return (f.tags.length > 0 ? q.where(this.tagProbes(f)) : q)
      .orderBy('a.created_at', 'desc')
      .orderBy('a.asset_id', 'desc')
      .limit(f.limit + 1);
  }

  /** Each tag pair on the row `a`: an EXISTS the planner may turn into a join, unless `fence` says otherwise. */
  private tagProbes(f: SearchFilter, fence = sql``) {
    return sql<boolean>`${sql.join(
      f.tags.map(
        ([key, value]) =>
          sql`exists (select 1 from asset_metadata m where m.asset_id = a.asset_id and m.key = ${key} and m.value = ${value}${fence})`,
      ),
      sql` and `,
    )}`;
  }

  /** Every filter but the tags, newest first. */
  private unTagged(f: SearchFilter) {
    let q = this.db
      .selectFrom('media_assets as a')
      .selectAll('a')
      // The cursor keeps created_at to the microsecond: a JavaScript Date would round it and skip or repeat rows.
      .select(
        sql<string>`to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position'),
      );
    q = f.status ? q.where('a.status', '=', f.status) : q.where('a.status', '<>', 'deleted');
    if (f.mimeTypes) q = q.where('a.mime_type', 'in', f.mimeTypes);
    if (f.checksumSha256 !== undefined) q = q.where('a.checksum_sha256', '=', f.checksumSha256);
    if (f.createdFrom) q = q.where('a.created_at', '>=', f.createdFrom);
    if (f.createdTo) q = q.where('a.created_at', '<', f.createdTo);
    if (f.visibility) q = q.where('a.visibility', '=', f.visibility);
    if (f.viewerCountry !== undefined) q = q.where(regionAllowsSql(f.viewerCountry));
    if (f.after) {
      const { createdAt, assetId } = f.after;
      q = q.where(sql<boolean>`(a.created_at, a.asset_id) < (${createdAt}::timestamptz, ${assetId}::uuid)`);
    }
    return q.orderBy('a.created_at', 'desc').orderBy('a.asset_id', 'desc');
  }
}
