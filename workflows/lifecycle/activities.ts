/**
 * The activities the asset workflow calls, grouped by what they act on: the asset's record, its upload, its blob,
 * the media work on the blob's content, and the CDN. Each keeps the timeouts and retries it always had; those
 * profiles are private here, so the phases read as what they do.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { IoActivities, MediaActivities } from '../../activities';
import type { MediaFamily } from '../../domain/media-types';
import { MEDIA_FAILURE, mediaTaskQueue, SCANNER_LOST } from '../definitions';
import {
  guardActivities,
  guardMedia,
  LOST_ATTEMPT_TYPES,
  POISON_GUARD_PATCH,
  type PoisonReport,
} from '../stage-guard';
import { gate } from './gates';

// Infrastructure errors (S3, Postgres or clamd away) are retried without limit: the asset waits, it is never lost.
// Bad input is not an error: activities report it as a result, or as a non-retryable MediaError failure.
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

// A worker killed under an activity, or a task lost while the Temporal server restarted, is noticed only when the
// activity times out: hence short timeouts on the pipeline's path. Database bookkeeping and small reads take
// milliseconds; the long activities (hashing, claiming, scanning, publishing, tier moves, the media stages)
// heartbeat every few seconds however long they take, so a short heartbeat timeout suits them.
const HEARTBEAT_TIMEOUT = '20s';
const remoteBookkeeping = proxyActivities<IoActivities>({ startToCloseTimeout: '20s', retry });
// Local activities run in the worker that holds the workflow, with no server round trip each. A failure beyond one
// quick retry means the database (or storage, or clamd) is away: later attempts wait on a server timer, as a remote
// activity's would, instead of holding the workflow task open through the outage.
const local = (startToCloseTimeout: Duration, retryPolicy: RetryPolicy = retry) =>
  proxyLocalActivities<IoActivities>({ startToCloseTimeout, retry: retryPolicy, localRetryThreshold: '1s' });
// Long I/O off and on the pipeline's path: remote, heartbeating, so a worker lost under it is noticed within 20 s.
const heartbeatingWith = (retryPolicy: RetryPolicy) =>
  proxyActivities<IoActivities>({
    startToCloseTimeout: '6h',
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: retryPolicy,
  });
// Bookkeeping (transitions, quota, sniffing the first bytes, copying facts) runs locally, which saved most of a
// photo's orchestration time. Runs recorded before this change replay with remote ones.
const localBookkeeping = local('20s');
const LOCAL_BOOKKEEPING_PATCH = 'local-bookkeeping';
// Small content's I/O (hashing, the scan, publishing, the CDN) takes well under a second: as local activities it
// saves a task, a workflow task and their events each, most of a photo's orchestration. Larger content keeps remote
// activities, whose heartbeats notice a lost worker within 20 s however long the work takes; a local one is noticed
// when its workflow task times out, and the task then runs again from its start, local activities and all.
export const LOCAL_IO_MAX_BYTES = 32 * 1024 * 1024;
const LOCAL_SMALL_IO_PATCH = 'local-small-io';
const localIo = local('1m');
// A scan may wait its turn for clamd (SCAN_CONCURRENCY) behind a flood of uploads, as long as a remote scan may: a
// timed-out wait would start over at the back of the line. The worker keeps its workflow task alive meanwhile.
const localScan = local('6h');
// Guarded scans: a scanner lost on the input comes back to the workflow, which counts it (stage-guard.ts).
const SCAN_GUARD_PATCH = 'scan-guard';
const scanLost = { ...retry, nonRetryableErrorTypes: [SCANNER_LOST] };
const localScanGuarded = local('6h', scanLost);
const heartbeating = heartbeatingWith(retry);
// Clean-up and delivery off the pipeline's path (discarding uploads, removing bytes, the CDN): they heartbeat too,
// so a worker lost under them is noticed as soon.
const storage = heartbeatingWith(retry);
const heartbeatingScanGuarded = heartbeatingWith(scanLost);
const waiting = proxyActivities<IoActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 1.5, maximumInterval: '15s' },
});

/**
 * Local or remote, decided at each call: gate() must run right before the activity it governs is scheduled, at
 * the same points as in the runs already recorded, or their replay would find its marker out of place.
 */
const bookkeeping = () => (gate(LOCAL_BOOKKEEPING_PATCH) ? localBookkeeping : remoteBookkeeping);
/**
 * The local profile for content of `sizeBytes` up to LOCAL_IO_MAX_BYTES, the remote one otherwise (default: remote
 * and heartbeating). Runs recorded before this change replay remote ones.
 */
const bySize = (sizeBytes: number, localProfile = localIo, remoteProfile = heartbeating) =>
  gate(LOCAL_SMALL_IO_PATCH) && sizeBytes <= LOCAL_IO_MAX_BYTES ? localProfile : remoteProfile;
type Arg<K extends keyof IoActivities> = Parameters<IoActivities[K]>[0];

/** The asset's own row and event history. */
export const assets = {
  recordTransition: (t: Arg<'recordTransition'>) => bookkeeping().recordTransition(t),
  checkQuota: (q: Arg<'checkQuota'>) => bookkeeping().checkQuota(q),
  copyMediaMetadata: (a: Arg<'copyMediaMetadata'>) => bookkeeping().copyMediaMetadata(a),
  tombstone: (a: Arg<'tombstoneAsset'>) => bookkeeping().tombstoneAsset(a),
};

/** The object the client uploaded, before its bytes become a blob. */
export const upload = {
  verify: (u: Arg<'verifyUpload'>) => bySize(u.declaredSizeBytes).verifyUpload(u),
  sniff: (u: Arg<'sniffUpload'>) => bookkeeping().sniffUpload(u),
  discard: storage.discardUpload,
};

/** The content-addressed blob: one per distinct content, shared by every asset that uploaded it. */
export const blobs = {
  // Always remote: the claim moves the upload to its content address, after which verifying and sniffing the upload
  // could not be done again. Scheduling it ends the workflow task, which records the local verification before it;
  // a task lost with local activities in it is run again from its start, and must find the same world.
  claim: heartbeating.claimBlob,
  /** A duplicate waits here for the blob's owner to finish with it. */
  awaitOriginal: waiting.awaitBlob,
  /** sizeBytes: the renditions' together, what a replica is sent. */
  publishRenditions: (b: Arg<'publishRenditions'>) =>
    bySize(b.renditions.reduce((sum, r) => sum + r.sizeBytes, 0)).publishRenditions(b),
  fail: (b: Arg<'failBlob'>) => bookkeeping().failBlob(b),
  takeOver: (b: Arg<'takeOverBlob'>) => bookkeeping().takeOverBlob(b),
  release: storage.releaseBlob,
  moveTier: heartbeating.moveBlobTier,
};

export const cdn = {
  /** sizeBytes: the asset's; the renditions it warms are a few small ones. */
  register: (a: Arg<'registerWithCdn'>, sizeBytes: number) =>
    bySize(sizeBytes, localIo, storage).registerWithCdn(a),
  purge: storage.purgeCdn,
};

/** The release clock's work: applying what is due of a schedule, and warming the edge before a release. */
export const release = {
  advance: remoteBookkeeping.advanceRelease,
  warm: storage.warmRelease,
};

/**
 * The work on a blob's content: the virus scan on the workflow's queue, the media stages on the media queue. Every
 * call on content goes through here, so a guard around them wraps them all in one place.
 */
export function mediaWork(family: MediaFamily, assetId: string) {
  // Guarded runs hand a lost attempt (a worker killed or hung under it) back to the workflow, which counts them and
  // ends a stage that keeps losing its worker (stage-guard.ts); errors are still retried by the server.
  const guarded = gate(POISON_GUARD_PATCH);
  // Each family is a fairness key on the media queue: with a backlog, families take turns (docker-compose and the
  // devstack enable fairness in the server), so a flood of photos does not hold every clip back, or the reverse.
  const proxied = proxyActivities<MediaActivities>({
    taskQueue: mediaTaskQueue(workflowInfo().taskQueue),
    priority: { fairnessKey: family },
    startToCloseTimeout: '6h',
    // Every media activity heartbeats at least every 5 s (activities/heartbeat.ts).
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    retry: guarded ? { ...retry, nonRetryableErrorTypes: LOST_ATTEMPT_TYPES } : retry,
    // A delete waits until ffmpeg is really gone, so nothing uploads renditions for a blob being removed.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const quarantine = (report: PoisonReport) => bookkeeping().recordDeadLetter(report);
  const media = guarded ? guardMedia(proxied, assetId, MEDIA_FAILURE, quarantine) : proxied;
  // A scanner that dies on an input (clamd crashing on a crafted file) would otherwise be retried for ever, and take
  // every other scan down with it each time.
  const scanGuarded = guarded && gate(SCAN_GUARD_PATCH);
  const scanBlob = (b: Arg<'scanBlob'>, sizeBytes: number) =>
    scanGuarded
      ? guardActivities(
          { scanBlob: bySize(sizeBytes, localScanGuarded, heartbeatingScanGuarded).scanBlob },
          { assetId, stages: { scanBlob: 'scan' }, failureType: MEDIA_FAILURE, quarantine },
        ).scanBlob(b)
      : bySize(sizeBytes, localScan).scanBlob(b);
  return {
    scan: scanBlob,
    extractMetadata: media.extractMetadata,
    render: media.renderRenditions,
    validate: media.validateRenditions,
  };
}
