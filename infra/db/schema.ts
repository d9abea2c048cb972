import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { AssetStatus } from '../../domain/asset-status';
import type { RegionMode } from '../../domain/delivery/regions';
import type { AssetEventType, ReleaseVisibility, Visibility } from '../../domain/visibility';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/** Postgres bigint comes back from pg as a string; owner ids stay strings so no precision is lost. */
type BigIntString = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface MediaAssetsTable {
  asset_id: string;
  owner_id: BigIntString;
  bucket: string;
  object_key: string;
  filename: string;
  mime_type: string;
  size_bytes: BigIntString;
  checksum_sha256: string | null;
  declared_checksum_sha256: string | null;
  status: AssetStatus;
  status_reason: string | null;
  upload_expires_at: Timestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  blob_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  declared_mime_type: ColumnType<string | null, string | null | undefined, string | null>;
  failed_stage: ColumnType<string | null, string | null | undefined, string | null>;
  failure_attempts: ColumnType<number, number | undefined, number>;
  multipart_upload_id: ColumnType<string | null, string | null | undefined, string | null>;
  multipart_part_bytes: ColumnType<string | null, number | null | undefined, number | null>;
  retain_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  doc_version: ColumnType<string, number | undefined, number>;
  /** Admitted by the quota check at completion (QuotaRepository.admitAtCompletion). */
  quota_admitted: ColumnType<boolean, boolean | undefined, boolean>;
  /** Migration 015: who may see it (domain/visibility.ts), its scheduled release and its regional policy. */
  visibility: ColumnType<Visibility, Visibility | undefined, Visibility>;
  release_visibility: ColumnType<
    ReleaseVisibility | null,
    ReleaseVisibility | null | undefined,
    ReleaseVisibility | null
  >;
  publish_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  unpublish_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  released_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  region_mode: ColumnType<RegionMode | null, RegionMode | null | undefined, RegionMode | null>;
  regions: ColumnType<string[], string[] | undefined, string[]>;
  /** Migration 016: the key the client chose for its upload session (unique per owner). */
  idempotency_key: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `deleting`: no reference left, its objects being removed (the row goes last). */
export type BlobStatus = 'processing' | 'ready' | 'quarantined' | 'failed' | 'deleting';
export type ScanStatus = 'pending' | 'clean' | 'infected' | 'skipped';

export interface BlobsTable {
  sha256: string;
  bucket: string;
  object_key: string;
  size_bytes: BigIntString;
  mime_type: string;
  refcount: ColumnType<number, number | undefined, number>;
  status: BlobStatus;
  status_reason: string | null;
  owner_asset_id: string;
  tier: ColumnType<'hot' | 'warm' | 'cold', 'hot' | 'warm' | 'cold' | undefined>;
  tier_changed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  scan_status: ColumnType<ScanStatus, ScanStatus | undefined, ScanStatus>;
  scan_signature: string | null;
  media_info: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  placeholder: string | null;
  rendition_prefix: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  chunk_bytes: ColumnType<number | null, number | null | undefined, number | null>;
  chunk_sha256: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  integrity_status: ColumnType<IntegrityStatus, IntegrityStatus | undefined, IntegrityStatus>;
  integrity_checked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  integrity_detail: string | null;
  replica_key: ColumnType<string | null, string | null | undefined, string | null>;
}

export type IntegrityStatus = 'unchecked' | 'ok' | 'corrupt' | 'repaired';

/** SHA-256 per chunk of an upload, written at verification before the blob row exists. */
export interface BlobManifestsTable {
  sha256: string;
  chunk_bytes: number;
  chunk_sha256: string[];
  created_at: ColumnType<Date, never, never>;
}

export interface BlobRenditionsTable {
  blob_sha256: string;
  name: string;
  object_key: string;
  mime_type: string;
  width: number | null;
  height: number | null;
  bit_rate: BigIntString | null;
  duration_seconds: number | null;
  size_bytes: BigIntString;
}

export interface AssetMetadataTable {
  asset_id: string;
  key: string;
  value: string;
}

export interface AssetAclTable {
  asset_id: string;
  principal: string;
  permission: 'read' | 'write' | 'delete';
}

export interface AssetEventsTable {
  event_id: string;
  asset_id: string;
  from_status: AssetStatus | null;
  to_status: AssetStatus;
  reason: string;
  details: ColumnType<Record<string, unknown>, string, string>;
  stage: ColumnType<string | null, string | null | undefined, string | null>;
  occurred_at: Timestamp;
  /** asset.transition (a status change), asset.published or asset.unpublished. */
  event_type: ColumnType<AssetEventType, AssetEventType | undefined, AssetEventType>;
}

export interface OwnerQuotasTable {
  owner_id: BigIntString;
  max_bytes: BigIntString | null;
  max_assets: number | null;
  retention_days: ColumnType<number | null, number | null | undefined, number | null>;
  updated_at: Timestamp;
}

/** Kept by triggers on media_assets (migration 010): what the owner's pending-or-stored assets hold. */
export interface OwnerUsageTable {
  owner_id: BigIntString;
  assets: BigIntString;
  bytes: BigIntString;
}

export interface WebhooksTable {
  webhook_id: string;
  owner_id: BigIntString;
  url: string;
  secret: string;
  created_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: ColumnType<number, number | undefined, number>;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AssetAccessTable {
  asset_id: string;
  last_access_at: Timestamp;
  access_count: BigIntString;
}

/** Asset workflows owed but not yet started (migration 011). */
export interface WorkflowStartsTable {
  asset_id: string;
  due_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** The asset's first event is out (migration 018). */
  created_published: ColumnType<boolean, boolean | undefined, boolean>;
}

/** Inputs taken for poison after repeated lost attempts of a stage (migration 012). */
export interface DeadLettersTable {
  asset_id: string;
  stage: string;
  cause: string;
  attempts: number;
  quarantines: ColumnType<number, number | undefined, number>;
  blob_sha256: string | null;
  blob_key: string | null;
  first_seen_at: Timestamp;
  last_seen_at: Timestamp;
  recorded_at: ColumnType<Date, undefined, never>;
}

export interface Database {
  media_assets: MediaAssetsTable;
  asset_metadata: AssetMetadataTable;
  asset_acl: AssetAclTable;
  asset_events: AssetEventsTable;
  blobs: BlobsTable;
  blob_renditions: BlobRenditionsTable;
  blob_manifests: BlobManifestsTable;
  owner_quotas: OwnerQuotasTable;
  owner_usage: OwnerUsageTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  asset_access: AssetAccessTable;
  workflow_starts: WorkflowStartsTable;
  dead_letters: DeadLettersTable;
}

export type MediaAssetRow = Selectable<MediaAssetsTable>;
export type NewMediaAsset = Insertable<MediaAssetsTable>;
export type AssetEventRow = Selectable<AssetEventsTable>;
export type BlobRow = Selectable<BlobsTable>;
export type BlobRenditionRow = Selectable<BlobRenditionsTable>;
