import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema';

/**
 * Readers cache what GET /media/:id shows; writers announce changes to it on this channel, inside the writing
 * transaction, so the notification is delivered exactly when (and only if) the change commits.
 */
export const ASSET_CHANGED_CHANNEL = 'asset_changed';

export async function notifyAssetChanged(db: Kysely<Database>, assetId: string): Promise<void> {
  await sql`select pg_notify(${ASSET_CHANGED_CHANNEL}, ${assetId})`.execute(db);
}

/** A blob's renditions and facts show on every asset that points at it. */
export async function notifyBlobAssetsChanged(db: Kysely<Database>, sha256: string): Promise<void> {
  await sql`select pg_notify(${ASSET_CHANGED_CHANNEL}, asset_id::text)
            from media_assets where blob_sha256 = ${sha256}`.execute(db);
}
