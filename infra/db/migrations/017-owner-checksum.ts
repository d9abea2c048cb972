import type { Kysely } from 'kysely';

/**
 * `GET /media?checksumSha256=` (the CLI's --dry-run) asks "do I already have these bytes?" file by file: an index on
 * (owner_id, checksum_sha256) answers it without walking the owner's whole listing.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('media_assets_owner_checksum')
    .on('media_assets')
    .columns(['owner_id', 'checksum_sha256'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('media_assets_owner_checksum').execute();
}
