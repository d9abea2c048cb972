import type { Db } from '../db/database';
import type { RegionPolicy } from '../../domain/delivery/regions';
import { notifyAssetChanged } from './asset-changes';

/** The policy as media_assets holds it (null: no policy). */
export const regionColumns = (policy: RegionPolicy | null) => ({
  region_mode: policy?.mode ?? null,
  regions: policy?.countries ?? [],
});

export type RegionWrite = { written: true } | { written: false; status: 'missing' | 'deleted' };

/** An asset's regional policy (media_assets.region_mode and regions, migration 015). */
export class RegionRepository {
  constructor(private readonly db: Db) {}

  /**
   * Sets (or with null clears) the policy, unless the asset is deleted: the check and the write are one statement,
   * so a delete that commits first wins and the policy is not written onto a tombstone.
   */
  async replace(assetId: string, policy: RegionPolicy | null): Promise<RegionWrite> {
    return this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('media_assets')
        .set(regionColumns(policy))
        .where('asset_id', '=', assetId)
        .where('status', '!=', 'deleted')
        .returning('asset_id')
        .executeTakeFirst();
      if (updated) {
        // GET /media/:id shows the policy: cached copies must go.
        await notifyAssetChanged(tx, assetId);
        return { written: true };
      }
      const row = await tx
        .selectFrom('media_assets')
        .select('asset_id')
        .where('asset_id', '=', assetId)
        .executeTakeFirst();
      return { written: false, status: row ? 'deleted' : 'missing' };
    });
  }
}
