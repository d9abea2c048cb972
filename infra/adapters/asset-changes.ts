import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';

/**
 * Readers cache what GET /media/:id shows; writers bump the row's doc_version and announce the change on this
 * channel, inside the writing transaction, so both happen exactly when (and only if) the change commits. The stamp
 * decides whether a cached copy may be served; the notification only evicts it promptly.
 */
export const ASSET_CHANGED_CHANNEL = 'asset_changed';

export async function notifyAssetChanged(db: Kysely<Database>, assetId: string): Promise<void> {
  await sql`update media_assets set doc_version = doc_version + 1 where asset_id = ${assetId}`.execute(db);
  await sql`select pg_notify(${ASSET_CHANGED_CHANNEL}, ${assetId})`.execute(db);
}

/** A blob's renditions and facts show on every asset that points at it. */
export async function notifyBlobAssetsChanged(db: Kysely<Database>, sha256: string): Promise<void> {
  await sql`update media_assets set doc_version = doc_version + 1 where blob_sha256 = ${sha256}`.execute(db);
  await sql`select pg_notify(${ASSET_CHANGED_CHANNEL}, asset_id::text)
            from media_assets where blob_sha256 = ${sha256}`.execute(db);
}
