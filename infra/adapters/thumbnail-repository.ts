import { sql } from 'kysely';
import type { Db } from '../db/database';
import { THUMBNAIL_PREFIX } from '../../domain/thumbnails';
import { notifyBlobAssetsChanged } from './asset-changes';
import type { NewRendition } from './blob-repository';

export type CacheOutcome = 'added' | 'exists' | 'limit' | 'gone';

/** The SQL of thumbnails cached as a blob's renditions (GET /media/{id}/thumbnail). */
export class ThumbnailRepository {
  constructor(private readonly db: Db) {}

  /** How many thumbnails the blob holds now. */
  async count(sha256: string): Promise<number> {
    const row = await this.db
      .selectFrom('blob_renditions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('blob_sha256', '=', sha256)
      .where('name', 'like', `${THUMBNAIL_PREFIX}%`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Adds one thumbnail to the blob's published set, unless it holds `max` already or was republished or removed
   * since the frame was made (its prefix changed: 'gone'). The blob's row is locked first, as publishing locks it,
   * so two requests cannot both take the last place, and a republish cannot slip between the check and the insert.
   */
  async add(sha256: string, prefix: string, r: NewRendition, max: number): Promise<CacheOutcome> {
    return this.db.transaction().execute(async (tx) => {
      const blob = await tx
        .selectFrom('blobs')
        .select(['rendition_prefix', 'status'])
        .where('sha256', '=', sha256)
        .forUpdate()
        .executeTakeFirst();
      if (!blob || blob.status !== 'ready' || blob.rendition_prefix !== prefix) return 'gone';
      const existing = await tx
        .selectFrom('blob_renditions')
        .select('name')
        .where('blob_sha256', '=', sha256)
        .where('name', 'like', `${THUMBNAIL_PREFIX}%`)
        .execute();
      if (existing.some((e) => e.name === r.name)) return 'exists';
      if (existing.length >= max) return 'limit';
      await tx
        .insertInto('blob_renditions')
        .values({
          blob_sha256: sha256,
          name: r.name,
          object_key: r.objectKey,
          mime_type: r.mimeType,
          width: r.width ?? null,
          height: r.height ?? null,
          bit_rate: null,
          duration_seconds: null,
          size_bytes: r.sizeBytes,
        })
        .execute();
      await tx
        .updateTable('blobs')
        .set({ updated_at: sql`now()` })
        .where('sha256', '=', sha256)
        .execute();
      await notifyBlobAssetsChanged(tx, sha256);
      return 'added';
    });
  }
}
