import type { MediaAssetRow } from '../infra/db/schema';
import type { AssetLifecycleInput } from '../workflows/definitions';

export interface LifecycleSettings {
  uploadTtlSeconds: number;
  trashDays: number;
  hotDays: number;
  coldDays: number;
  /**
   * UPLOAD_SESSION_GRACE_SECONDS: how long a session outlives its URLs, for the client to renew them (POST
   * /media/{id}/upload/renew) before the workflow expires the asset. Absent: 0.
   */
  uploadGraceSeconds?: number;
  /** RELEASE_WARM_LEAD_SECONDS: how long before a scheduled publish the edge is warmed (absent: 0, not warmed). */
  releaseWarmSeconds?: number;
}

/** The facts of a pending asset its workflow is started with. */
export type PendingAsset = Pick<
  MediaAssetRow,
  | 'asset_id'
  | 'owner_id'
  | 'bucket'
  | 'object_key'
  | 'mime_type'
  | 'declared_mime_type'
  | 'size_bytes'
  | 'declared_checksum_sha256'
  | 'upload_expires_at'
  | 'retain_until'
  | 'visibility'
  | 'publish_at'
  | 'unpublish_at'
>;

/**
 * An asset's workflow input, from its row: the upload URL, the outbox's sweep and a completion that finds the
 * workflow not started yet all start the same workflow.
 */
export function lifecycleInput(asset: PendingAsset, settings: LifecycleSettings): AssetLifecycleInput {
  return {
    assetId: asset.asset_id,
    ownerId: String(asset.owner_id),
    declaredContentType: asset.declared_mime_type ?? asset.mime_type,
    bucket: asset.bucket,
    objectKey: asset.object_key,
    declaredSizeBytes: Number(asset.size_bytes),
    declaredChecksumSha256: asset.declared_checksum_sha256,
    uploadTtlSeconds: settings.uploadTtlSeconds,
    uploadExpiresAt: new Date(
      new Date(asset.upload_expires_at).getTime() + (settings.uploadGraceSeconds ?? 0) * 1000,
    ).toISOString(),
    trashSeconds: Math.round(settings.trashDays * 86_400),
    hotSeconds: Math.max(1, Math.round(settings.hotDays * 86_400)),
    coldSeconds: Math.max(1, Math.round(settings.coldDays * 86_400)),
    retainUntil: asset.retain_until ? new Date(asset.retain_until).toISOString() : null,
    release: {
      visibility: asset.visibility,
      publishAt: iso(asset.publish_at),
      unpublishAt: iso(asset.unpublish_at),
    },
    releaseWarmSeconds: settings.releaseWarmSeconds ?? 0,
  };
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
