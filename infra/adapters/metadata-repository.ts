import type { Db } from '../db/database';
import { notifyAssetChanged } from './asset-changes';

export interface MetadataChange {
  set: Record<string, string>;
  remove: string[];
}

/** The user's tags on an asset: every key outside the media.* facts the pipeline extracts. */
export class MetadataRepository {
  constructor(private readonly db: Db) {}

  /**
   * Applies the change in one transaction and returns the tags after it. `check` sees the tags before and after
   * and may throw to refuse (nothing is written then); the asset row is locked meanwhile, so two concurrent
   * changes cannot both pass a limit that only one of them fits. Undefined when there is no such asset.
   */
  async change(
    assetId: string,
    change: MetadataChange,
    check: (before: Record<string, string>, after: Record<string, string>) => void,
  ): Promise<Record<string, string> | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const asset = await tx
        .selectFrom('media_assets')
        .select('asset_id')
        .where('asset_id', '=', assetId)
        .forNoKeyUpdate()
        .executeTakeFirst();
      if (!asset) return undefined;
      const rows = await tx
        .selectFrom('asset_metadata')
        .select(['key', 'value'])
        .where('asset_id', '=', assetId)
        .where('key', 'not like', 'media.%')
        .execute();
      const before = Object.fromEntries(rows.map((r) => [r.key, r.value]));
      const after = { ...before, ...change.set };
      for (const key of change.remove) delete after[key];
      check(before, after);

      if (change.remove.length > 0) {
        await tx
          .deleteFrom('asset_metadata')
          .where('asset_id', '=', assetId)
          .where('key', 'in', change.remove)
          .execute();
      }
      const set = Object.entries(change.set);
      if (set.length > 0) {
        await tx
          .insertInto('asset_metadata')
          .values(set.map(([key, value]) => ({ asset_id: assetId, key, value })))
          .onConflict((oc) =>
            oc.columns(['asset_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
          )
          .execute();
      }
      await notifyAssetChanged(tx, assetId);
      return after;
    });
  }
}
