import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { BucketRouter } from '../infra/adapters/bucket-router';
import type { IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import { blobKey } from '../domain/object-keys';
import { keepBeating } from './heartbeat';
import { removeReleasedBlob } from './release-blob';

export interface ClaimBlobResult {
  role: 'owner' | 'duplicate';
  sha256: string;
  blobKey: string;
}

/**
 * Dedup: the asset takes a reference on the blob with its bytes. The first owner moves its upload to the blob's
 * content address (and, with a replica store, copies it there too); every later one deletes its own copy.
 */
export function claimBlobActivity(deps: {
  store: ObjectStore;
  blobs: BlobRepository;
  integrity: IntegrityRepository;
  replica?: ObjectStore | undefined;
  buckets?: BucketRouter | undefined;
}) {
  return async function claimBlob(input: {
    assetId: string;
    sha256: string;
    sizeBytes: number;
    mimeType: string;
    uploadKey: string;
  }): Promise<ClaimBlobResult> {
    // The copy of a large upload (and its replication) can take minutes: the heartbeats say the worker is on it.
    return keepBeating(async () => {
      const claim = {
        assetId: input.assetId,
        sha256: input.sha256,
        bucket: deps.store.bucket,
        objectKey: blobKey(input.sha256),
        sizeBytes: input.sizeBytes,
        mimeType: input.mimeType,
      };
      let claimed = await deps.blobs.claim(claim);
      while (claimed.role === 'deleting') {
        // The last reference went a moment ago and its bytes are on their way out: joining them would lose them.
        // Finish their removal (or wait for whoever holds it) and claim again, as the owner of a fresh copy.
        await removeReleasedBlob(deps, input.sha256);
        claimed = await deps.blobs.claim(claim);
      }
      const { role, blob } = claimed;
      if (role === 'owner') {
        // A retry may find the copy already made and the upload already gone.
        if (!(await deps.store.head(blob.object_key)))
          await deps.store.copy(input.uploadKey, blob.object_key);
        await deps.integrity.adoptManifest(input.sha256);
        if (deps.replica && blob.replica_key === null) {
          await replicate(deps.store, deps.replica, blob.object_key, input.sizeBytes);
          await deps.integrity.setReplicaKey(input.sha256, blob.object_key);
        }
      }
      await deps.store.delete(input.uploadKey);
      return { role, sha256: input.sha256, blobKey: blob.object_key };
    });
  };
}

/**
 * Streams the blob to the replica: a server-side copy cannot cross endpoints or credentials, and the replica is
 * meant to live apart from the primary. A copy already there at the right size (a retry) is kept.
 */
async function replicate(from: ObjectStore, to: ObjectStore, key: string, sizeBytes: number): Promise<void> {
  if ((await to.head(key))?.sizeBytes === sizeBytes) return;
  await to.write(key, await from.read(key));
}
