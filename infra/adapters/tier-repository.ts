import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { BlobRow } from '../db/schema';

export type Tier = 'hot' | 'warm' | 'cold';

/** The blob rows' storage tier, and the reads that decide whether a blob may move down. */
export class TierRepository {
  constructor(private readonly db: Db) {}

  async blob(sha256: string): Promise<BlobRow | undefined> {
    return this.db.selectFrom('blobs').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  }

  /** True when any asset on the blob (duplicates share it) was read within the last `seconds`. */
  async readWithin(sha256: string, seconds: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('asset_access')
      .innerJoin('media_assets', 'media_assets.asset_id', 'asset_access.asset_id')
      .select('asset_access.asset_id')
      .where('media_assets.blob_sha256', '=', sha256)
      .where('asset_access.last_access_at', '>', sql<Date>`now() - make_interval(secs => ${seconds})`)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Runs `work` in a transaction holding the blob's row (FOR UPDATE), with the row as it then is (undefined once the
   * blob is released) and a repository bound to that transaction: so the tier moves of one blob, whichever asset's
   * workflow runs them, check, switch and clean up one at a time.
   */
  async withBlobLocked<T>(
    sha256: string,
    work: (blob: BlobRow | undefined, locked: TierRepository) => Promise<T>,
  ): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const blob = await trx
        .selectFrom('blobs')
        .selectAll()
        .where('sha256', '=', sha256)
        .forUpdate()
        .executeTakeFirst();
      return work(blob, new TierRepository(trx));
    });
  }

  /** Points the blob at its copy in another tier, only if it is still where the caller found it (retry-safe). */
  async switchTier(
    sha256: string,
    from: { tier: Tier; bucket: string },
    to: { tier: Tier; bucket: string; objectKey: string },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('blobs')
      .set({ tier: to.tier, bucket: to.bucket, object_key: to.objectKey, tier_changed_at: sql`now()` })
      .where('sha256', '=', sha256)
      .where('tier', '=', from.tier)
      .where('bucket', '=', from.bucket)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
