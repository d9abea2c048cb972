import type { BlobRepository, NewRendition } from '../infra/adapters/blob-repository';
import type { ListCursor, ObjectStore } from '../infra/adapters/object-store';
import { Replicator } from '../infra/adapters/replicator';
import { renditionsRoot } from '../domain/object-keys';
import { keepBeating } from './heartbeat';

/**
 * Renditions are written under a per-attempt prefix; publishing switches the blob to that prefix in one database
 * transaction and then removes every other attempt's objects, and the multipart uploads of attempts that died
 * mid-upload, so a crash never leaves half a set or two. With a replica, the set is copied there before it is
 * published (reads of renditions fall over to it), and the replica drops the other attempts' objects too.
 */
export function publishRenditionsActivity(deps: {
  store: ObjectStore;
  blobs: BlobRepository;
  replica?: ObjectStore | undefined;
}) {
  const replicator = deps.replica && new Replicator(deps.store, deps.replica);
  return async function publishRenditions(input: {
    sha256: string;
    prefix: string;
    renditions: NewRendition[];
  }): Promise<{ removedStaleObjects: number }> {
    // Many stale objects (an HLS ladder's segments) can take a while to delete.
    return keepBeating(async () => {
      await replicator?.mirror(input.prefix);
      await deps.blobs.publishRenditions(input.sha256, input.prefix, input.renditions);
      const stale = (await deps.store.list(renditionsRoot(input.sha256))).filter(
        (k) => !k.startsWith(input.prefix),
      );
      for (const key of stale) await deps.store.delete(key);
      let cursor: ListCursor = null;
      do {
        const page = await deps.store.listMultipartUploadsPage(renditionsRoot(input.sha256), cursor, 1000);
        for (const upload of page.uploads) await deps.store.abortMultipartUpload(upload.key, upload.uploadId);
        cursor = page.next;
      } while (cursor);
      await replicator?.prune(renditionsRoot(input.sha256), input.prefix);
      return { removedStaleObjects: stale.length };
    });
  };
}
