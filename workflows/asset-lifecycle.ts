import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AssetStatus } from '../shared/asset-status';
import type { MediaFamily } from '../shared/media-types';
import type { IoActivities, MediaActivities } from '../activities';
import {
  accessedSignal,
  assetStateQuery,
  AssetStatusAttribute,
  deleteRequestedSignal,
  mediaTaskQueue,
  restoreRequestedSignal,
  retryRequestedSignal,
  uploadCompletedSignal,
  type AssetLifecycleInput,
  type AssetOutcome,
  type AssetState,
  type Stage,
  type Tier,
  TierAttribute,
  type UploadCompleted,
} from './definitions';
import { guardMedia, LOST_ATTEMPT_TYPES, POISON_GUARD_PATCH } from './stage-guard';

// Infrastructure errors (S3, Postgres or clamd away) are retried without limit: the asset waits, it is never lost.
// Bad input is not an error: activities report it as a result, or as a non-retryable MediaError failure.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;
const MEDIA_FAILURE = 'MediaError';
const MEDIA_REJECTED = 'MediaRejected';

// A worker killed under an activity, or a task lost while the Temporal server restarted, is noticed only when the
// activity times out: hence short timeouts on the pipeline's path. Database bookkeeping and small reads take
// milliseconds; the long activities (hashing, claiming, scanning, publishing, tier moves, the media stages)
// heartbeat every few seconds however long they take, so a short heartbeat timeout suits them.
const HEARTBEAT_TIMEOUT = '20s';
const remoteBookkeeping = proxyActivities<IoActivities>({ startToCloseTimeout: '20s', retry });
// Bookkeeping (transitions, quota, sniffing the first bytes, copying facts) runs as local activities: in the
// worker that holds the workflow, with no server round trip each, which was most of a photo's orchestration
// time. Runs recorded before this change replay with remote ones.
const localBookkeeping = proxyLocalActivities<IoActivities>({
  startToCloseTimeout: '20s',
  retry,
  // A failure beyond one quick retry means the database is away: later attempts wait on a server timer, as a
  // remote activity's would, instead of holding the workflow task open through the outage.
  localRetryThreshold: '1s',
});
const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';
const heartbeating = proxyActivities<IoActivities>({
  startToCloseTimeout: '6h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry,
});
// Clean-up and delivery off the pipeline's path (discarding uploads, removing bytes, the CDN): they heartbeat too,
// so a worker lost under them is noticed as soon.
const storage = proxyActivities<IoActivities>({
  startToCloseTimeout: '6h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry,
});
const waiting = proxyActivities<IoActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 1.5, maximumInterval: '15s' },
});

class Deleted extends Error {}
/** Output outside its bounds: handled like a media failure of the stage named, so a retry renders again. */
class OutputRejected extends Error {
  constructor(
    message: string,
    readonly stage: Stage,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}
class Rejected extends Error {
  constructor(
    message: string,
    readonly stage: Stage,
  ) {
    super(message);
  }
}

/** One asset's whole life, from the pre-signed upload to its end state. */
export async function assetLifecycle(input: AssetLifecycleInput): Promise<AssetOutcome> {
  // Each family is a fairness key on the media queue: with a backlog, families take turns (docker-compose and the
  // devstack enable fairness in the server), so a flood of photos does not hold every clip back, or the reverse.
  const mediaFor = (family: MediaFamily, guarded = false) =>
    proxyActivities<MediaActivities>({
      taskQueue: mediaTaskQueue(workflowInfo().taskQueue),
      priority: { fairnessKey: family },
      startToCloseTimeout: '6h',
      // Every media activity heartbeats at least every 5 s (activities/media/heartbeat.ts).
      heartbeatTimeout: HEARTBEAT_TIMEOUT,
      retry: guarded ? { ...retry, nonRetryableErrorTypes: LOST_ATTEMPT_TYPES } : retry,
      // A delete waits until ffmpeg is really gone, so nothing uploads renditions for a blob being removed.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    });
  const bookkeeping = () => (patched(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : remoteBookkeeping);
  const state: AssetState = { status: 'pending', stage: 'awaiting-upload', percent: null, reason: null };
  let completion: UploadCompleted | undefined;
  let deletion: { reason: string } | undefined;
  let retryRequested = false;
  let restoreRequested = false;
  let settling = false;
  let transitions = 0;
  let sha256: string | undefined;
  const hotSeconds = input.hotSeconds ?? 30 * 86_400;
  const coldSeconds = input.coldSeconds ?? 90 * 86_400;
  let tier: Tier = input.resume?.tier ?? 'hot';
  let lastAccessMs = input.resume?.lastAccessMs ?? Date.now();
  let accessedPending = false;
  const processing = new CancellationScope();

  setHandler(assetStateQuery, () => state);
  setHandler(uploadCompletedSignal, (signal) => {
    // The API and S3's event notification may both report the same upload; the first one counts.
    completion ??= signal;
  });
  setHandler(deleteRequestedSignal, (signal) => {
    deletion ??= signal;
    // Work under way is cancelled; once the outcome is being recorded, the asset is settled and goes to the trash.
    if (!settling) processing.cancel();
  });
  setHandler(accessedSignal, () => {
    accessedPending = true;
  });
  setHandler(retryRequestedSignal, () => {
    retryRequested = true;
  });
  setHandler(restoreRequestedSignal, () => {
    restoreRequested = state.stage === 'trash';
  });

  const enter = (stage: Stage) => {
    state.stage = stage;
    state.percent = null;
  };

  const record = async (
    to: AssetStatus,
    reason: string,
    details: Record<string, unknown> = {},
    extra: { checksumSha256?: string; stage?: Stage } = {},
  ): Promise<AssetOutcome> => {
    transitions += 1;
    const eventId = `${workflowInfo().workflowId}/${workflowInfo().runId}/${transitions}`;
    await bookkeeping().recordTransition({
      assetId: input.assetId,
      eventId,
      from: state.status,
      to,
      reason,
      details,
      checksumSha256: extra.checksumSha256,
      stage: extra.stage ?? state.stage,
    });
    if (to !== state.status) {
      state.status = to;
      upsertSearchAttributes([{ key: AssetStatusAttribute, value: to }]);
    }
    state.reason = reason;
    log.info('asset event', { assetId: input.assetId, to, reason });
    return { status: to, reason };
  };

  /**
   * Runs one pipeline stage. Corrupt or unsupported media fails the asset with the stage and reason; the
   * asset then waits for an operator's retry, which runs the same stage again, or for its deletion.
   */
  const stage = async <T>(
    name: Stage,
    work: () => Promise<T>,
    onFailure?: (reason: string) => Promise<void>,
  ) => {
    for (;;) {
      enter(name);
      try {
        return await work();
      } catch (err) {
        const failure = err instanceof ActivityFailure ? err.cause : err;
        if (failure instanceof ApplicationFailure && failure.type === MEDIA_REJECTED) {
          throw new Rejected(`${name}: ${failure.message}`, name);
        }
        let failed: { stage: Stage; reason: string; details: unknown };
        if (err instanceof OutputRejected) {
          failed = { stage: err.stage, reason: `${err.stage} failed: ${err.message}`, details: err.details };
        } else if (failure instanceof ApplicationFailure && failure.type === MEDIA_FAILURE) {
          failed = {
            stage: name,
            reason: `${name} failed: ${failure.message}`,
            details: failure.details?.[0] ?? {},
          };
        } else {
          throw err;
        }
        await onFailure?.(failed.reason);
        enter('failed');
        await record('failed', failed.reason, { details: failed.details }, { stage: failed.stage });
        await condition(() => retryRequested || deletion !== undefined);
        if (deletion) throw new Deleted();
        retryRequested = false;
        if (sha256) await bookkeeping().takeOverBlob({ sha256, assetId: input.assetId });
        await record('processing', `retry of ${failed.stage} requested by an operator`, {}, { stage: name });
      }
    }
  };

  /** Bad input before it became content: the upload goes, the reason stays. */
  const reject = async (reason: string, details: Record<string, unknown>, stage: Stage) => {
    await storage.discardUpload({ objectKey: input.objectKey });
    enter('done');
    return record('rejected', reason, details, { stage });
  };

  const deleteAsset = async (): Promise<AssetOutcome> =>
    CancellationScope.nonCancellable(async () => {
      enter('deleting');
      await storage.discardUpload({ objectKey: input.objectKey });
      if (sha256) await storage.releaseBlob({ assetId: input.assetId, sha256 });
      // Edge copies of a deleted asset must not outlive it.
      await storage.purgeCdn({ assetId: input.assetId });
      await bookkeeping().tombstoneAsset({ assetId: input.assetId });
      enter('done');
      return record('deleted', deletion?.reason ?? 'deleted');
    });

  /** Scan, inspect, render and check a blob this asset is responsible for; returns the blob's outcome. */
  const processBlob = async (
    blob: { sha256: string; blobKey: string },
    sizeBytes: number,
    family: MediaFamily,
  ) => {
    const failBlob = (reason: string) => bookkeeping().failBlob({ sha256: blob.sha256, reason });
    const media = patched(POISON_GUARD_PATCH)
      ? guardMedia(mediaFor(family, true), input.assetId, MEDIA_FAILURE, bookkeeping().recordDeadLetter)
      : mediaFor(family);
    const ref = { sha256: blob.sha256, blobKey: blob.blobKey, sizeBytes };

    const scan = await stage('scan', () => heartbeating.scanBlob(blob), failBlob);
    if (scan.verdict === 'infected')
      return { status: 'quarantined' as const, reason: `virus found: ${scan.signature}` };
    await record('processing', `scan: ${scan.verdict}`, { ...scan }, { stage: 'scan' });

    const info = await stage('metadata', () => media.extractMetadata({ ...ref, family }), failBlob);
    await record('processing', `metadata: ${info.kind}`, { ...info }, { stage: 'metadata' });

    // Validation failing sends a retry back to rendering: the outputs were the problem, not the check.
    const rendered = await stage(
      'renditions',
      async () => {
        const candidate = await media.renderRenditions({ ...ref, info });
        enter('validate');
        const report = await media.validateRenditions({ ...ref, info, ...candidate });
        if (!report.ok)
          throw new OutputRejected(report.reason ?? 'out of bounds', 'validate', report.measurements);
        await record('processing', 'renditions validated', report.measurements, { stage: 'validate' });
        return candidate;
      },
      failBlob,
    );
    await stage('publish', () => heartbeating.publishRenditions({ sha256: blob.sha256, ...rendered }));
    return { status: 'ready' as const, reason: `${rendered.renditions.length} renditions published` };
  };

  if (input.resume) {
    state.status = input.resume.status;
    sha256 = input.resume.sha256 ?? undefined;
    enter('done');
    return live();
  }

  // 1. Pending: the client uploads straight to object storage with the pre-signed URL. A run started with its first
  // task delayed until the URL expires wakes early only for a completion or a delete (both signal-with-start).
  const settled = () => completion !== undefined || deletion !== undefined;
  const openMs = input.uploadExpiresAt
    ? Date.parse(input.uploadExpiresAt) - Date.now()
    : input.uploadTtlSeconds * 1000;
  const uploaded = openMs > 0 ? await condition(settled, openMs) : settled();
  if (deletion) return deleteAsset();
  if (!uploaded) {
    await storage.discardUpload({ objectKey: input.objectKey });
    enter('done');
    return record('expired', `upload not completed within ${input.uploadTtlSeconds} s`);
  }
  await record('processing', `upload completed (reported by ${completion!.source})`);

  let outcome: AssetOutcome;
  try {
    outcome = await processing.run(async () => {
      // 2. Verification: the bytes in storage must be the bytes the client declared.
      enter('verify');
      const verified = await heartbeating.verifyUpload({
        objectKey: input.objectKey,
        declaredSizeBytes: input.declaredSizeBytes,
        declaredChecksumSha256: input.declaredChecksumSha256,
      });
      if (!verified.ok) return reject(verified.reason, verified.details, 'verify');
      const quota = await bookkeeping().checkQuota({ assetId: input.assetId, sizeBytes: verified.sizeBytes });
      if (!quota.ok) return reject(quota.reason, {}, 'verify');
      await record(
        'processing',
        'size and SHA-256 verified',
        { sha256: verified.sha256 },
        {
          checksumSha256: verified.sha256,
          stage: 'verify',
        },
      );

      // 3. Sniffing: the type comes from the bytes, and must be allowed and agree with the declaration.
      enter('sniff');
      const sniffed = await bookkeeping().sniffUpload({
        assetId: input.assetId,
        objectKey: input.objectKey,
        declaredContentType: input.declaredContentType,
      });
      if (!sniffed.ok) return reject(sniffed.reason, { detected: sniffed.detected }, 'sniff');

      // 4. Dedup: the same bytes are stored and processed once, whoever uploads them.
      enter('dedup');
      const blob = await heartbeating.claimBlob({
        assetId: input.assetId,
        sha256: verified.sha256,
        sizeBytes: verified.sizeBytes,
        mimeType: sniffed.mimeType,
        uploadKey: input.objectKey,
      });
      sha256 = blob.sha256;
      await record('processing', blob.role === 'owner' ? 'new content' : 'duplicate of stored content', {
        sha256: blob.sha256,
        role: blob.role,
      });

      // 5-8. The blob's owner scans, inspects, renders and validates; a duplicate waits for that outcome.
      let result: { status: 'ready' | 'quarantined' | 'failed'; reason: string };
      if (blob.role === 'owner') {
        result = await processBlob(blob, verified.sizeBytes, sniffed.family);
      } else {
        enter('await-original');
        const found = await waiting.awaitBlob({ sha256: blob.sha256, assetId: input.assetId });
        result =
          found.status === 'owned'
            ? await processBlob(blob, verified.sizeBytes, sniffed.family)
            : { status: found.status, reason: found.reason ?? `stored content is ${found.status}` };
      }

      // 9. The end state, with the blob's facts copied onto the asset.
      settling = true;
      enter('done');
      if (result.status === 'ready') {
        await bookkeeping().copyMediaMetadata({ assetId: input.assetId, sha256: blob.sha256 });
      }
      return record(result.status, result.reason, { sha256: blob.sha256 });
    });
  } catch (err) {
    // Whatever the cancelled work threw on its way out, a requested delete wins.
    if (err instanceof Deleted || deletion) return deleteAsset();
    if (!(err instanceof Rejected)) throw err;
    // Refused by policy (a decompression bomb): the bytes are of no use to anyone, so they go.
    await bookkeeping().failBlob({ sha256: sha256!, reason: err.message });
    await storage.releaseBlob({ assetId: input.assetId, sha256: sha256! });
    enter('done');
    return record('rejected', err.message, {}, { stage: err.stage });
  }

  // Rejected assets have nothing left to keep.
  if (outcome.status === 'rejected') {
    // Set by the signal handler meanwhile, which the type checker cannot see.
    const requested = deletion as { reason: string } | undefined;
    return requested ? record('deleted', requested.reason, {}, { stage: 'done' }) : outcome;
  }
  // 10. Delivery: the edge learns the asset's URLs and warms the ones clients fetch first.
  if (outcome.status === 'ready') await storage.registerWithCdn({ assetId: input.assetId });

  lastAccessMs = Date.now();
  return live();

  // 11. Its life after processing: until deleted (then restorable from the trash for a while), or until its
  // retention ends. Meanwhile a ready asset's blob moves down the storage tiers while nobody reads it.
  async function live(): Promise<AssetOutcome> {
    for (;;) {
      const retentionMs = input.retainUntil
        ? Math.max(0, Date.parse(input.retainUntil) - Date.now())
        : undefined;
      // Runs recorded before tiering existed wait for the deletion or the retention alone.
      const tiering = state.status === 'ready' && sha256 !== undefined && patched('tiering');
      const deleted = tiering
        ? await tierUntilDeleted(retentionMs)
        : retentionMs === undefined
          ? (await condition(() => deletion !== undefined), true)
          : await condition(() => deletion !== undefined, retentionMs);
      if (!deleted) {
        deletion = { reason: `retention ended at ${input.retainUntil}` };
        return deleteAsset();
      }

      const before = state.status;
      const purgeAt = new Date(Date.now() + input.trashSeconds * 1000).toISOString();
      enter('trash');
      await storage.purgeCdn({ assetId: input.assetId });
      await record('deleted', `${deletion!.reason}; in the trash until ${purgeAt}`, {
        purgeAt,
        trashedFrom: before,
      });
      const restored = await condition(() => restoreRequested, input.trashSeconds * 1000);
      if (!restored) {
        deletion = { reason: `purged: ${input.trashSeconds} s in the trash passed` };
        return deleteAsset();
      }
      restoreRequested = false;
      deletion = undefined;
      enter('done');
      await record(before, 'restored from the trash');
      if (before === 'ready') await storage.registerWithCdn({ assetId: input.assetId });
    }
  }

  /**
   * Moves the blob down a tier after each idle window and back to hot on a read; returns true when the asset is
   * deleted, false when its retention (retentionMs from now) ends first.
   */
  async function tierUntilDeleted(retentionMs: number | undefined): Promise<boolean> {
    const retentionEndsAt = retentionMs === undefined ? undefined : Date.now() + retentionMs;
    // From the start, so `Tier = "hot"` finds the assets that never moved.
    upsertSearchAttributes([{ key: TierAttribute, value: tier }]);
    for (;;) {
      if (deletion) return true;
      if (accessedPending) {
        accessedPending = false;
        lastAccessMs = Date.now();
        if (tier !== 'hot') await moveTier('hot', 0, `read while ${tier}`);
        continue;
      }
      if (workflowInfo().continueAsNewSuggested && startDelayOver()) {
        await continueAsNew<typeof assetLifecycle>({
          ...input,
          resume: { status: state.status, tier, sha256: sha256 ?? null, lastAccessMs },
        });
      }
      const idleSeconds = tier === 'hot' ? hotSeconds : tier === 'warm' ? coldSeconds : undefined;
      const moveAt = idleSeconds === undefined ? undefined : lastAccessMs + idleSeconds * 1000;
      const wakeAt = Math.min(moveAt ?? Infinity, retentionEndsAt ?? Infinity);
      const woken =
        wakeAt === Infinity
          ? (await condition(() => deletion !== undefined || accessedPending), true)
          : await condition(
              () => deletion !== undefined || accessedPending,
              Math.max(1, wakeAt - Date.now()),
            );
      if (woken) continue;
      if (retentionEndsAt !== undefined && Date.now() >= retentionEndsAt) return false;
      if (moveAt !== undefined && Date.now() >= moveAt) {
        await moveTier(tier === 'hot' ? 'warm' : 'cold', idleSeconds!, `not read for ${idleSeconds} s`);
      }
    }
  }

  /**
   * Temporal 1.29 gives a run continued before its start delay would have ended the rest of that delay as a backoff
   * (temporalio/temporal#11839, fixed later), and a plain signal does not end it: a read or a delete would wait.
   * Before the upload URL's expiry the history is short anyway, so the run waits until then.
   */
  function startDelayOver(): boolean {
    return !input.uploadExpiresAt || Date.now() > Date.parse(input.uploadExpiresAt) + 1000;
  }

  async function moveTier(to: Tier, idleSeconds: number, why: string): Promise<void> {
    const from = tier;
    const moved = await heartbeating.moveBlobTier({ sha256: sha256!, to, idleSeconds });
    tier = moved.tier;
    upsertSearchAttributes([{ key: TierAttribute, value: tier }]);
    // Not moved: another asset on the same blob was read meanwhile, so the idle window starts over.
    if (!moved.moved) lastAccessMs = Date.now();
    if (!moved.moved) return;
    const previous = state.stage;
    state.stage = 'tier';
    await record(state.status, `moved from ${from} to ${to}: ${why}`, { from, to }, { stage: 'tier' });
    state.stage = previous;
  }
}
