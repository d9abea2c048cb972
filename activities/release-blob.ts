import type { BlobRepository } from '../shared/adapters/blob-repository';
import type { BucketRouter } from '../shared/adapters/bucket-router';
import type { ObjectStore } from '../shared/adapters/object-store';
import { keepBeating } from './heartbeat';
import { renditionsRoot } from '../shared/object-keys';

/** A deleted asset gives up its reference; the last one out removes the bytes and every rendition. */
export function releaseBlobActivity(deps: {
  store: ObjectStore;
  blobs: BlobRepository;
  buckets?: BucketRouter;
}) {
  return async function releaseBlob(input: {
    assetId: string;
    sha256: string;
  }): Promise<{ removed: boolean }> {
    return keepBeating(async () => {
      const { removed } = await deps.blobs.release(input.assetId, input.sha256);
      if (!removed) return { removed: false };
      // The bytes may sit in a warm or cold bucket by now; renditions always stay in the primary.
      await (deps.buckets?.bucket(removed.bucket) ?? deps.store).delete(removed.object_key);
      // An HLS ladder is hundreds of objects: the beats say this worker is still deleting them.
      await deps.store.deletePrefix(renditionsRoot(input.sha256));
      return { removed: true };
    });
  };
}
