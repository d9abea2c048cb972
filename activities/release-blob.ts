import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { BucketRouter } from '../infra/adapters/bucket-router';
import type { ObjectStore } from '../infra/adapters/object-store';
import { blobKey, renditionsRoot } from '../domain/object-keys';
import { keepBeating } from './heartbeat';

export interface BlobRemovalDeps {
  store: ObjectStore;
  blobs: BlobRepository;
  buckets?: BucketRouter | undefined;
  /** The replica got a copy of the bytes at ingest and of the renditions at publish: it must lose them too. */
  replica?: ObjectStore | undefined;
}

/**
 * Deletes a blob with no references left (status `deleting`): its renditions and its bytes in the replica and the
 * primary, then its row, all while the row is locked (BlobRepository.removeDeleting). A store that fails leaves
 * the row behind, so the retried activity finds the blob again. Idempotent: false when nothing was left to remove.
 */
export function removeReleasedBlob(deps: BlobRemovalDeps, sha256: string): Promise<boolean> {
  return deps.blobs.removeDeleting(sha256, async (blob) => {
    if (deps.replica) {
      await deps.replica.deletePrefix(renditionsRoot(sha256));
      // replica_key is recorded after the copy: a crash between the two leaves the bytes at the content address.
      for (const key of new Set([blobKey(sha256), blob.replica_key ?? blobKey(sha256)]))
        await deps.replica.delete(key);
    }
    // An HLS ladder is hundreds of objects; renditions always stay in the primary.
    await deps.store.deletePrefix(renditionsRoot(sha256));
    // The bytes may sit in a warm or cold bucket by now.
    await (deps.buckets?.bucket(blob.bucket) ?? deps.store).delete(blob.object_key);
  });
}

/** A deleted asset gives up its reference; the last one out removes the bytes and every rendition. */
export function releaseBlobActivity(deps: BlobRemovalDeps) {
  return async function releaseBlob(input: {
    assetId: string;
    sha256: string;
  }): Promise<{ removed: boolean }> {
    return keepBeating(async () => {
      const { removed } = await deps.blobs.release(input.assetId, input.sha256);
      // Also on a retry whose first attempt dropped the last reference and died before the objects went.
      const finished = await removeReleasedBlob(deps, input.sha256);
      return { removed: removed !== null || finished };
    });
  };
}
