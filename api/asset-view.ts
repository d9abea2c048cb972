import type { AssetView } from '../shared/adapters/asset-repository';
import type { BlobRenditionRow, BlobRow } from '../shared/db/schema';
import type { AssetState } from '../workflows/definitions';

/** Extracted media facts are kept as media.* metadata; the user's own tags are everything else. */
export const MEDIA_METADATA_PREFIX = 'media.';

/** The JSON shape of an asset; one function so every route answers alike. */
export function renderAsset(
  view: AssetView,
  blob: BlobRow | undefined,
  renditions: BlobRenditionRow[],
  live: AssetState | null,
) {
  const { asset } = view;
  const userMetadata = Object.fromEntries(
    Object.entries(view.metadata).filter(([key]) => !key.startsWith(MEDIA_METADATA_PREFIX)),
  );
  const servable = asset.status === 'ready' && blob?.status === 'ready';
  return {
    assetId: asset.asset_id,
    ownerId: asset.owner_id,
    status: asset.status,
    statusReason: asset.status_reason,
    failedStage: asset.status === 'failed' ? asset.failed_stage : null,
    filename: asset.filename,
    contentType: asset.mime_type,
    declaredContentType: asset.declared_mime_type,
    sizeBytes: Number(asset.size_bytes),
    checksumSha256: asset.checksum_sha256,
    metadata: userMetadata,
    media: blob?.media_info ?? null,
    scan: blob ? { status: blob.scan_status, signature: blob.scan_signature } : null,
    placeholder: servable ? blob.placeholder : null,
    renditions: servable
      ? renditions.map((r) => ({
          name: r.name,
          mimeType: r.mime_type,
          width: r.width,
          height: r.height,
          bitRate: r.bit_rate === null ? null : Number(r.bit_rate),
          durationSeconds: r.duration_seconds,
          sizeBytes: Number(r.size_bytes),
        }))
      : [],
    stage: live ? { name: live.stage, percent: live.percent } : null,
    uploadExpiresAt: asset.upload_expires_at,
    createdAt: asset.created_at,
    updatedAt: asset.updated_at,
    events: view.events.map((e) => ({
      from: e.from_status,
      to: e.to_status,
      stage: e.stage,
      reason: e.reason,
      details: e.details,
      at: e.occurred_at,
    })),
  };
}
