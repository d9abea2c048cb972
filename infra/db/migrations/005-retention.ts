import type { Kysely } from 'kysely';

/** Per-owner retention policy, beside the owner's quota overrides; per-asset retention end. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('owner_quotas').addColumn('retention_days', 'integer').execute();
  await db.schema.alterTable('media_assets').addColumn('retain_until', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media_assets').dropColumn('retain_until').execute();
  await db.schema.alterTable('owner_quotas').dropColumn('retention_days').execute();
}
