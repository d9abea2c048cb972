import type { Kysely } from 'kysely';

/**
 * A stamp bumped in the same transaction as every change GET /media/:id shows. A cached document is served only
 * while its stamp equals the row's, so no stale status is ever served, even before the change's NOTIFY arrives.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('media_assets')
    .addColumn('doc_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media_assets').dropColumn('doc_version').execute();
}
