import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';

/**
 * Readers cache what GET /media/:id shows; writers bump the row's doc_version and announce the change on this
 * channel, inside the writing transaction, so both happen exactly when (and only if) the change commits. The stamp
 * decides whether a cached copy may be served; the notification only evicts it promptly.
 */
export const ASSET_CHANGED_CHANNEL = 'asset_changed';

export async function notifyAssetChanged(db: Kysely<Database>, assetId: string): Promise<void> {
  // One statement: a data-modifying WITH runs whether or not the rest reads it, and the notice goes out either way.
  await sql`with bumped as (update media_assets set doc_version = doc_version + 1 where asset_id = ${assetId})
            select pg_notify(${ASSET_CHANGED_CHANNEL}, ${assetId})`.execute(db);
}

/** A blob's renditions and facts show on every asset that points at it. */
export async function notifyBlobAssetsChanged(db: Kysely<Database>, sha256: string): Promise<void> {
  // One statement: each asset bumped is the one announced.
  await sql`update media_assets set doc_version = doc_version + 1 where blob_sha256 = ${sha256}
            returning pg_notify(${ASSET_CHANGED_CHANNEL}, asset_id::text)`.execute(db);
}
