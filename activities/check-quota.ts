import type { AssetRepository } from '../shared/adapters/asset-repository';
import { quotaExcess, type QuotaRepository } from '../shared/adapters/quota-repository';

/**
 * The second quota check, with the size actually stored: uploads that each fitted when their URLs were issued may
 * not fit together, and this is where that is decided.
 */
export function checkQuotaActivity(deps: { assets: AssetRepository; quotas: QuotaRepository }) {
  return async function checkQuota(input: {
    assetId: string;
    sizeBytes: number;
  }): Promise<{ ok: true } | { ok: false; reason: string }> {
    const asset = await deps.assets.findById(input.assetId);
    if (!asset) return { ok: false, reason: 'asset record is gone' };
    const [limits, usage] = await Promise.all([
      deps.quotas.limits(asset.owner_id),
      deps.quotas.usage(asset.owner_id, { exceptAssetId: input.assetId, includePending: false }),
    ]);
    const excess = quotaExcess(limits, usage, input.sizeBytes);
    return excess ? { ok: false, reason: `${excess} (checked at completion)` } : { ok: true };
  };
}
