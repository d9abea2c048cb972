/**
 * The contract between the asset workflow and everyone who talks to it: the API imports this module to start,
 * signal and query workflows, so names and payload types cannot drift apart.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { AssetStatus } from '../shared/asset-status';

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
  /** How long a deleted asset stays restorable before it is purged. */
  trashSeconds: number;
  /** Retention: when set (ISO 8601), the asset is purged at that moment. */
  retainUntil: string | null;
}

export type CompletionSource = 'api' | 'storage-event';

export interface UploadCompleted {
  source: CompletionSource;
}

/** Pipeline stages, in order; events and failures name them. */
export type Stage =
  | 'awaiting-upload'
  | 'verify'
  | 'sniff'
  | 'dedup'
  | 'await-original'
  | 'scan'
  | 'metadata'
  | 'renditions'
  | 'validate'
  | 'publish'
  | 'failed'
  | 'trash'
  | 'deleting'
  | 'done';

export interface AssetState {
  status: AssetStatus;
  stage: Stage;
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
export const assetStateQuery = defineQuery<AssetState>('assetState');

/** Registered on the server (dev server flags, or `temporal operator search-attribute create` in production). */
export const AssetStatusAttribute = defineSearchAttributeKey('AssetStatus', 'KEYWORD');
export const OwnerIdAttribute = defineSearchAttributeKey('OwnerId', 'INT');

export const SEARCH_ATTRIBUTES = [AssetStatusAttribute, OwnerIdAttribute] as const;
