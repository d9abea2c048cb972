import type { ColumnType, Insertable, Selectable } from 'kysely';
import type { AssetStatus } from '../asset-status';

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
  occurred_at: Timestamp;
}

export interface Database {
  media_assets: MediaAssetsTable;
  asset_metadata: AssetMetadataTable;
  asset_acl: AssetAclTable;
  asset_events: AssetEventsTable;
}

export type MediaAssetRow = Selectable<MediaAssetsTable>;
export type NewMediaAsset = Insertable<MediaAssetsTable>;
export type AssetEventRow = Selectable<AssetEventsTable>;
