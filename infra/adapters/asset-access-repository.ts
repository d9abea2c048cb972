import { sql } from 'kysely';
import type { Db } from '../db/database';

export interface AccessCount {
  assetId: string;
  count: number;
  lastAccessAt: Date;
}

/** asset_access: per-asset read counts and the last read, for tiering. */
export class AssetAccessRepository {
  constructor(private readonly db: Db) {}

  /**
   * Adds a batch in one statement. Ids without an asset row are skipped rather than failing the batch (the foreign
   * key would), so one odd id can never hold back everyone else's counts.
   */
  async add(batch: AccessCount[]): Promise<void> {
    if (batch.length === 0) return;
    await sql`
      insert into asset_access (asset_id, last_access_at, access_count)
      select v.asset_id, v.at, v.n
      from unnest(
        ${batch.map((b) => b.assetId)}::uuid[],
        ${batch.map((b) => b.lastAccessAt)}::timestamptz[],
        ${batch.map((b) => b.count)}::bigint[]
      ) as v(asset_id, at, n)
      where exists (select 1 from media_assets m where m.asset_id = v.asset_id)
      on conflict (asset_id) do update set
        access_count = asset_access.access_count + excluded.access_count,
        last_access_at = greatest(asset_access.last_access_at, excluded.last_access_at)
    `.execute(this.db);
  }
}
