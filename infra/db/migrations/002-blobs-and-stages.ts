import { sql, type Kysely } from 'kysely';

/**
 * Content-addressed blobs with a reference count (dedup), their renditions, and per-stage bookkeeping. The
 * primary key on sha256 is what decides which of two identical uploads owns the blob: no check-then-insert race.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('blobs')
    .addColumn('sha256', 'char(64)', (c) => c.primaryKey())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('object_key', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('refcount', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`refcount >= 0`),
    )
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('processing', 'ready', 'quarantined', 'failed')`),
    )
    .addColumn('status_reason', 'text')
    .addColumn('owner_asset_id', 'uuid', (c) => c.notNull())
    .addColumn('scan_status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`scan_status in ('pending', 'clean', 'infected', 'skipped')`),
    )
    .addColumn('scan_signature', 'text')
    .addColumn('media_info', 'jsonb')
    .addColumn('placeholder', 'text')
    .addColumn('rendition_prefix', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('blob_renditions')
    .addColumn('blob_sha256', 'char(64)', (c) => c.notNull().references('blobs.sha256').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('object_key', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('bit_rate', 'bigint')
    .addColumn('duration_seconds', 'double precision')
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_renditions_pk', ['blob_sha256', 'name'])
    .execute();

  await db.schema
    .alterTable('media_assets')
    .addColumn('blob_sha256', 'char(64)', (c) => c.references('blobs.sha256'))
    .addColumn('declared_mime_type', 'text')
    .addColumn('failed_stage', 'text')
    .addColumn('failure_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`update media_assets set declared_mime_type = mime_type`.execute(db);
  await db.schema.createIndex('media_assets_blob_idx').on('media_assets').column('blob_sha256').execute();
  await db.schema
    .createIndex('media_assets_failed_idx')
    .on('media_assets')
    .columns(['updated_at'])
    .where(sql.ref('status'), '=', 'failed')
    .execute();

  await db.schema.alterTable('asset_events').addColumn('stage', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('asset_events').dropColumn('stage').execute();
  await db.schema
    .alterTable('media_assets')
    .dropColumn('blob_sha256')
    .dropColumn('declared_mime_type')
    .dropColumn('failed_stage')
    .dropColumn('failure_attempts')
    .execute();
  await db.schema.dropTable('blob_renditions').execute();
  await db.schema.dropTable('blobs').execute();
}
