import { condition, continueAsNew, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { assetLifecycle } from '../asset-lifecycle';
import { TierAttribute, type AssetOutcome, type Tier } from '../definitions';
import { blobs, cdn } from './activities';
import { gate } from './gates';
import { record, type RunState } from './run-state';

/** Delivery: the edge learns a ready asset's URLs and warms the ones clients fetch first. */
export async function publish(run: RunState, outcome: AssetOutcome): Promise<void> {
  if (outcome.status === 'ready')
    await cdn.register({ assetId: run.input.assetId }, run.input.declaredSizeBytes);
  // The first idle window counts from here.
  run.lastAccessMs = Date.now();
}

/**
 * The asset's life after processing, until it is deleted (true) or its retention ends (false). Meanwhile a ready
 * asset's blob moves down the storage tiers while nobody reads it.
 */
export async function liveUntilDeleted(run: RunState): Promise<boolean> {
  const { input, requests } = run;
  const retentionMs = input.retainUntil ? Math.max(0, Date.parse(input.retainUntil) - Date.now()) : undefined;
  // Runs recorded before tiering existed wait for the deletion or the retention alone.
  const tiering = run.asset.status === 'ready' && run.sha256 !== undefined && gate('tiering');
  if (tiering) return tierUntilDeleted(run, retentionMs);
  if (retentionMs === undefined) {
    await condition(() => requests.deletion !== undefined);
    return true;
  }
  return condition(() => requests.deletion !== undefined, retentionMs);
}

/**
 * Moves the blob down a tier after each idle window and back to hot on a read; returns true when the asset is
 * deleted, false when its retention (retentionMs from now) ends first.
 */
async function tierUntilDeleted(run: RunState, retentionMs: number | undefined): Promise<boolean> {
  const { input, requests } = run;
  const hotSeconds = input.hotSeconds ?? 30 * 86_400;
  const coldSeconds = input.coldSeconds ?? 90 * 86_400;
  const retentionEndsAt = retentionMs === undefined ? undefined : Date.now() + retentionMs;
  // From the start, so `Tier = "hot"` finds the assets that never moved.
  upsertSearchAttributes([{ key: TierAttribute, value: run.tier }]);
  for (;;) {
    if (requests.deletion) return true;
    if (requests.accessed) {
      requests.accessed = false;
      // A read reported after the blob moved but made before it (a flush comes up to its interval late) says
      // nothing about the blob in its new tier; only a read made since the move brings it back.
      if (requests.accessedAtMs < run.tierMovedMs && gate('reads-by-their-time')) continue;
      run.lastAccessMs = Date.now();
      if (run.tier !== 'hot') await moveTier(run, 'hot', 0, `read while ${run.tier}`);
      continue;
    }
    if (workflowInfo().continueAsNewSuggested && startDelayOver(run)) {
      await continueAsNew<typeof assetLifecycle>({
        ...input,
        release: run.release,
        resume: {
          status: run.asset.status,
          tier: run.tier,
          sha256: run.sha256 ?? null,
          lastAccessMs: run.lastAccessMs,
          tierMovedMs: run.tierMovedMs,
        },
      });
    }
    const idleSeconds = run.tier === 'hot' ? hotSeconds : run.tier === 'warm' ? coldSeconds : undefined;
    const moveAt = idleSeconds === undefined ? undefined : run.lastAccessMs + idleSeconds * 1000;
    const wakeAt = Math.min(moveAt ?? Infinity, retentionEndsAt ?? Infinity);
    const woken =
      wakeAt === Infinity
        ? (await condition(() => requests.deletion !== undefined || requests.accessed), true)
        : await condition(
            () => requests.deletion !== undefined || requests.accessed,
            Math.max(1, wakeAt - Date.now()),
          );
    if (woken) continue;
    if (retentionEndsAt !== undefined && Date.now() >= retentionEndsAt) return false;
    if (moveAt !== undefined && Date.now() >= moveAt) {
      await moveTier(
        run,
        run.tier === 'hot' ? 'warm' : 'cold',
        idleSeconds!,
        `not read for ${idleSeconds} s`,
      );
    }
  }
}

/**
 * Temporal 1.29 gives a run continued before its start delay would have ended the rest of that delay as a backoff
 * (temporalio/temporal#11839, fixed later), and a plain signal does not end it: a read or a delete would wait.
 * Before the upload URL's expiry the history is short anyway, so the run waits until then.
 */
function startDelayOver(run: RunState): boolean {
  const expiresAt = run.input.uploadExpiresAt;
  return !expiresAt || Date.now() > Date.parse(expiresAt) + 1000;
}

async function moveTier(run: RunState, to: Tier, idleSeconds: number, why: string): Promise<void> {
  const from = run.tier;
  const moved = await blobs.moveTier({ sha256: run.sha256!, to, idleSeconds });
  run.tier = moved.tier;
  upsertSearchAttributes([{ key: TierAttribute, value: run.tier }]);
  // Not moved: another asset on the same blob was read meanwhile, so the idle window starts over.
  if (!moved.moved) {
    run.lastAccessMs = Date.now();
    return;
  }
  run.tierMovedMs = Date.now();
  // A move is an event of the tiering, whatever the asset was doing: its stage is back to that afterwards.
  const previous = run.asset.stage;
  run.asset.stage = 'tier';
  await record(run, run.asset.status, `moved from ${from} to ${to}: ${why}`, { from, to }, { stage: 'tier' });
  run.asset.stage = previous;
}
