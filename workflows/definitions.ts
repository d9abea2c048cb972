/**
 * The contract between the asset workflow and everyone who talks to it: the API imports this module to start,
 * signal and query workflows, so names and payload types cannot drift apart.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { AssetStatus } from '../domain/asset-status';
import type { Release, Visibility } from '../domain/visibility';

/**
 * Failure types of media an activity cannot process, as opposed to "try again": the workflow fails the asset at
 * its stage (MediaError: an operator may retry it) or rejects it for good (MediaRejected: refused by policy, such
 * as a decompression bomb). Activities raise them and the workflow tells them apart by these strings.
 */
export const MEDIA_FAILURE = 'MediaError';
export const MEDIA_REJECTED = 'MediaRejected';
/** Work killed for making no progress: the workflow counts it like a lost worker (workflows/stage-guard.ts). */
export const MEDIA_STALLED = 'MediaStalled';
/** The scanner went away after the whole input, before its verdict: counted like a lost worker, per input. */
export const SCANNER_LOST = 'ScannerLost';

export const ASSET_WORKFLOW_TYPE = 'assetLifecycle';

export const assetWorkflowId = (assetId: string): string => `asset-${assetId}`;

/** CPU-heavy activities run on a queue of their own, named after the workflow's, so the two scale apart. */
export const mediaTaskQueue = (taskQueue: string): string => `${taskQueue}-media`;

export interface AssetLifecycleInput {
  assetId: string;
  /** The type the client declared; sniffing must agree on its family. */
  declaredContentType: string;
  ownerId: string;
  bucket: string;
  objectKey: string;
  declaredSizeBytes: number;
  declaredChecksumSha256: string | null;
  /** How long the pre-signed upload stays open; the workflow expires the asset after it. */
  uploadTtlSeconds: number;
  /**
   * When the upload URL expires (ISO 8601). The workflow is started with its first task delayed until then, so a
   * pending upload costs no task until it is completed, deleted or expired (absent in older runs: the TTL counts
   * from the start).
   */
  uploadExpiresAt?: string;
  /** How long a deleted asset stays restorable before it is purged. */
  trashSeconds: number;
  /** Retention: when set (ISO 8601), the asset is purged at that moment. */
  retainUntil: string | null;
  /** Tiering: a ready asset unread this long moves to the warm tier (absent in older runs: 30 days). */
  hotSeconds?: number;
  /** ... and unread this long (counted from the last read, too) to the cold tier (absent: 90 days). */
  coldSeconds?: number;
  /** Set by continue-as-new: the run picks up the asset's life after processing where the last one left it. */
  resume?: LifeState;
  /** Its visibility and scheduled release, as the release clock last knew them (absent in older runs). */
  release?: ReleaseSchedule;
  /** How long before publishAt the edge is warmed with the first segments and posters (absent: not warmed). */
  releaseWarmSeconds?: number;
}

/** What the release clock keeps: the asset's visibility now and the instants (ISO 8601) it changes at. */
export interface ReleaseSchedule {
  visibility: Visibility;
  publishAt: string | null;
  unpublishAt: string | null;
}

/** A release as the clock keeps it: the API signals it, the clock's activity answers it. */
export const toSchedule = (r: Release): ReleaseSchedule => ({
  visibility: r.visibility,
  publishAt: r.publishAt?.toISOString() ?? null,
  unpublishAt: r.unpublishAt?.toISOString() ?? null,
});

export type Tier = 'hot' | 'warm' | 'cold';

/** What a ready (or failed/quarantined) asset's workflow carries over a continue-as-new. */
export interface LifeState {
  status: AssetStatus;
  tier: Tier;
  sha256: string | null;
  /** Epoch milliseconds of the last read, or of the last tier move when that came later. */
  lastAccessMs: number;
  /** Epoch milliseconds of the blob's last move between tiers (absent in runs continued before it was kept). */
  tierMovedMs?: number;
}

export interface MoveBlobTier {
  sha256: string;
  to: Tier;
  /** Demotions happen only when no asset on the blob was read within this many seconds. */
  idleSeconds: number;
}

export type CompletionSource = 'api' | 'storage-event';

export interface UploadCompleted {
  source: CompletionSource;
  /**
   * A multipart upload the workflow assembles before verifying it: the API checked these parts against the stored
   * ones and answered at once, so no client waits on the storage's join of a large object.
   */
  assemble?: MultipartAssembly;
  /** The SHA-256 the client computed while sending, when none was declared at upload-url: verified the same way. */
  checksumSha256?: string;
}

export interface MultipartAssembly {
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
}

/** The processing pipeline's stages, in order: a failure names the one it happened in, and a retry re-runs it. */
export type PipelineStage =
  | 'verify'
  | 'sniff'
  | 'dedup'
  | 'await-original'
  | 'scan'
  | 'metadata'
  | 'renditions'
  | 'validate'
  | 'publish';

/**
 * Where the asset's life is when no pipeline stage runs: waiting for its upload, failed and waiting for an
 * operator, moving between tiers, in the trash, being deleted, or settled (`done`).
 */
export type LifecycleStep = 'awaiting-upload' | 'failed' | 'tier' | 'trash' | 'deleting' | 'done';

/** What the workflow is busy with: the live `stage` the API shows, and the stage each event is recorded under. */
export type AssetStage = PipelineStage | LifecycleStep;

export interface AssetState {
  status: AssetStatus;
  stage: AssetStage;
  /** 0-100 within the current stage, when the stage reports progress. */
  percent: number | null;
  reason: string | null;
}

export interface AssetOutcome {
  status: AssetStatus;
  reason: string;
}

export const uploadCompletedSignal = defineSignal<[UploadCompleted]>('uploadCompleted');
/** Deleting cancels whatever processing is under way (ffmpeg is killed) and releases the blob. */
export const deleteRequestedSignal = defineSignal<[{ reason: string }]>('deleteRequested');
/** Takes a deleted asset out of the trash, back to the state it was deleted in. */
export const restoreRequestedSignal = defineSignal<[{ requestedBy: string }]>('restoreRequested');
/** An operator's retry of a failed asset re-runs the stage that failed. */
export const retryRequestedSignal = defineSignal<[{ requestedBy: string }]>('retryRequested');
/** Sent by the API's access recorder, at most once per asset per flush: a read brings a warm/cold asset back. */
export const accessedSignal = defineSignal<[{ at: string }]>('accessed');
/** The client renewed its upload session: the upload URL (and so the upload window) now expires later. */
export const uploadRenewedSignal = defineSignal<[{ expiresAt: string }]>('uploadRenewed');
/** The owner changed the visibility or its schedule (already in the database): the release clock re-arms. */
export const releaseScheduledSignal = defineSignal<[ReleaseSchedule]>('releaseScheduled');
export const assetStateQuery = defineQuery<AssetState>('assetState');

/** Registered on the server (dev server flags, or `temporal operator search-attribute create` in production). */
export const AssetStatusAttribute = defineSearchAttributeKey('AssetStatus', 'KEYWORD');
export const OwnerIdAttribute = defineSearchAttributeKey('OwnerId', 'INT');

export const TierAttribute = defineSearchAttributeKey('Tier', 'KEYWORD');

/** The declared content type, set when the workflow starts (sniffing only ever narrows it within its family). */
export const MimeTypeAttribute = defineSearchAttributeKey('MimeType', 'KEYWORD');

/** draft, private, unlisted or public, kept by the release clock; `PublishAt` finds scheduled releases. */
export const VisibilityAttribute = defineSearchAttributeKey('Visibility', 'KEYWORD');
export const PublishAtAttribute = defineSearchAttributeKey('PublishAt', 'DATETIME');

export const SEARCH_ATTRIBUTES = [
  AssetStatusAttribute,
  OwnerIdAttribute,
  TierAttribute,
  MimeTypeAttribute,
  VisibilityAttribute,
  PublishAtAttribute,
] as const;

/**
 * The workflow types the worker registers (workflows/index.ts), by the names they are started with: the API, the
 * event publisher and the worker's schedules use these, never string literals.
 */
export const WORKFLOW_TYPES = {
  assetLifecycle: 'assetLifecycle',
  webhookFanout: 'webhookFanout',
  integrityScan: 'integrityScan',
  orphanSweep: 'orphanSweep',
  frameThumbnail: 'frameThumbnail',
} as const;

/** A frame of a ready video at a time, cached as the blob's rendition `name` (GET /media/{id}/thumbnail). */
export interface ThumbnailRequest {
  sha256: string;
  /** `thumb-t<ms>-w<width>` (domain/thumbnails.ts). */
  name: string;
  timeSeconds: number;
  width: number;
  /** Cached thumbnails a blob may hold; beyond them the request is refused, nothing is made. */
  maxCached: number;
}

export type ThumbnailOutcome =
  | { made: true; name: string }
  | { made: false; reason: 'limit' | 'gone' }
  /** The media could not give a frame there (the gateway's reading of a failed workflow). */
  | { made: false; reason: 'failed'; detail: string };

/** One thumbnail workflow per blob, time and width: concurrent requests for the same frame join it. */
export const thumbnailWorkflowId = (r: Pick<ThumbnailRequest, 'sha256' | 'name'>) =>
  `thumbnail-${r.sha256}-${r.name}`;
