import type { QuotaRepository } from '../infra/adapters/quota-repository';

/**
 * The second quota check, with the size actually stored: uploads that each fitted when their URLs were issued may
 * not fit together, and this is where that is decided (by the database, under the owner's usage lock).
 */
export function checkQuotaActivity(deps: { quotas: QuotaRepository }) {
  return async function checkQuota(input: {
    assetId: string;
    sizeBytes: number;
  }): Promise<{ ok: true } | { ok: false; reason: string }> {
    const admitted = await deps.quotas.admitAtCompletion(input.assetId, input.sizeBytes);
    if (!admitted) return { ok: false, reason: 'asset record is gone' };
    return admitted.excess
      ? { ok: false, reason: `${admitted.excess} (checked at completion)` }
      : { ok: true };
  };
}
