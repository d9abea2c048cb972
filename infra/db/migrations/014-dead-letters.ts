import { sql, type Kysely } from 'kysely';

/**
 * Inputs taken for poison: a stage lost its worker (a crash, the OOM killer, a hang) on the same asset again and
 * again, so the asset failed at that stage and the input waits here for an operator's inspection. One row per
 * asset and stage; quarantined again after a retry, the row is updated (quarantines counts how often).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dead_letters')
    .addColumn('asset_id', 'uuid', (c) => c.notNull().references('media_assets.asset_id').onDelete('cascade'))
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    // Lost attempts, over every quarantine of this asset and stage.
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('quarantines', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('blob_sha256', 'text')
    .addColumn('blob_key', 'text')
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('dead_letters_pk', ['asset_id', 'stage'])
    .execute();
  await db.schema
    .createIndex('dead_letters_recent')
    .on('dead_letters')
    .columns(['last_seen_at', 'asset_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dead_letters').execute();
}
