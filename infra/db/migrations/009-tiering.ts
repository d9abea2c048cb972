import { sql, type Kysely } from 'kysely';

/** Storage tiers: a blob unread for a while moves to a cheaper bucket; `bucket`/`object_key` always say where. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('blobs')
    .addColumn('tier', 'text', (c) =>
      c
        .notNull()
        .defaultTo('hot')
        .check(sql`tier in ('hot', 'warm', 'cold')`),
    )
    .addColumn('tier_changed_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('blobs').dropColumn('tier_changed_at').dropColumn('tier').execute();
}
