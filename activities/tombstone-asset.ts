import type { AssetRepository } from '../infra/adapters/asset-repository';

/** The last step of a purge: the record stays as a tombstone, its tags and grants go. */
export function tombstoneAssetActivity(deps: { assets: AssetRepository }) {
  return async function tombstoneAsset(input: { assetId: string }): Promise<void> {
    await deps.assets.tombstone(input.assetId);
  };
}
