import { sql, type Kysely } from 'kysely';

/**
 * Which assets the completion-time quota check admitted. That check counts only these (plus the one asking): an
 * upload still being verified has not been admitted, so two hundred completing at once neither all count against
 * each other nor all fit. Assets holding storage before this migration were admitted by the check of their day.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('media_assets')
    .addColumn('quota_admitted', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`update media_assets set quota_admitted = true
            where status in ('processing', 'ready', 'failed', 'quarantined')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media_assets').dropColumn('quota_admitted').execute();
}
