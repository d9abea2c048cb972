import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { BlobRenditionRow, BlobRow, MediaAssetRow } from '../db/schema';
import type { AssetStatus } from '../../domain/asset-status';
import type { Visibility } from '../../domain/visibility';
import { regionAllowsSql } from './region-sql';

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
 */
export class SearchRepository {
  constructor(private readonly db: Db) {}

  /** limit + 1 rows, so the caller knows whether there is a next page. */
  listQuery(f: SearchFilter) {
    const own = this.branch(f).where('a.owner_id', '=', f.ownerId);
    if (f.checksumSha256 !== undefined) return this.db.selectFrom(own.as('own')).selectAll();
    const shared = this.branch(f)
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

  async list(f: SearchFilter): Promise<ListedAsset[]> {
    return this.listQuery(f).execute();
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
    for (const [key, value] of f.tags) {
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('asset_metadata as m')
            .select('m.asset_id')
            .whereRef('m.asset_id', '=', 'a.asset_id')
            .where('m.key', '=', key)
            .where('m.value', '=', value),
        ),
      );
    }
    if (f.after) {
      const { createdAt, assetId } = f.after;
      q = q.where(sql<boolean>`(a.created_at, a.asset_id) < (${createdAt}::timestamptz, ${assetId}::uuid)`);
    }
    return q
      .orderBy('a.created_at', 'desc')
      .orderBy('a.asset_id', 'desc')
      .limit(f.limit + 1);
  }
}
