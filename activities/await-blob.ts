import { ApplicationFailure } from '@temporalio/activity';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { BlobStatus } from '../infra/db/schema';

export interface BlobOutcome {
  /** 'owned': the owner was deleted mid-processing and handed the blob to this asset, which must process it. */
  status: Exclude<BlobStatus, 'processing' | 'deleting'> | 'owned';
  reason: string | null;
}

/**
 * A duplicate waits for the asset that owns the blob to finish processing it. Each poll is an activity attempt,
 * retried with backoff, so waiting costs no workflow history.
 */
export function awaitBlobActivity(deps: { blobs: BlobRepository }) {
  return async function awaitBlob(input: { sha256: string; assetId: string }): Promise<BlobOutcome> {
    const blob = await deps.blobs.get(input.sha256);
    // 'deleting' has no references left, so an asset waiting on it no longer holds one either.
    if (!blob || blob.status === 'deleting')
      throw ApplicationFailure.nonRetryable(`blob ${input.sha256} does not exist`, 'MissingBlob');
    if (blob.status === 'processing' && blob.owner_asset_id === input.assetId) {
      return { status: 'owned', reason: null };
    }
    if (blob.status === 'processing') {
      throw ApplicationFailure.retryable(`blob ${input.sha256} is still being processed`, 'BlobProcessing');
    }
    return { status: blob.status, reason: blob.status_reason };
  };
}
