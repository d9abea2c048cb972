import { sql, type Kysely } from 'kysely';

/**
 * Visibility, a second axis beside the processing status: draft, private, unlisted or public, a scheduled release
 * (publish_at turns the asset into release_visibility, unpublish_at takes it back to private) and a regional policy
 * (allowed or blocked countries). Today's `*` read grant was "public" by another name: those assets become public
 * and the grant goes, so who may read each asset is unchanged and there is one concept left.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('media_assets')
    .addColumn('visibility', 'text', (c) =>
      c
        .notNull()
        .defaultTo('private')
        .check(sql`visibility in ('draft', 'private', 'unlisted', 'public')`),
    )
    .addColumn('release_visibility', 'text', (c) =>
      c.check(sql`release_visibility in ('private', 'unlisted', 'public')`),
    )
    .addColumn('publish_at', 'timestamptz')
    .addColumn('unpublish_at', 'timestamptz')
    // When it last became public or unlisted: the catalogue's order.
    .addColumn('released_at', 'timestamptz')
    .addColumn('region_mode', 'text', (c) => c.check(sql`region_mode in ('allow', 'block')`))
    .addColumn('regions', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .execute();
  await sql`alter table media_assets add constraint media_assets_release_check
    check ((publish_at is null) = (release_visibility is null))`.execute(db);

  // Webhook events that are not status transitions (asset.published, asset.unpublished) share the table.
  await db.schema
    .alterTable('asset_events')
    .addColumn('event_type', 'text', (c) => c.notNull().defaultTo('asset.transition'))
    .execute();

  await sql`update media_assets a set visibility = 'public', released_at = a.created_at
    where exists (select 1 from asset_acl g where g.asset_id = a.asset_id and g.principal = '*')`.execute(db);
  await sql`delete from asset_acl where principal = '*'`.execute(db);

  // GET /catalog: public, ready assets newest release first; the regional filter and the unpublish instant are
  // answered from the index too.
  await sql`create index media_assets_catalog_idx on media_assets (released_at desc, asset_id desc)
    include (mime_type, region_mode, regions, unpublish_at)
    where visibility = 'public' and status = 'ready'`.execute(db);
  // GET /media?visibility=: an owner's drafts (or public ones) newest first, as the status filter walks its own
  // index; without it a rare visibility makes the walk of the owner's assets long (65 ms p50 at 50,000 assets).
  await sql`create index media_assets_owner_visibility_created_idx
    on media_assets (owner_id, visibility, created_at desc, asset_id desc)`.execute(db);
  // Operators' and the release clock's view: what is scheduled, soonest first.
  await sql`create index media_assets_scheduled_idx on media_assets (publish_at)
    where publish_at is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`insert into asset_acl (asset_id, principal, permission)
    select asset_id, '*', 'read' from media_assets where visibility = 'public'
    on conflict do nothing`.execute(db);
  await db.schema.dropIndex('media_assets_catalog_idx').ifExists().execute();
  await db.schema.dropIndex('media_assets_scheduled_idx').ifExists().execute();
  await db.schema.dropIndex('media_assets_owner_visibility_created_idx').ifExists().execute();
  await db.schema.alterTable('asset_events').dropColumn('event_type').execute();
  await sql`alter table media_assets drop constraint media_assets_release_check`.execute(db);
  for (const column of [
    'visibility',
    'release_visibility',
    'publish_at',
    'unpublish_at',
    'released_at',
    'region_mode',
    'regions',
  ]) {
    await db.schema.alterTable('media_assets').dropColumn(column).execute();
  }
}
