import type { BlobRenditionRow, BlobRow, MediaAssetRow } from '../infra/db/schema';
import { regionPolicyOf } from '../domain/delivery/regions';
import { advanceRelease, type ReleaseVisibility, type Visibility } from '../domain/visibility';

/** Extracted media facts are kept as media.* metadata; the user's own tags are everything else. */
export const MEDIA_METADATA_PREFIX = 'media.';

const iso = (t: Date | string) => new Date(t).toISOString();

/**
 * An asset as listings show it: what GET /media/:id shows but its events and live stage. Plain JSON (dates as ISO
 * text), so it reads the same from a cache as from the database.
 */
export function renderAssetSummary(
  asset: MediaAssetRow,
  metadata: Record<string, string>,
  blob: BlobRow | undefined,
  renditions: BlobRenditionRow[],
) {
  const userMetadata = Object.fromEntries(
    Object.entries(metadata).filter(([key]) => !key.startsWith(MEDIA_METADATA_PREFIX)),
  );
  const servable = asset.status === 'ready' && blob?.status === 'ready';
  return {
    assetId: asset.asset_id,
    /** Changes with everything this document shows; a cached copy is current while it equals the row's. */
    version: Number(asset.doc_version),
    ownerId: asset.owner_id,
    status: asset.status,
    statusReason: asset.status_reason,
    failedStage: asset.status === 'failed' ? asset.failed_stage : null,
    filename: asset.filename,
    contentType: asset.mime_type,
    declaredContentType: asset.declared_mime_type,
    sizeBytes: Number(asset.size_bytes),
    checksumSha256: asset.checksum_sha256,
    /** Where it may be watched (PUT /media/:id/regions); null: everywhere. */
    regions: regionPolicyOf(asset),
    metadata: userMetadata,
    media: blob?.media_info ?? null,
    scan: blob ? { status: blob.scan_status, signature: blob.scan_signature } : null,
    placeholder: servable ? blob.placeholder : null,
    /** The storage tier of the bytes (shared by duplicates); delivery works the same from every tier. */
    tier: blob?.tier ?? null,
    tierChangedAt: blob?.tier_changed_at ? iso(blob.tier_changed_at) : null,
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
    visibility: asset.visibility,
    /** A scheduled release: at publishAt the asset becomes publishAs; at unpublishAt it is private again. */
    publishAt: asset.publish_at ? iso(asset.publish_at) : null,
    publishAs: asset.release_visibility,
    unpublishAt: asset.unpublish_at ? iso(asset.unpublish_at) : null,
    releasedAt: asset.released_at ? iso(asset.released_at) : null,
    uploadExpiresAt: iso(asset.upload_expires_at),
    createdAt: iso(asset.created_at),
    updatedAt: iso(asset.updated_at),
  };
}

export type AssetSummary = ReturnType<typeof renderAssetSummary>;

interface ReleaseFields {
  visibility: Visibility;
  publishAt: string | null;
  publishAs: ReleaseVisibility | null;
  unpublishAt: string | null;
  releasedAt: string | null;
}

/**
 * The release as of `now`: a publish or unpublish that is due shows from its instant, as every access check already
 * decides, not from when the release clock writes it to the row (seconds later under load; a cached copy later still).
 */
export function releaseAsOf<T extends ReleaseFields>(doc: T, now = new Date()): T {
  const date = (t: string | null) => (t ? new Date(t) : null);
  const { release } = advanceRelease(
    {
      visibility: doc.visibility,
      releaseVisibility: doc.publishAs,
      publishAt: date(doc.publishAt),
      unpublishAt: date(doc.unpublishAt),
      releasedAt: date(doc.releasedAt),
    },
    now,
  );
  const text = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    ...doc,
    visibility: release.visibility,
    publishAs: release.releaseVisibility,
    publishAt: text(release.publishAt),
    unpublishAt: text(release.unpublishAt),
    releasedAt: text(release.releasedAt),
  };
}
