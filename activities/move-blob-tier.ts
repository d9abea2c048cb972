import { Context } from '@temporalio/activity';
import type { BucketRouter } from '../shared/adapters/bucket-router';
import type { Tier, TierRepository } from '../shared/adapters/tier-repository';
import { sha256OfStream } from '../shared/hash';

export interface TierDeps {
  tiers: TierRepository;
  buckets: BucketRouter;
}

/**
 * Moves a blob's bytes to another tier's bucket: copy, check the copy's SHA-256, switch the row, then delete the
 * source. Readers follow the row, so they see the old copy until the switch and the new one after it. Moving down
 * is refused while any asset on the blob (duplicates share it) was read within `idleSeconds`.
 */
export function moveBlobTierActivity(deps: TierDeps) {
  return async function moveBlobTier(input: {
    sha256: string;
    to: Tier;
    idleSeconds: number;
  }): Promise<{ moved: boolean; tier: Tier }> {
    const blob = await deps.tiers.blob(input.sha256);
    // Released meanwhile: nothing left to move.
    if (!blob) return { moved: false, tier: input.to };
    if (blob.tier === input.to) return { moved: false, tier: blob.tier };
    if (input.to !== 'hot' && (await deps.tiers.readWithin(input.sha256, input.idleSeconds))) {
      return { moved: false, tier: blob.tier };
    }

    const ctx = Context.current();
    const source = deps.buckets.bucket(blob.bucket);
    const target = deps.buckets.tier(input.to);
    const key = blob.object_key;
    await target.write(key, await source.read(key), { contentType: blob.mime_type });
    ctx.heartbeat({ phase: 'copied' });
    const copy = await sha256OfStream(await target.read(key), (bytes) =>
      ctx.heartbeat({ phase: 'verify', bytes }),
    );
    if (copy.sha256 !== input.sha256) {
      await target.delete(key);
      throw new Error(`copy of ${input.sha256} in ${target.bucket} has SHA-256 ${copy.sha256}`);
    }

    const switched = await deps.tiers.switchTier(
      input.sha256,
      { tier: blob.tier, bucket: blob.bucket },
      { tier: input.to, bucket: target.bucket, objectKey: key },
    );
    if (!switched) {
      // Another workflow on the same blob moved it first; its row is the truth, and our copy may be its copy.
      const now = await deps.tiers.blob(input.sha256);
      return { moved: false, tier: now?.tier ?? input.to };
    }
    await source.delete(key);
    return { moved: true, tier: input.to };
  };
}
