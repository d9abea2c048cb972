import type { BlobRepository } from '../shared/adapters/blob-repository';
import type { ObjectStore } from '../shared/adapters/object-store';

export const blobKey = (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;

export interface ClaimBlobResult {
  role: 'owner' | 'duplicate';
  sha256: string;
  blobKey: string;
}

/**
 * Dedup: the asset takes a reference on the blob with its bytes. The first owner moves its upload to the blob's
 * content address; every later one deletes its own copy of the same bytes.
 */
export function claimBlobActivity(deps: { store: ObjectStore; blobs: BlobRepository }) {
  return async function claimBlob(input: {
    assetId: string;
    sha256: string;
    sizeBytes: number;
    mimeType: string;
    uploadKey: string;
  }): Promise<ClaimBlobResult> {
    const key = blobKey(input.sha256);
    const { role, blob } = await deps.blobs.claim({
      assetId: input.assetId,
      sha256: input.sha256,
      bucket: deps.store.bucket,
      objectKey: key,
      sizeBytes: input.sizeBytes,
      mimeType: input.mimeType,
    });
    // A retry may find the copy already made and the upload already gone.
    if (role === 'owner' && !(await deps.store.head(blob.object_key))) {
      await deps.store.copy(input.uploadKey, blob.object_key);
    }
    await deps.store.delete(input.uploadKey);
    return { role, sha256: input.sha256, blobKey: blob.object_key };
  };
}
