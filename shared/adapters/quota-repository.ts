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
