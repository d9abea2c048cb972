import type { AssetRepository } from '../shared/adapters/asset-repository';
import type { ObjectStore } from '../shared/adapters/object-store';
import { SNIFF_BYTES, sniffContent, type SniffVerdict } from '../shared/media/content-policy';

/** Reads the first bytes of the upload and decides its type from them, never from the name or the declaration. */
export function sniffContentActivity(deps: { store: ObjectStore; assets: AssetRepository }) {
  return async function sniffUpload(input: {
    assetId: string;
    objectKey: string;
    declaredContentType: string;
  }): Promise<SniffVerdict> {
    const head = await deps.store.readHead(input.objectKey, SNIFF_BYTES);
    const verdict = await sniffContent(head, input.declaredContentType);
    if (verdict.ok) await deps.assets.setDetectedType(input.assetId, verdict.mimeType);
    return verdict;
  };
}
