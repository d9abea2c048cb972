import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { ListCursor, ListedObject, ObjectStore } from '../infra/adapters/object-store';
import type { SweepRepository } from '../infra/adapters/sweep-repository';
import { keepBeating } from './heartbeat';
import { blobKey, blobOfKey, quarantineKey, renditionsRoot, type SweptPrefix } from '../domain/object-keys';

export interface SweepDeps {
  store: ObjectStore;
  /** REPLICA_S3_BUCKET's store: swept for the copies no blob row accounts for any more. */
  replica?: ObjectStore | undefined;
  sweeps: SweepRepository;
  assets: AssetRepository;
  blobs: BlobRepository;
  events: EventPublisher;
}

export interface PageResult {
  scanned: number;
  next: ListCursor;
}

/** Which of a page of objects no database row accounts for, in the primary bucket or the replica. */
async function orphansAmong(
  deps: SweepDeps,
  prefix: SweptPrefix,
  objects: ListedObject[],
  inReplica: boolean,
): Promise<string[]> {
  const keys = objects.map((o) => o.key);
  if (prefix === 'uploads/') {
    // A processing asset still reads its upload until dedup moves it to the blob's address.
    const live = await deps.sweeps.uploadKeysOfAssets(deps.store.bucket, keys, ['pending', 'processing']);
    return keys.filter((k) => !live.has(k));
  }
  const shas = [...new Set(keys.flatMap((k) => blobOfKey(k) ?? []))];
  const blobs = await deps.sweeps.blobsByHash(shas);
  return keys.filter((key) => {
    const sha = blobOfKey(key);
    const blob = sha ? blobs.get(sha) : undefined;
    if (!sha || !blob) return true;
    // A replica copy counts once the claim recorded it (the grace period covers the copy before that).
    if (prefix === 'blobs/') return key !== (inReplica ? blob.replicaKey : blobKey(sha));
    if (prefix === 'quarantine/') return key !== quarantineKey(sha);
    // Renditions: only the published attempt counts; others are leftovers of retries or crashes.
    return !(
      key.startsWith(renditionsRoot(sha)) &&
      blob.renditionPrefix &&
      key.startsWith(blob.renditionPrefix)
    );
  });
}

/** One page of one prefix: deletes the orphans older than the grace period. */
export function sweepOrphanObjectsActivity(deps: SweepDeps) {
  return async function sweepOrphanObjects(input: {
    prefix: SweptPrefix;
    cursor: ListCursor;
    graceSeconds: number;
    pageSize: number;
    /** 'replica': the replica bucket's copies (nothing to do without one). */
    store?: 'replica';
  }): Promise<PageResult & { deleted: number }> {
    const inReplica = input.store === 'replica';
    const store = inReplica ? deps.replica : deps.store;
    if (!store) return { scanned: 0, deleted: 0, next: null };
    const cutoff = Date.now() - input.graceSeconds * 1000;
    const page = await store.listPage(input.prefix, input.cursor, input.pageSize);
    const old = page.objects.filter((o) => o.lastModified.getTime() <= cutoff);
    const orphans = await orphansAmong(deps, input.prefix, old, inReplica);
    // Each delete beats; no periodic beats, so a stuck store shows at the heartbeat timeout.
    await keepBeating(
      async (beat) => {
        for (const [i, key] of orphans.entries()) {
          await store.delete(key);
          beat.now({ deleted: i + 1 });
        }
      },
      { everyMs: null },
    );
    return { scanned: page.objects.length, deleted: orphans.length, next: page.next };
  };
}

/** One page of the bucket's unfinished multipart uploads: aborts those older than the limit with no pending asset. */
export function abortStaleMultipartActivity(deps: SweepDeps) {
  return async function abortStaleMultipart(input: {
    cursor: ListCursor;
    olderThanSeconds: number;
    pageSize: number;
  }): Promise<PageResult & { aborted: number }> {
    const cutoff = Date.now() - input.olderThanSeconds * 1000;
    const page = await deps.store.listMultipartUploadsPage('', input.cursor, input.pageSize);
    const old = page.uploads.filter((u) => u.initiated.getTime() <= cutoff);
    const pending = await deps.sweeps.uploadKeysOfAssets(
      deps.store.bucket,
      old.map((u) => u.key),
      ['pending'],
    );
    const stale = old.filter((u) => !pending.has(u.key));
    await keepBeating(
      async (beat) => {
        for (const [i, upload] of stale.entries()) {
          await deps.store.abortMultipartUpload(upload.key, upload.uploadId);
          beat.now({ aborted: i + 1 });
        }
      },
      { everyMs: null },
    );
    return { scanned: page.uploads.length, aborted: stale.length, next: page.next };
  };
}

/**
 * One page of ready blobs: a blob whose object is gone fails every ready asset on it, with the reason, and is
 * itself marked failed. Event ids come from the sweep and the asset, so a retried page records nothing twice.
 */
export function failMissingBlobsActivity(deps: SweepDeps) {
  return async function failMissingBlobs(input: {
    sweepId: string;
    cursor: ListCursor;
    pageSize: number;
  }): Promise<PageResult & { missing: string[] }> {
    const blobs = await deps.sweeps.readyBlobsAfter(deps.store.bucket, input.cursor, input.pageSize);
    const missing: string[] = [];
    // Each blob beats; no periodic beats, so a stuck store shows at the heartbeat timeout.
    await keepBeating(
      async (beat) => {
        for (const blob of blobs) {
          beat.now({ sha256: blob.sha256 });
          if (await deps.store.head(blob.object_key)) continue;
          const reason = `stored object ${blob.object_key} is missing`;
          for (const assetId of await deps.sweeps.readyAssetsOnBlob(blob.sha256)) {
            const eventId = `sweep/${input.sweepId}/${assetId}`;
            const recorded = await deps.assets.recordTransition({
              assetId,
              eventId,
              from: 'ready',
              to: 'failed',
              reason,
              details: { sha256: blob.sha256, objectKey: blob.object_key },
              stage: 'sweep',
            });
            if (recorded.subscribed) await deps.events.publish(eventId);
          }
          await deps.blobs.setStatus(blob.sha256, 'failed', reason);
          missing.push(blob.object_key);
        }
      },
      { everyMs: null },
    );
    const last = blobs.at(-1);
    return {
      scanned: blobs.length,
      missing,
      next: blobs.length === input.pageSize && last ? last.sha256 : null,
    };
  };
}
