import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { ObjectStore } from '../../infra/adapters/object-store';
import { regionColumns } from '../../infra/adapters/region-repository';
import { policyOf } from '../region-schema';
import { QuotaExceededError, quotaExcess, type QuotaRepository } from '../../infra/adapters/quota-repository';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import { uploadKey } from '../../domain/object-keys';
import type { MediaAssetRow } from '../../infra/db/schema';
import type { Release, Visibility } from '../../domain/visibility';
import type { Principal } from '../auth';
import { lifecycleInput, type LifecycleSettings } from '../lifecycle-input';
import type { uploadRequestSchema } from '../schemas';
import { partCount, partSizeFor, presignParts } from '../upload-session';
import type { WorkflowStarter } from '../workflow-starter';
import { AuthorisedAsset } from './access-control';
import { currentStatus } from './asset-commands';
import { conflict, ServiceError } from './errors';
import { planRequestedRelease } from './release-service';

/** What a new asset is before its requested visibility applies: nothing has been released. */
const NEW_ASSET: Release = {
  visibility: 'private',
  releaseVisibility: null,
  publishAt: null,
  unpublishAt: null,
  releasedAt: null,
};

export type UploadRequest = z.output<ReturnType<typeof uploadRequestSchema>>;
export interface UploadPart {
  partNumber: number;
  etag: string;
}

export interface UploadSettings extends LifecycleSettings {
  multipartThresholdBytes: number;
  multipartPartBytes: number;
  defaultVisibility?: Visibility | undefined;
}

/**
 * The part list a multipart completion sends to S3: ascending, as S3 wants it. Whether the list fits the upload
 * (no part twice, each as stored) is a matter of the upload's state, not of the request's shape: a conflict.
 */
function partListFor(parts: UploadPart[] | undefined): UploadPart[] {
  if (!parts) throw conflict('the upload is multipart: list its parts (GET /media/{id}/upload shows them)');
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const repeated = sorted.find((p, i) => i > 0 && p.partNumber === sorted[i - 1]!.partNumber);
  if (repeated) throw conflict(`parts lists part ${repeated.partNumber} twice`);
  return sorted;
}

// S3's answers to a part list that does not fit the stored parts: the client's to fix, not ours.
const CLIENT_PART_ERRORS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'MalformedXML']);

/** Upload sessions: pre-signed single or multipart uploads, resuming, aborting and completion. */
export class UploadService {
  constructor(
    private readonly deps: {
      assets: AssetRepository;
      quotas: QuotaRepository;
      store: ObjectStore;
      workflows: WorkflowGateway;
      starter: WorkflowStarter;
      settings: UploadSettings;
    },
  ) {}

  /**
   * Records a pending asset with its first event and owed workflow, and hands out where to upload. `startWorkflow`
   * is for after the answer: the start is Temporal's slowest call on this path, and the outbox row already
   * guarantees it (a completion that comes first starts it itself, with signal-with-start).
   */
  async create(principal: Principal, request: UploadRequest) {
    const { assets, store, settings } = this.deps;
    const { limits, retentionDays } = await this.admit(principal.userId, request.sizeBytes);
    const retainUntil = request.expiresAt
      ? new Date(request.expiresAt)
      : retentionDays
        ? new Date(Date.now() + retentionDays * 86_400_000)
        : null;
    const { release } = planRequestedRelease(NEW_ASSET, {
      visibility: request.visibility ?? settings.defaultVisibility ?? 'private',
      publishAt: request.publishAt ? new Date(request.publishAt) : null,
      unpublishAt: request.unpublishAt ? new Date(request.unpublishAt) : null,
    });
    const assetId = randomUUID();
    const objectKey = uploadKey(principal.userId, assetId);
    const ttl = settings.uploadTtlSeconds;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const multipart = request.multipart ?? request.sizeBytes >= settings.multipartThresholdBytes;
    const partBytes = multipart ? partSizeFor(request.sizeBytes, settings.multipartPartBytes) : null;
    const uploadId = multipart
      ? await store.createMultipartUpload(objectKey, { contentType: request.contentType })
      : null;

    const asset = {
      asset_id: assetId,
      owner_id: principal.userId,
      bucket: store.bucket,
      object_key: objectKey,
      filename: request.filename,
      mime_type: request.contentType,
      declared_mime_type: request.contentType,
      size_bytes: String(request.sizeBytes),
      declared_checksum_sha256: request.checksumSha256 ?? null,
      ...regionColumns(request.regions ? policyOf(request.regions) : null),
      checksum_sha256: null,
      status: 'pending' as const,
      status_reason: 'waiting for the upload',
      upload_expires_at: expiresAt,
      multipart_upload_id: uploadId,
      multipart_part_bytes: partBytes,
      retain_until: retainUntil,
      visibility: release.visibility,
      release_visibility: release.releaseVisibility,
      publish_at: release.publishAt,
      unpublish_at: release.unpublishAt,
      released_at: release.releasedAt,
    };
    try {
      // The row, its metadata, its first event and the workflow it is owed, in one statement.
      await assets.createPending(asset, request.metadata ?? {}, `${assetId}/created`, limits);
    } catch (err) {
      if (uploadId) await store.abortMultipartUpload(objectKey, uploadId).catch(() => undefined);
      // Fitted when read above, but the uploads decided meanwhile took the room (decided under the owner's lock).
      if (err instanceof QuotaExceededError)
        throw new ServiceError('quota-exceeded', err.message, { limits, usage: err.usage });
      throw err;
    }

    const upload =
      uploadId && partBytes
        ? {
            method: 'MULTIPART' as const,
            uploadId,
            partSizeBytes: partBytes,
            parts: await presignParts(
              store,
              objectKey,
              uploadId,
              Array.from({ length: partCount(request.sizeBytes, partBytes) }, (_, i) => i + 1),
              ttl,
            ),
            expiresAt: expiresAt.toISOString(),
          }
        : {
            ...(await store.presignPut(objectKey, {
              contentType: request.contentType,
              expiresInSeconds: ttl,
            })),
            expiresAt: expiresAt.toISOString(),
          };
    return {
      created: { assetId, status: 'pending' as const, upload },
      startWorkflow: () => this.deps.starter.startSoon(asset),
    };
  }

  /** The client says the bytes are there; a multipart upload is assembled from its parts first. */
  async complete(target: AuthorisedAsset, parts: UploadPart[] | undefined) {
    const asset = AuthorisedAsset.row(target);
    if (asset.status === 'pending' && asset.multipart_upload_id) {
      await this.assemble(asset, asset.multipart_upload_id, partListFor(parts));
    }
    if (asset.status === 'pending') await this.deps.workflows.completeUpload(this.input(asset), 'api');
    return currentStatus(this.deps.assets, asset);
  }

  /**
   * S3 announced an object: the pending asset it belongs to is completed. False when it belongs to none, or its
   * workflow has finished (S3 redelivers; that is no error).
   */
  async completeFromStorage(bucket: string, objectKey: string): Promise<boolean> {
    const asset = await this.deps.assets.findByObject(bucket, objectKey);
    if (!asset || asset.status !== 'pending') return false;
    return this.deps.workflows.completeUpload(this.input(asset), 'storage-event');
  }

  /** What a client needs to resume after a crash: the parts already stored and fresh URLs for the rest. */
  async progress(target: AuthorisedAsset) {
    const asset = this.requirePending(target);
    const { store } = this.deps;
    const remaining = Math.floor((new Date(asset.upload_expires_at).getTime() - Date.now()) / 1000);
    if (!asset.multipart_upload_id || !asset.multipart_part_bytes) {
      return { method: 'PUT' as const, received: (await store.head(asset.object_key)) !== null };
    }
    const parts = (await store.listParts(asset.object_key, asset.multipart_upload_id)) ?? [];
    const partBytes = Number(asset.multipart_part_bytes);
    const have = new Set(parts.map((p) => p.partNumber));
    const missing = Array.from(
      { length: partCount(Number(asset.size_bytes), partBytes) },
      (_, i) => i + 1,
    ).filter((n) => !have.has(n));
    return {
      method: 'MULTIPART' as const,
      uploadId: asset.multipart_upload_id,
      partSizeBytes: partBytes,
      expiresAt: new Date(asset.upload_expires_at).toISOString(),
      parts,
      missing:
        remaining > 0
          ? await presignParts(store, asset.object_key, asset.multipart_upload_id, missing, remaining)
          : [],
    };
  }

  /** The client gives up: the multipart upload is aborted and the asset deleted. */
  async abort(target: AuthorisedAsset) {
    const asset = this.requirePending(target);
    if (asset.multipart_upload_id) {
      await this.deps.store
        .abortMultipartUpload(asset.object_key, asset.multipart_upload_id)
        .catch(() => undefined);
    }
    await this.deps.workflows.delete(asset.asset_id, 'upload aborted by the client', this.input(asset));
    return { assetId: asset.asset_id, status: 'deleted' as const };
  }

  /**
   * A fast refusal when the owner's quota cannot admit `sizeBytes` more, with the limits for the decision that
   * counts (createPending, under the owner's lock) and the owner's retention policy (days).
   */
  private async admit(ownerId: string, sizeBytes: number) {
    const { limits, usage, retentionDays } = await this.deps.quotas.forUpload(ownerId);
    const excess = quotaExcess(limits, usage, sizeBytes);
    if (excess) throw new ServiceError('quota-exceeded', excess, { limits, usage });
    return { limits, retentionDays };
  }

  private async assemble(asset: MediaAssetRow, uploadId: string, parts: UploadPart[]): Promise<void> {
    const { store } = this.deps;
    try {
      await store.completeMultipartUpload(asset.object_key, uploadId, parts);
    } catch (err) {
      const name = err instanceof S3ServiceException ? err.name : '';
      if (CLIENT_PART_ERRORS.has(name))
        throw conflict(`parts rejected by storage: ${name}: ${(err as Error).message}`);
      // Completed already (a repeated call): the object is there, and signalling again is harmless.
      if (name !== 'NoSuchUpload' || !(await store.head(asset.object_key))) throw err;
    }
  }

  private requirePending(target: AuthorisedAsset): MediaAssetRow {
    const asset = AuthorisedAsset.row(target);
    if (asset.status !== 'pending') throw conflict(`the upload is over: asset is ${asset.status}`);
    return asset;
  }

  private input(asset: MediaAssetRow) {
    return lifecycleInput(asset, this.deps.settings);
  }
}
