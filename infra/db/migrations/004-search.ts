import type { Kysely } from 'kysely';

/**
 * Keyset listing newest first walks (created_at desc, asset_id desc). 001's owner index has asset_id ascending, so
 * a cursor's row comparison could not bound a scan of it (Postgres compares rows only along one direction): this
 * index replaces it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('media_assets_owner_created_desc_idx')
    .on('media_assets')
    .columns(['owner_id', 'created_at desc', 'asset_id desc'])
    .execute();
  await db.schema.dropIndex('media_assets_owner_created_idx').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('media_assets_owner_created_idx')
    .on('media_assets')
    .columns(['owner_id', 'created_at desc', 'asset_id'])
    .execute();
  await db.schema.dropIndex('media_assets_owner_created_desc_idx').execute();
}
