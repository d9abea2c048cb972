import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { Cdn } from '../infra/adapters/cdn';
import { renditionPath } from '../domain/delivery/asset-paths';
import { deliveryAccess } from '../domain/delivery/delivery-access';
import { keepBeating } from './heartbeat';

export interface CdnDeps {
  assets: AssetRepository;
  blobs: BlobRepository;
  cdn: Cdn;
  /** CDN_WARM_RENDITIONS: fetched through the edge once the asset is ready. */
  warmRenditions: readonly string[];
}

/**
 * Once an asset is ready: its delivery URLs (the original and every rendition; for video the HLS master), with the
 * configured renditions warmed. An asset that is not ready (deleted meanwhile) has none.
 */
export function registerWithCdnActivity(deps: CdnDeps) {
  return async function registerWithCdn(input: { assetId: string }): Promise<string[]> {
    return keepBeating(() => register(input));
  };

  async function register(input: { assetId: string }): Promise<string[]> {
    const asset = await deps.assets.findById(input.assetId);
    if (!asset?.blob_sha256 || asset.status !== 'ready') return [];
    const renditions = await deps.blobs.renditions(asset.blob_sha256);
    const opts = deliveryAccess(asset);
    const url = (path: string) => deps.cdn.deliveryUrl(input.assetId, path, opts);
    await deps.cdn.warm(
      renditions.filter((r) => deps.warmRenditions.includes(r.name)).map((r) => url(renditionPath(r.name))),
    );
    return [url('original'), ...renditions.map((r) => url(renditionPath(r.name)))];
  }
}

/** After deletion or an ACL change: nothing of the asset may stay in the edge's cache. */
export function purgeCdnActivity(deps: Pick<CdnDeps, 'cdn'>) {
  return async function purgeCdn(input: { assetId: string }): Promise<void> {
    await keepBeating(() => deps.cdn.purge(input.assetId));
  };
}
