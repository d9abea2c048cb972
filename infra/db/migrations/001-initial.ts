import { sql, type Kysely } from 'kysely';
import { ASSET_STATUSES } from '../../../domain/asset-status';

export async function up(db: Kysely<unknown>): Promise<void> {
  const statuses = sql.join(ASSET_STATUSES.map((s) => sql.lit(s)));

  await db.schema
    .createTable('media_assets')
    .addColumn('asset_id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'bigint', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('object_key', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull().check(sql`size_bytes >= 0`))
    .addColumn('checksum_sha256', 'char(64)')
    .addColumn('declared_checksum_sha256', 'char(64)')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in (${statuses})`))
    .addColumn('status_reason', 'text')
    .addColumn('upload_expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('media_assets_object_unique', ['bucket', 'object_key'])
    .execute();
  await db.schema
    .createIndex('media_assets_owner_created_idx')
    .on('media_assets')
    .columns(['owner_id', 'created_at desc', 'asset_id'])
    .execute();
  await db.schema.createIndex('media_assets_status_idx').on('media_assets').columns(['status']).execute();

  await db.schema
    .createTable('asset_metadata')
    .addColumn('asset_id', 'uuid', (c) => c.notNull().references('media_assets.asset_id').onDelete('cascade'))
    .addColumn('key', 'varchar(64)', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('asset_metadata_pk', ['asset_id', 'key'])
    .execute();
  await db.schema
    .createIndex('asset_metadata_key_value_idx')
    .on('asset_metadata')
    .columns(['key', 'value'])
    .execute();

  await db.schema
    .createTable('asset_acl')
    .addColumn('asset_id', 'uuid', (c) => c.notNull().references('media_assets.asset_id').onDelete('cascade'))
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('permission', 'text', (c) => c.notNull().check(sql`permission in ('read', 'write', 'delete')`))
    .addPrimaryKeyConstraint('asset_acl_pk', ['asset_id', 'principal', 'permission'])
    .execute();
  await db.schema
    .createIndex('asset_acl_principal_idx')
    .on('asset_acl')
    .columns(['principal', 'asset_id'])
    .execute();

  // Every lifecycle transition, written by the workflow's activities. event_id is the idempotency key, so an
  // activity retried after its commit cannot record the same transition twice.
  await db.schema
    .createTable('asset_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('asset_id', 'uuid', (c) => c.notNull().references('media_assets.asset_id').onDelete('cascade'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await db.schema
    .createIndex('asset_events_asset_time_idx')
    .on('asset_events')
    .columns(['asset_id', 'occurred_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['asset_events', 'asset_acl', 'asset_metadata', 'media_assets']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
