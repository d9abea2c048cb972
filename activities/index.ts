import type { AssetRepository } from '../infra/adapters/asset-repository';
import type { BlobRepository } from '../infra/adapters/blob-repository';
import type { DeadLetterRepository } from '../infra/adapters/dead-letter-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { QuotaRepository } from '../infra/adapters/quota-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { Scanner } from '../infra/adapters/scanner';
import type { Slots } from './slots';
import type { SweepRepository } from '../infra/adapters/sweep-repository';
import { awaitBlobActivity } from './await-blob';
import { purgeCdnActivity, registerWithCdnActivity, type CdnDeps } from './cdn';
import { failBlobActivity, takeOverBlobActivity } from './blob-status';
import { claimBlobActivity } from './claim-blob';
import { checkBlobIntegrityActivity, pickBlobsForIntegrityActivity } from './integrity';
import { checkQuotaActivity } from './check-quota';
import { discardUploadActivity } from './discard-upload';
import {
  abortStaleMultipartActivity,
  failMissingBlobsActivity,
  sweepOrphanObjectsActivity,
} from './orphan-sweep';
import { copyMediaMetadataActivity } from './finish-asset';
import { publishRenditionsActivity } from './publish-renditions';
import { recordTransitionActivity } from './record-transition';
import { advanceReleaseActivity, warmReleaseActivity, type ReleaseDeps } from './release';
import { recordDeadLetterActivity } from './record-dead-letter';
import { releaseBlobActivity } from './release-blob';
import { scanBlobActivity } from './scan-blob';
import type { ScanExclusion } from '../infra/adapters/scan-exclusion';
import { sniffContentActivity } from './sniff-content';
import { tombstoneAssetActivity } from './tombstone-asset';
import { verifyUploadActivity } from './verify-upload';
import { moveBlobTierActivity, type TierDeps } from './move-blob-tier';
import {
  abandonWebhookDeliveryActivity,
  deliverWebhookActivity,
  listWebhookTargetsActivity,
  type WebhookDeps,
} from './webhooks';
import type { MediaDeps } from './media/deps';
import { SuspectGate } from './media/suspect-gate';
import { runAloneWhenSuspect } from './media/run-alone';
import { extractMetadataActivity } from './media/extract-metadata';
import { renderRenditionsActivity } from './media/render-renditions';
import { validateRenditionsActivity } from './media/validate-renditions';
import { renderFrameActivity } from './media/render-frame';

export interface IoDeps extends WebhookDeps, CdnDeps, TierDeps, ReleaseDeps {
  assets: AssetRepository;
  blobs: BlobRepository;
  store: ObjectStore;
  scanner: Scanner;
  /** SCAN_CONCURRENCY: scans this worker runs at once; unset, as many as activities arrive. */
  scanSlots?: Slots;
  /** Keeps a suspect's scan apart from other workers' too; unset, only this worker's slots do. */
  scanExclusion?: ScanExclusion | undefined;
  quotas: QuotaRepository;
  events: EventPublisher;
  sweeps: SweepRepository;
  integrity: IntegrityRepository;
  deadLetters: DeadLetterRepository;
  /** Where blobs are copied at ingest, and integrity scans repair from; absent without REPLICA_S3_BUCKET. */
  replica?: ObjectStore | undefined;
}

/** Light activities: database and storage I/O. They run on the workflow's own task queue. */
export function createIoActivities(deps: IoDeps) {
  return {
    recordTransition: recordTransitionActivity(deps),
    verifyUpload: verifyUploadActivity(deps),
    checkQuota: checkQuotaActivity(deps),
    discardUpload: discardUploadActivity(deps),
    sniffUpload: sniffContentActivity(deps),
    claimBlob: claimBlobActivity(deps),
    scanBlob: scanBlobActivity(deps),
    awaitBlob: awaitBlobActivity(deps),
    publishRenditions: publishRenditionsActivity(deps),
    failBlob: failBlobActivity(deps),
    takeOverBlob: takeOverBlobActivity(deps),
    copyMediaMetadata: copyMediaMetadataActivity(deps),
    releaseBlob: releaseBlobActivity(deps),
    tombstoneAsset: tombstoneAssetActivity(deps),
    listWebhookTargets: listWebhookTargetsActivity(deps),
    deliverWebhook: deliverWebhookActivity(deps),
    abandonWebhookDelivery: abandonWebhookDeliveryActivity(deps),
    registerWithCdn: registerWithCdnActivity(deps),
    purgeCdn: purgeCdnActivity(deps),
    sweepOrphanObjects: sweepOrphanObjectsActivity(deps),
    abortStaleMultipart: abortStaleMultipartActivity(deps),
    failMissingBlobs: failMissingBlobsActivity(deps),
    pickBlobsForIntegrity: pickBlobsForIntegrityActivity(deps),
    checkBlobIntegrity: checkBlobIntegrityActivity(deps),
    moveBlobTier: moveBlobTierActivity(deps),
    recordDeadLetter: recordDeadLetterActivity(deps),
    advanceRelease: advanceReleaseActivity(deps),
    warmRelease: warmReleaseActivity(deps),
  };
}

/**
 * CPU-heavy activities (sharp, ffmpeg, poppler): they run on the media task queue, sized to the machine. An attempt
 * retried after lost ones runs alone (activities/media/run-alone.ts).
 */
export function createMediaActivities(deps: MediaDeps) {
  return { ...pipelineMediaActivities(deps), ...thumbnailActivities(deps) };
}

/** The asset pipeline's media stages (guarded by workflows/stage-guard.ts). */
function pipelineMediaActivities(deps: MediaDeps) {
  const gate = new SuspectGate();
  return {
    extractMetadata: runAloneWhenSuspect(gate, extractMetadataActivity(deps)),
    renderRenditions: runAloneWhenSuspect(gate, renderRenditionsActivity(deps)),
    validateRenditions: runAloneWhenSuspect(gate, validateRenditionsActivity(deps)),
  };
}

/** Frames at a requested time (workflows/frame-thumbnail.ts), on the same media queue and slots. */
function thumbnailActivities(deps: MediaDeps) {
  return { renderFrame: renderFrameActivity(deps) };
}

export type IoActivities = ReturnType<typeof createIoActivities>;
export type MediaActivities = ReturnType<typeof pipelineMediaActivities>;
export type ThumbnailActivities = ReturnType<typeof thumbnailActivities>;
