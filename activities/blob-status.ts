import type { BlobRepository } from '../infra/adapters/blob-repository';

/** Records a blob's end when its processing fails, so duplicates waiting on it learn the outcome. */
export function failBlobActivity(deps: { blobs: BlobRepository }) {
  return async function failBlob(input: { sha256: string; reason: string }): Promise<void> {
    await deps.blobs.setStatus(input.sha256, 'failed', input.reason);
  };
}

/** An operator's retry of a failed blob makes the retrying asset its processor. */
export function takeOverBlobActivity(deps: { blobs: BlobRepository }) {
  return async function takeOverBlob(input: { sha256: string; assetId: string }): Promise<boolean> {
    return deps.blobs.takeOver(input.sha256, input.assetId);
  };
}
