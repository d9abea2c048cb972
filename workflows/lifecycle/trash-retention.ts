import { CancellationScope, condition } from '@temporalio/workflow';
import type { AssetOutcome } from '../definitions';
import { assets, blobs, cdn, upload } from './activities';
import { enter, record, type RunState } from './run-state';

/**
 * A deleted asset waits in the trash, restorable for trashSeconds; returns true when it was restored (back to the
 * state it was deleted in), false when its time ran out.
 */
export async function stayInTrash(run: RunState): Promise<boolean> {
  const { input, requests } = run;
  const before = run.asset.status;
  const purgeAt = new Date(Date.now() + input.trashSeconds * 1000).toISOString();
  enter(run, 'trash');
  // The edge stops serving it at once; its bytes stay until the purge.
  await cdn.purge({ assetId: input.assetId });
  await record(run, 'deleted', `${requests.deletion!.reason}; in the trash until ${purgeAt}`, {
    purgeAt,
    trashedFrom: before,
  });
  const restored = await condition(() => requests.restore, input.trashSeconds * 1000);
  if (!restored) return false;
  requests.restore = false;
  requests.deletion = undefined;
  enter(run, 'done');
  await record(run, before, 'restored from the trash');
  if (before === 'ready') await cdn.register({ assetId: input.assetId }, input.declaredSizeBytes);
  return true;
}

/** The end of the asset when its trash stay or its retention is over, for the reason given. */
export function purge(run: RunState, reason: string): Promise<AssetOutcome> {
  run.requests.deletion = { reason };
  return deleteAsset(run);
}

/** Removes the asset for good: its upload, its reference on the blob, its edge copies, its row's content. */
export function deleteAsset(run: RunState): Promise<AssetOutcome> {
  const { assetId, objectKey } = run.input;
  // Started, it runs to the end: a half-deleted asset would hold bytes nobody can reach.
  return CancellationScope.nonCancellable(async () => {
    enter(run, 'deleting');
    await upload.discard({ objectKey });
    if (run.sha256) await blobs.release({ assetId, sha256: run.sha256 });
    // Edge copies of a deleted asset must not outlive it.
    await cdn.purge({ assetId });
    await assets.tombstone({ assetId });
    enter(run, 'done');
    return record(run, 'deleted', run.requests.deletion?.reason ?? 'deleted');
  });
}
