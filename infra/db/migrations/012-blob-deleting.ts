import { sql, type Kysely } from 'kysely';

/**
 * A blob whose last reference is gone is first marked `deleting`, and its row removed only after its objects, under
 * the row's lock: a claim of the same bytes meanwhile never joins bytes on their way out (BlobRepository.release).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table blobs drop constraint if exists blobs_status_check`.execute(db);
  await sql`alter table blobs add constraint blobs_status_check
            check (status in ('processing', 'ready', 'quarantined', 'failed', 'deleting'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from blobs where status = 'deleting'`.execute(db);
  await sql`alter table blobs drop constraint if exists blobs_status_check`.execute(db);
  await sql`alter table blobs add constraint blobs_status_check
            check (status in ('processing', 'ready', 'quarantined', 'failed'))`.execute(db);
}
