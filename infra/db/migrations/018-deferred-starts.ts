import type { Kysely } from 'kysely';

/**
 * An upload URL no longer starts its workflow: the owed start waits until the first instant the workflow has work
 * of its own (the URL's expiry, or a scheduled release before it), and a completion, a delete or a renewal that
 * comes first starts the workflow itself (signal-with-start). `created_published` says the asset's first event is
 * out, so the deferred start does not publish it again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('workflow_starts')
    .addColumn('created_published', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflow_starts').dropColumn('created_published').execute();
}
