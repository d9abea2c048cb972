import { sql, type Kysely } from 'kysely';

/**
 * Integrity scans: each blob keeps a SHA-256 per chunk, so a scan names the damaged byte ranges, and where a replica
 * copy lives. The manifest is written at ingest, before the blob row exists, so it has a table of its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('blob_manifests')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('chunk_bytes', 'integer', (c) => c.notNull())
    .addColumn('chunk_sha256', sql`text[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .alterTable('blobs')
    .addColumn('chunk_bytes', 'integer')
    .addColumn('chunk_sha256', sql`text[]`)
    .addColumn('integrity_status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('unchecked')
        .check(sql`integrity_status in ('unchecked', 'ok', 'corrupt', 'repaired')`),
    )
    .addColumn('integrity_checked_at', 'timestamptz')
    .addColumn('integrity_detail', 'text')
    .addColumn('replica_key', 'text')
    .execute();
  // The scan's cursor: never-checked blobs first, then the longest unchecked.
  await sql`create index blobs_integrity_due on blobs (integrity_checked_at asc nulls first, sha256)
            where status = 'ready'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists blobs_integrity_due`.execute(db);
  await db.schema
    .alterTable('blobs')
    .dropColumn('chunk_bytes')
    .dropColumn('chunk_sha256')
    .dropColumn('integrity_status')
    .dropColumn('integrity_checked_at')
    .dropColumn('integrity_detail')
    .dropColumn('replica_key')
    .execute();
  await db.schema.dropTable('blob_manifests').execute();
}
