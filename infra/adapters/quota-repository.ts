import { sql } from 'kysely';
import type { Db } from '../db/database';

export interface QuotaLimits {
  maxBytes: number;
  maxAssets: number;
}

export interface QuotaUsage {
  bytes: number;
  assets: number;
}

/** Assets that hold or will hold storage: everything but the ones whose bytes are gone. */
const HOLDING = ['pending', 'processing', 'ready', 'failed', 'quarantined'] as const;

/** An addition refused by the quota, decided under the owner's usage lock; the message names the numbers. */
export class QuotaExceededError extends Error {
  constructor(
    message: string,
    readonly usage: QuotaUsage,
  ) {
    super(message);
    this.name = 'QuotaExceededError';
  }
}

/**
 * Locks the owner's usage row for the rest of the transaction (creating it at zero for a new owner) and returns the
 * usage it holds. Every quota decision for the owner takes this lock first, so concurrent ones run one after the
 * other, each seeing what the one before it added: reading usage and then writing cannot overshoot.
 */
export async function lockOwnerUsage(tx: Db, ownerId: string): Promise<QuotaUsage> {
  // An upsert, not SELECT … FOR UPDATE: a first upload has no row to lock yet, and two of them must still queue.
  const row = await tx
    .insertInto('owner_usage')
    .values({ owner_id: ownerId, assets: '0', bytes: '0' })
    .onConflict((oc) => oc.column('owner_id').doUpdateSet({ assets: sql`owner_usage.assets` }))
    .returning(['assets', 'bytes'])
    .executeTakeFirstOrThrow();
  return { assets: Number(row.assets), bytes: Number(row.bytes) };
}

/** Per-owner quota overrides and usage sums. */
export class QuotaRepository {
  constructor(
    private readonly db: Db,
    private readonly defaults: QuotaLimits,
  ) {}

  async limits(ownerId: string): Promise<QuotaLimits> {
    const row = await this.db
      .selectFrom('owner_quotas')
      .select(['max_bytes', 'max_assets'])
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
    return {
      maxBytes: row?.max_bytes != null ? Number(row.max_bytes) : this.defaults.maxBytes,
      maxAssets: row?.max_assets ?? this.defaults.maxAssets,
    };
  }

  /**
   * What an upload URL is checked against, in one query: the owner's limits, its usage with pending uploads (one
   * row kept by triggers on media_assets, migration 010, where a sum would read all of the owner's assets) and its
   * retention policy in days.
   */
  async forUpload(
    ownerId: string,
  ): Promise<{ limits: QuotaLimits; usage: QuotaUsage; retentionDays: number | null }> {
    const row = await this.db
      .selectFrom(sql<{ owner_id: string }>`(select ${ownerId}::bigint as owner_id)`.as('o'))
      .leftJoin('owner_quotas as q', 'q.owner_id', 'o.owner_id')
      .leftJoin('owner_usage as u', 'u.owner_id', 'o.owner_id')
      .select(['q.max_bytes', 'q.max_assets', 'q.retention_days', 'u.assets', 'u.bytes'])
      .executeTakeFirstOrThrow();
    return {
      limits: {
        maxBytes: row.max_bytes != null ? Number(row.max_bytes) : this.defaults.maxBytes,
        maxAssets: row.max_assets ?? this.defaults.maxAssets,
      },
      usage: { bytes: Number(row.bytes ?? 0), assets: Number(row.assets ?? 0) },
      retentionDays: row.retention_days ?? null,
    };
  }

  async setRetentionDays(ownerId: string, days: number | null): Promise<void> {
    await this.db
      .insertInto('owner_quotas')
      .values({ owner_id: ownerId, retention_days: days })
      .onConflict((oc) => oc.column('owner_id').doUpdateSet({ retention_days: days, updated_at: sql`now()` }))
      .execute();
  }

  async setLimits(ownerId: string, limits: Partial<QuotaLimits>): Promise<void> {
    await this.db
      .insertInto('owner_quotas')
      .values({ owner_id: ownerId, max_bytes: limits.maxBytes ?? null, max_assets: limits.maxAssets ?? null })
      .onConflict((oc) =>
        oc.column('owner_id').doUpdateSet({
          max_bytes: limits.maxBytes ?? null,
          max_assets: limits.maxAssets ?? null,
          updated_at: sql`now()`,
        }),
      )
      .execute();
  }

  /**
   * The quota check at completion, decided under the owner's usage lock: the asset is admitted when it fits beside
   * the owner's other admitted assets that still hold storage, and is then one of them. So the first uploads to
   * finish win, however many complete at once, and an abandoned upload blocks nobody. A retry of an admitted asset
   * is admitted again. Null when the asset's row is gone.
   */
  async admitAtCompletion(assetId: string, sizeBytes: number): Promise<{ excess: string | null } | null> {
    return this.db.transaction().execute(async (tx) => {
      const asset = await tx
        .selectFrom('media_assets')
        .select(['owner_id', 'quota_admitted'])
        .where('asset_id', '=', assetId)
        .executeTakeFirst();
      if (!asset) return null;
      if (asset.quota_admitted) return { excess: null };
      await lockOwnerUsage(tx, asset.owner_id);
      const [limits, row] = await Promise.all([
        new QuotaRepository(tx, this.defaults).limits(asset.owner_id),
        tx
          .selectFrom('media_assets')
          .select([sql<string>`coalesce(sum(size_bytes), 0)`.as('bytes'), sql<string>`count(*)`.as('assets')])
          .where('owner_id', '=', asset.owner_id)
          .where(
            'status',
            'in',
            HOLDING.filter((s) => s !== 'pending'),
          )
          .where('quota_admitted', '=', true)
          .where('asset_id', '!=', assetId)
          .executeTakeFirstOrThrow(),
      ]);
      const excess = quotaExcess(limits, { bytes: Number(row.bytes), assets: Number(row.assets) }, sizeBytes);
      if (!excess) {
        await tx
          .updateTable('media_assets')
          .set({ quota_admitted: true })
          .where('asset_id', '=', assetId)
          .execute();
      }
      return { excess };
    });
  }

  /**
   * When URLs are issued, pending uploads count at their declared size (reservations); at completion only stored
   * assets count, so the first upload to finish wins and an abandoned one blocks nobody.
   */
  async usage(
    ownerId: string,
    opts: { exceptAssetId?: string; includePending: boolean },
  ): Promise<QuotaUsage> {
    const statuses = opts.includePending ? HOLDING : HOLDING.filter((s) => s !== 'pending');
    let query = this.db
      .selectFrom('media_assets')
      .select([sql<string>`coalesce(sum(size_bytes), 0)`.as('bytes'), sql<string>`count(*)`.as('assets')])
      .where('owner_id', '=', ownerId)
      .where('status', 'in', statuses);
    const exceptAssetId = opts.exceptAssetId;
    if (exceptAssetId) query = query.where('asset_id', '!=', exceptAssetId);
    const row = await query.executeTakeFirstOrThrow();
    return { bytes: Number(row.bytes), assets: Number(row.assets) };
  }
}

/** Why an addition of `bytes` would break the owner's quota, or null when it fits. */
export function quotaExcess(limits: QuotaLimits, usage: QuotaUsage, bytes: number): string | null {
  if (usage.assets + 1 > limits.maxAssets) {
    return `quota exceeded: ${usage.assets} of ${limits.maxAssets} assets used`;
  }
  if (usage.bytes + bytes > limits.maxBytes) {
    return `quota exceeded: ${usage.bytes} of ${limits.maxBytes} bytes used, ${bytes} more requested`;
  }
  return null;
}
