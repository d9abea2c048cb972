import type { BlobRepository } from '../shared/adapters/blob-repository';
import type { ObjectStore } from '../shared/adapters/object-store';
import { renditionsRoot } from './publish-renditions';

/** A deleted asset gives up its reference; the last one out removes the bytes and every rendition. */
export function releaseBlobActivity(deps: { store: ObjectStore; blobs: BlobRepository }) {
  return async function releaseBlob(input: {
    assetId: string;
    sha256: string;
  }): Promise<{ removed: boolean }> {
    const { removed } = await deps.blobs.release(input.assetId, input.sha256);
    if (!removed) return { removed: false };
    await deps.store.delete(removed.object_key);
    await deps.store.deletePrefix(renditionsRoot(input.sha256));
    return { removed: true };
  };
}
