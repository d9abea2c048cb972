import { sql, type Kysely } from 'kysely';

/**
 * The outbox of asset workflows still to be started. The upload URL's row and this one are written by one statement,
 * so an upload session can never exist without its workflow being owed; the workflow is started right after the
 * answer, off the request path, and a row is left only while that has not happened (Temporal away, the API gone).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workflow_starts')
    .addColumn('asset_id', 'uuid', (c) =>
      c.primaryKey().references('media_assets.asset_id').onDelete('cascade'),
    )
    // Until then the API instance that wrote the row is starting it; afterwards any instance's sweep may.
    .addColumn('due_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now() + interval '10 seconds'`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('workflow_starts_due').on('workflow_starts').column('due_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('workflow_starts').execute();
}
