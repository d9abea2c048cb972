import { sql, type Kysely } from 'kysely';

/**
 * Delivery and access: per-owner quotas, webhooks and their deliveries, batched access records for tiering, and the
 * indexes that keep listing and tag search fast at a million assets.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('owner_quotas')
    .addColumn('owner_id', 'bigint', (c) => c.primaryKey())
    .addColumn('max_bytes', 'bigint')
    .addColumn('max_assets', 'integer')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('webhook_id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_id', 'bigint', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('webhooks_owner_idx').on('webhooks').column('owner_id').execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('delivery_id', 'text', (c) => c.primaryKey())
    .addColumn('webhook_id', 'uuid', (c) => c.notNull().references('webhooks.webhook_id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .execute();

  // One row per asset, bumped in batches by the API: cheap to write, and enough for the tiering clock.
  await db.schema
    .createTable('asset_access')
    .addColumn('asset_id', 'uuid', (c) =>
      c.primaryKey().references('media_assets.asset_id').onDelete('cascade'),
    )
    .addColumn('last_access_at', 'timestamptz', (c) => c.notNull())
    .addColumn('access_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  // Listing: an owner's assets newest first, optionally by status or family, with keyset pagination.
  await db.schema
    .createIndex('media_assets_owner_status_created_idx')
    .on('media_assets')
    .columns(['owner_id', 'status', 'created_at desc', 'asset_id desc'])
    .execute();
  await db.schema
    .createIndex('media_assets_owner_mime_created_idx')
    .on('media_assets')
    .columns(['owner_id', 'mime_type', 'created_at desc', 'asset_id desc'])
    .execute();
  // Assets shared with a principal are found through the ACL, then ordered like the owner's.
  await db.schema.dropIndex('asset_acl_principal_idx').execute();
  await db.schema
    .createIndex('asset_acl_principal_idx')
    .on('asset_acl')
    .columns(['principal', 'permission', 'asset_id'])
    .execute();
  // Tag filters: key = value lookups return asset ids to intersect with the owner's range.
  await db.schema.dropIndex('asset_metadata_key_value_idx').execute();
  await db.schema
    .createIndex('asset_metadata_key_value_idx')
    .on('asset_metadata')
    .columns(['key', 'value', 'asset_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['asset_access', 'webhook_deliveries', 'webhooks', 'owner_quotas']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.dropIndex('media_assets_owner_status_created_idx').ifExists().execute();
  await db.schema.dropIndex('media_assets_owner_mime_created_idx').ifExists().execute();
}
