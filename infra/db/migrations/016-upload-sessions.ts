import { sql, type Kysely } from 'kysely';

/**
 * Upload sessions a client can find again: the idempotency key it chose when it asked for the upload URL (unique per
 * owner), so a client that lost its state (a crash, a reinstalled app) resumes the same asset instead of starting
 * a second one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media_assets').addColumn('idempotency_key', 'text').execute();
  await sql`create unique index media_assets_idempotency_idx on media_assets (owner_id, idempotency_key)
    where idempotency_key is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('media_assets_idempotency_idx').ifExists().execute();
  await db.schema.alterTable('media_assets').dropColumn('idempotency_key').execute();
}
