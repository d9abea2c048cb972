/**
 * The contract between the asset workflow and everyone who talks to it: the API imports this module to start,
 * signal and query workflows, so names and payload types cannot drift apart.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { AssetStatus } from '../shared/asset-status';

export const ASSET_WORKFLOW_TYPE = 'assetLifecycle';

export const assetWorkflowId = (assetId: string): string => `asset-${assetId}`;

export interface AssetLifecycleInput {
  assetId: string;
  ownerId: string;
  bucket: string;
  objectKey: string;
  declaredSizeBytes: number;
  declaredChecksumSha256: string | null;
  /** How long the pre-signed upload stays open; the workflow expires the asset after it. */
  uploadTtlSeconds: number;
}

export type CompletionSource = 'api' | 'storage-event';

export interface UploadCompleted {
  source: CompletionSource;
}

export type Stage = 'awaiting-upload' | 'verifying' | 'done';

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
export const assetStateQuery = defineQuery<AssetState>('assetState');

/** Registered on the server (dev server flags, or `temporal operator search-attribute create` in production). */
export const AssetStatusAttribute = defineSearchAttributeKey('AssetStatus', 'KEYWORD');
export const OwnerIdAttribute = defineSearchAttributeKey('OwnerId', 'INT');

export const SEARCH_ATTRIBUTES = [AssetStatusAttribute, OwnerIdAttribute] as const;
