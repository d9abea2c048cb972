import { Context } from '@temporalio/activity';
import type { BucketRouter } from '../infra/adapters/bucket-router';
import type { Tier, TierRepository } from '../infra/adapters/tier-repository';
import type { BlobRow } from '../infra/db/schema';
import { sha256OfObject } from './hashing/hash';
import { keepBeating, type Beat } from './heartbeat';

export interface TierDeps {
  tiers: TierRepository;
  buckets: BucketRouter;
}

const TIERS: readonly Tier[] = ['hot', 'warm', 'cold'];

/**
 * Moves a blob's bytes to another tier's bucket: copy, check the copy's SHA-256, switch the row, then delete the
 * source. Readers follow the row, so they see the old copy until the switch and the new one after it. Moving down
 * is refused while any asset on the blob (duplicates share it) was read within `idleSeconds`.
 *
 * An attempt may die anywhere (kill -9), and duplicates' workflows may move the same blob at the same time. So the
 * switch and the clean-up hold the blob's row: the switch only after checking, under the lock, that the copy is
 * still there; the clean-up removes whatever is at the blob's key outside the bucket the row names (a source left
 * by an attempt that died after its switch, a copy that lost the race) and unfinished multipart uploads at the key.
 */
export function moveBlobTierActivity(deps: TierDeps) {
  async function clearLeftovers(blob: BlobRow): Promise<void> {
    for (const tier of TIERS) {
      const store = deps.buckets.tier(tier);
      await store.abortMultipartUploads(blob.object_key);
      if (store.bucket !== blob.bucket) await store.delete(blob.object_key);
    }
  }

  const settle = (sha256: string) =>
    deps.tiers.withBlobLocked(sha256, async (blob) => {
      if (blob) await clearLeftovers(blob);
      return blob?.tier;
    });

  async function move(input: { sha256: string; to: Tier; idleSeconds: number }, beat: Beat) {
    const ctx = Context.current();
    const blob = await deps.tiers.blob(input.sha256);
    // Released meanwhile: nothing left to move.
    if (!blob) return { moved: false, tier: input.to };
    if (blob.tier === input.to) {
      // Already there. On a retry, most likely by our own earlier attempt, which may have died before the clean-up.
      const tier = (await settle(input.sha256)) ?? input.to;
      return { moved: ctx.info.attempt > 1 && tier === input.to, tier };
    }
    if (input.to !== 'hot' && (await deps.tiers.readWithin(input.sha256, input.idleSeconds))) {
      return { moved: false, tier: blob.tier };
    }

    const source = deps.buckets.bucket(blob.bucket);
    const target = deps.buckets.tier(input.to);
    const key = blob.object_key;
    await target.write(key, await source.read(key), { contentType: blob.mime_type });
    beat.now({ phase: 'copied' });
    const copy = await sha256OfObject(target, key, {
      onProgress: (bytes) => beat.now({ phase: 'verify', bytes }),
    });
    if (!copy) throw new Error(`copy of ${input.sha256} in ${target.bucket} vanished before it was checked`);
    if (copy.sha256 !== input.sha256) {
      await settle(input.sha256);
      throw new Error(`copy of ${input.sha256} in ${target.bucket} has SHA-256 ${copy.sha256}`);
    }

    const outcome = await deps.tiers.withBlobLocked(input.sha256, async (now, locked) => {
      if (!now) return { moved: false, tier: input.to };
      if ((await target.head(key))?.sizeBytes !== Number(blob.size_bytes)) {
        throw new Error(`copy of ${input.sha256} in ${target.bucket} vanished before the switch`);
      }
      const switched = await locked.switchTier(
        input.sha256,
        { tier: blob.tier, bucket: blob.bucket },
        { tier: input.to, bucket: target.bucket, objectKey: key },
      );
      // Not switched: another workflow on the same blob moved it first; its row is the truth.
      return { moved: switched, tier: switched ? input.to : now.tier };
    });
    // The source goes only once the switch is committed.
    await settle(input.sha256);
    return outcome;
  }

  return async function moveBlobTier(input: {
    sha256: string;
    to: Tier;
    idleSeconds: number;
  }): Promise<{ moved: boolean; tier: Tier }> {
    // Also between the copy's parts, which can take a while each.
    return keepBeating((beat) => move(input, beat));
  };
}
