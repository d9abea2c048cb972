import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';

/** Gives the asset the facts of the blob it points at, whether it processed the blob or found it processed. */
export function copyMediaMetadataActivity(deps: { assets: AssetRepository; blobs: BlobRepository }) {
  return async function copyMediaMetadata(input: { assetId: string; sha256: string }): Promise<void> {
    const blob = await deps.blobs.get(input.sha256);
    if (blob?.media_info) await deps.assets.copyMediaMetadata(input.assetId, blob.media_info);
  };
}
