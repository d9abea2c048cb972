import type { BlobRepository, NewRendition } from '../shared/adapters/blob-repository';
import type { ObjectStore } from '../shared/adapters/object-store';

export const renditionsRoot = (sha256: string) => `renditions/${sha256}/`;

/**
 * Renditions are written under a per-attempt prefix; publishing switches the blob to that prefix in one database
 * transaction and then removes every other attempt's objects, so a crash never leaves half a set or two.
 */
export function publishRenditionsActivity(deps: { store: ObjectStore; blobs: BlobRepository }) {
  return async function publishRenditions(input: {
    sha256: string;
    prefix: string;
    renditions: NewRendition[];
  }): Promise<{ removedStaleObjects: number }> {
    await deps.blobs.publishRenditions(input.sha256, input.prefix, input.renditions);
    const stale = (await deps.store.list(renditionsRoot(input.sha256))).filter(
      (k) => !k.startsWith(input.prefix),
    );
    for (const key of stale) await deps.store.delete(key);
    return { removedStaleObjects: stale.length };
  };
}
