import type { Kysely } from 'kysely';

/** Multipart upload sessions: the S3 upload id and the part size the client was told to use. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('media_assets')
    .addColumn('multipart_upload_id', 'text')
    .addColumn('multipart_part_bytes', 'bigint')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('media_assets')
    .dropColumn('multipart_upload_id')
    .dropColumn('multipart_part_bytes')
    .execute();
}
