import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { BlobForCheck, IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { BucketRouter } from '../infra/adapters/bucket-router';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { IntegrityStatus } from '../infra/db/schema';
import { CHUNK_BYTES, chunkedSha256OfStream, differingRanges } from './hashing/hash';
import { keepBeating } from './heartbeat';

export interface IntegrityDeps {
  /** The primary store: a check must read the primary's bytes, never fail over. */
  store: ObjectStore;
  /** The storage tiers' stores, for blobs that moved out of the primary. */
  buckets?: BucketRouter;
  replica?: ObjectStore | undefined;
  integrity: IntegrityRepository;
  assets: AssetRepository;
  events: EventPublisher;
}

export interface IntegrityOutcome {
  sha256: string;
  /** 'skipped': the blob went away or stopped being ready since it was picked. */
  status: IntegrityStatus | 'skipped';
  detail: string | null;
}

/** The next blobs a scan run checks: not checked since the run began, least recently checked first. */
export function pickBlobsForIntegrityActivity(deps: { integrity: IntegrityRepository }) {
  return async function pickBlobsForIntegrity(input: {
    limit: number;
    checkedBefore: string;
    exclude: string[];
  }): Promise<string[]> {
    return deps.integrity.due(input.limit, new Date(input.checkedBefore), input.exclude);
  };
}

/**
 * Re-hashes a blob from the primary chunk by chunk against its manifest. Damage is repaired from a replica whose
 * bytes hash right; without one the blob stays corrupt and each asset on it fails, naming the damaged ranges.
 */
export function checkBlobIntegrityActivity(deps: IntegrityDeps) {
  return async function checkBlobIntegrity(input: {
    sha256: string;
    scanId: string;
  }): Promise<IntegrityOutcome> {
    const blob = await deps.integrity.blobForCheck(input.sha256);
    if (!blob) return { sha256: input.sha256, status: 'skipped', detail: null };

    const store = deps.buckets?.bucket(blob.bucket) ?? deps.store;
    const damage = await findDamage(store, blob);
    // A tier move switched the blob's bucket (and removed the old copy) while it was read: check it next run.
    if (damage !== null && (await deps.integrity.blobForCheck(input.sha256))?.bucket !== blob.bucket) {
      return { sha256: input.sha256, status: 'skipped', detail: null };
    }
    if (damage === null) {
      await deps.integrity.recordCheck(blob.sha256, 'ok', null);
      return { sha256: blob.sha256, status: 'ok', detail: null };
    }

    const repaired = await repairFromReplica(deps, store, blob);
    const detail = repaired
      ? `${damage} differed; repaired from the replica`
      : `${damage} differ; ${blob.replicaKey && deps.replica ? 'the replica is damaged too' : 'no replica'}`;
    const status: IntegrityStatus = repaired ? 'repaired' : 'corrupt';
    await deps.integrity.recordCheck(blob.sha256, status, detail);
    if (!repaired) await failAssets(deps, blob.sha256, input.scanId, detail);
    return { sha256: blob.sha256, status, detail };
  };
}

/** null when the object's bytes hash right; otherwise the damaged byte ranges, e.g. "bytes 0-8388607". */
async function findDamage(
  store: ObjectStore,
  blob: BlobForCheck,
  key = blob.objectKey,
): Promise<string | null> {
  const everything = `bytes 0-${Math.max(blob.sizeBytes - 1, 0)}`;
  const head = await store.head(key);
  if (!head) return `${everything} (object missing)`;
  const chunkBytes = blob.manifest?.chunkBytes ?? CHUNK_BYTES;
  const actual = await hashWithHeartbeats(store, key, chunkBytes, blob.sizeBytes);
  if (actual.sha256 === blob.sha256 && actual.bytes === blob.sizeBytes) return null;
  if (!blob.manifest) return `${everything} (no chunk manifest)`;
  const ranges = differingRanges(blob.manifest.chunkSha256, actual.chunkSha256, chunkBytes, blob.sizeBytes);
  const sized = actual.bytes === blob.sizeBytes ? '' : ` (size ${actual.bytes}, expected ${blob.sizeBytes})`;
  return (ranges.length > 0 ? ranges.join(', ') : everything) + sized;
}

async function hashWithHeartbeats(
  store: ObjectStore,
  key: string,
  chunkBytes: number,
  totalBytes: number,
): Promise<{ sha256: string; bytes: number; chunkSha256: string[] }> {
  // Only hashed chunks beat (no periodic beats), so a stalled read is retried at the heartbeat timeout.
  return keepBeating(
    async (beat) => {
      const body = await store.read(key);
      const onCancel = () => body.destroy();
      beat.signal.addEventListener('abort', onCancel);
      let nextBeat = chunkBytes;
      try {
        return await chunkedSha256OfStream(body, chunkBytes, (read) => {
          if (read < nextBeat) return;
          nextBeat += chunkBytes;
          beat.now({ key, bytesHashed: read, totalBytes });
        });
      } finally {
        beat.signal.removeEventListener('abort', onCancel);
      }
    },
    { everyMs: null },
  );
}

/** Copies a replica that hashes right over the blob's copy (primary or tier) and checks that again. */
async function repairFromReplica(
  deps: IntegrityDeps,
  store: ObjectStore,
  blob: BlobForCheck,
): Promise<boolean> {
  if (!deps.replica || !blob.replicaKey) return false;
  if ((await findDamage(deps.replica, blob, blob.replicaKey)) !== null) return false;
  await store.write(blob.objectKey, await deps.replica.read(blob.replicaKey));
  return (await findDamage(store, blob)) === null;
}

async function failAssets(
  deps: IntegrityDeps,
  sha256: string,
  scanId: string,
  detail: string,
): Promise<void> {
  for (const asset of await deps.integrity.assetsToFail(sha256)) {
    // One event per scan run, blob and asset: a retried activity records nothing twice.
    const eventId = `integrity/${scanId}/${sha256}/${asset.assetId}`;
    await deps.assets.recordTransition({
      assetId: asset.assetId,
      eventId,
      from: asset.status,
      to: 'failed',
      stage: 'integrity',
      reason: `integrity check: ${detail}`,
      details: { sha256 },
    });
    await deps.events.publish(eventId);
  }
}
