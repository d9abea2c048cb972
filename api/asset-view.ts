import type { AssetView } from '../shared/adapters/asset-repository';
import type { AssetState } from '../workflows/definitions';

/** The JSON shape of an asset; one function so every route answers alike. */
export function renderAsset(view: AssetView, live: AssetState | null) {
  const { asset } = view;
  return {
    assetId: asset.asset_id,
    ownerId: asset.owner_id,
    status: asset.status,
    statusReason: asset.status_reason,
    filename: asset.filename,
    contentType: asset.mime_type,
    sizeBytes: Number(asset.size_bytes),
    checksumSha256: asset.checksum_sha256,
    metadata: view.metadata,
    stage: live ? { name: live.stage, percent: live.percent } : null,
    uploadExpiresAt: asset.upload_expires_at,
    createdAt: asset.created_at,
    updatedAt: asset.updated_at,
    events: view.events.map((e) => ({
      from: e.from_status,
      to: e.to_status,
      reason: e.reason,
      details: e.details,
      at: e.occurred_at,
    })),
  };
}
