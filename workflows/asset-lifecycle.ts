import type { AssetLifecycleInput, AssetOutcome } from './definitions';
import { handleRequests } from './lifecycle/handlers';
import { openGates } from './lifecycle/gates';
import { cancellableByDelete, processContent, settle } from './lifecycle/processing';
import { liveUntilDeleted, publish } from './lifecycle/published-life';
import { startReleaseClock } from './lifecycle/release-clock';
import { newRunState } from './lifecycle/run-state';
import { deleteAsset, purge, stayInTrash } from './lifecycle/trash-retention';
import { expireUpload, uploadWindow } from './lifecycle/upload-window';
import { verifyAndDedup } from './lifecycle/verify-and-dedup';

/**
 * One asset's whole life, from the pre-signed upload to its end state. Each phase lives in workflows/lifecycle/ and
 * works on the run's state (run-state.ts); the signal and query handlers only note requests in it.
 */
export async function assetLifecycle(input: AssetLifecycleInput): Promise<AssetOutcome> {
  // Before any patch is asked: whether this run started on the current code (lifecycle/gates.ts).
  openGates();
  const run = newRunState(input);
  handleRequests(run);
  // Beside every phase: the asset's visibility changes at its scheduled instants, whatever it is doing then.
  startReleaseClock(run);

  // A run continued as new (its history grew long) starts in the published life, where the last run left it.
  if (!input.resume) {
    // 1. The upload window: the client uploads straight to object storage with the pre-signed URL.
    const upload = await uploadWindow(run);
    if (upload === 'deleted') return deleteAsset(run);
    if (upload === 'expired') return expireUpload(run);

    // 2-9. Verification, sniffing and dedup, then the content's processing, to the recorded outcome. A delete
    // cancels them wherever they are.
    const outcome = await cancellableByDelete(run, async () => {
      const claimed = await verifyAndDedup(run);
      if (!claimed.ok) return claimed.rejected;
      return settle(run, claimed, await processContent(run, claimed));
    });
    // Rejected and deleted assets have nothing left to keep.
    if (outcome.status === 'rejected' || outcome.status === 'deleted') return outcome;

    // 10. Delivery through the CDN.
    await publish(run, outcome);
  }

  // 11. Published: down the storage tiers while unread, until deleted (then restorable from the trash for a while)
  // or until its retention ends.
  for (;;) {
    if (!(await liveUntilDeleted(run))) return purge(run, `retention ended at ${input.retainUntil}`);
    if (!(await stayInTrash(run))) return purge(run, `purged: ${input.trashSeconds} s in the trash passed`);
  }
}
