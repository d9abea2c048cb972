import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { AssetRepository } from '../../infra/adapters/asset-repository';
import type { ObjectStore } from '../../infra/adapters/object-store';
import { regionColumns } from '../../infra/adapters/region-repository';
import { policyOf } from '../region-schema';
import { QuotaExceededError, quotaExcess, type QuotaRepository } from '../../infra/adapters/quota-repository';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import { partsMisfit } from '../../domain/multipart-parts';
import { uploadKey } from '../../domain/object-keys';
import type { MultipartAssembly } from '../../workflows/definitions';
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
  /** UPLOAD_SESSION_MAX_AGE_SECONDS: how long after it began a session may be renewed (default 7 days). */
  uploadSessionMaxAgeSeconds?: number | undefined;
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
  /**
   * POST /media/upload-url: a new session (201), or under an Idempotency-Key already used the same session resumed
   * (200), renewed while pending. Two requests racing with one key get the one session.
   */
  async createOrResume(principal: Principal, request: UploadRequest, idempotencyKey: string | undefined) {
    const resumable = async () => {
      const existing =
        idempotencyKey && (await this.deps.assets.findByIdempotencyKey(principal.userId, idempotencyKey));
      return existing
        ? { status: 200 as const, body: await this.resume(existing, request), startWorkflow: () => undefined }
        : undefined;
    };
    const resumed = await resumable();
    if (resumed) return resumed;
    try {
      const { created, startWorkflow } = await this.create(principal, request, idempotencyKey);
      return { status: 201 as const, body: created, startWorkflow };
    } catch (err) {
      const raced = idempotencyKey && !(err instanceof ServiceError) ? await resumable() : undefined;
      if (raced) return raced;
      throw err;
    }
  }

  async create(principal: Principal, request: UploadRequest, idempotencyKey?: string) {
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
      idempotency_key: idempotencyKey ?? null,
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

    const upload = await this.presign(asset, expiresAt);
    return {
      created: { assetId, status: 'pending' as const, upload },
      startWorkflow: () => this.deps.starter.startSoon(asset),
    };
  }

  /**
   * Fresh URLs for a pending session whose URLs expired (or are about to), while its multipart upload exists and
   * the session is younger than UPLOAD_SESSION_MAX_AGE_SECONDS: the asset's workflow keeps its window open as long.
   */
  async renew(target: AuthorisedAsset) {
    const asset = this.requirePending(target);
    const { assets, store, settings, workflows } = this.deps;
    const maxAgeMs = (settings.uploadSessionMaxAgeSeconds ?? 7 * 86_400) * 1000;
    const endsAt = new Date(asset.created_at).getTime() + maxAgeMs;
    if (endsAt <= Date.now()) {
      throw conflict(
        `the upload session began ${new Date(asset.created_at).toISOString()}: older than UPLOAD_SESSION_MAX_AGE_SECONDS, it cannot be renewed; start a new upload`,
      );
    }
    if (
      asset.multipart_upload_id &&
      (await store.listParts(asset.object_key, asset.multipart_upload_id)) === null
    ) {
      throw conflict('the multipart upload no longer exists in storage; start a new upload');
    }
    const expiresAt = new Date(Math.min(Date.now() + settings.uploadTtlSeconds * 1000, endsAt));
    if (!(await assets.renewUpload(asset.asset_id, expiresAt))) {
      throw conflict('asset is no longer pending; nothing to renew');
    }
    const renewed = { ...asset, upload_expires_at: expiresAt };
    await workflows.renewUpload(lifecycleInput(renewed, settings));
    return {
      assetId: asset.asset_id,
      status: 'pending' as const,
      upload: await this.presign(renewed, expiresAt),
    };
  }

  /**
   * A request under an idempotency key already used: the same request resumes its session (renewed while pending);
   * a different one under the same key is a conflict naming what differs.
   */
  private async resume(existing: MediaAssetRow, request: UploadRequest) {
    const differs = (
      [
        ['filename', existing.filename, request.filename],
        ['contentType', existing.declared_mime_type ?? existing.mime_type, request.contentType],
        ['sizeBytes', Number(existing.size_bytes), request.sizeBytes],
        ['checksumSha256', existing.declared_checksum_sha256, request.checksumSha256 ?? null],
      ] as const
    ).filter(([, had, asked]) => had !== asked);
    if (differs.length > 0) {
      throw conflict(
        `this Idempotency-Key was used for a different upload (${differs.map(([f]) => f).join(', ')} differ)`,
      );
    }
    if (existing.status !== 'pending')
      return { assetId: existing.asset_id, status: existing.status, upload: null };
    const target = new AuthorisedAsset(
      { userId: String(existing.owner_id), groups: [], operator: false },
      existing,
    );
    return this.renew(target);
  }

  private async presign(
    asset: {
      object_key: string;
      mime_type: string;
      size_bytes: string | number;
      multipart_upload_id: string | null;
      multipart_part_bytes: string | number | null;
    },
    expiresAt: Date,
  ) {
    const { store } = this.deps;
    const ttl = Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
    const { object_key: objectKey, multipart_upload_id: uploadId } = asset;
    const partBytes = asset.multipart_part_bytes === null ? null : Number(asset.multipart_part_bytes);
    if (uploadId && partBytes) {
      return {
        method: 'MULTIPART' as const,
        uploadId,
        partSizeBytes: partBytes,
        parts: await presignParts(
          store,
          objectKey,
          uploadId,
          Array.from({ length: partCount(Number(asset.size_bytes), partBytes) }, (_, i) => i + 1),
          ttl,
        ),
        expiresAt: expiresAt.toISOString(),
      };
    }
    return {
      ...(await store.presignPut(objectKey, { contentType: asset.mime_type, expiresInSeconds: ttl })),
      expiresAt: expiresAt.toISOString(),
    };
  }

  /**
   * The client says the bytes are there. A multipart upload's part list is checked here and assembled by the
   * workflow, before it verifies the bytes (a list S3 refuses then rejects the asset with S3's reason).
   */
  async complete(target: AuthorisedAsset, parts: UploadPart[] | undefined, checksumSha256?: string) {
    const asset = AuthorisedAsset.row(target);
    const declared = asset.declared_checksum_sha256;
    if (checksumSha256 && declared && checksumSha256 !== declared) {
      throw conflict(
        `checksumSha256 ${checksumSha256} is not the ${declared} declared when the upload began`,
      );
    }
    if (asset.status !== 'pending') return currentStatus(this.deps.assets, asset);
    const assemble = asset.multipart_upload_id
      ? await this.partsToAssemble(asset, asset.multipart_upload_id, partListFor(parts))
      : undefined;
    await this.deps.workflows.completeUpload(this.input(asset), 'api', {
      ...(assemble ? { assemble } : {}),
      ...(checksumSha256 && !declared ? { checksumSha256 } : {}),
    });
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

  /**
   * The parts the client lists, checked against the stored ones the way S3 will check them; the workflow assembles
   * them (S3's join of a large object takes seconds to minutes, no request should wait on it). Undefined when the
   * object is already whole (completed outside the API).
   */
  private async partsToAssemble(
    asset: MediaAssetRow,
    uploadId: string,
    parts: UploadPart[],
  ): Promise<MultipartAssembly | undefined> {
    const { store } = this.deps;
    const stored = await store.listParts(asset.object_key, uploadId);
    if (!stored) {
      if (await store.head(asset.object_key)) return undefined;
      throw conflict(`the multipart upload ${uploadId} is gone: start the upload again`);
    }
    const misfit = partsMisfit(parts, stored);
    if (misfit) throw conflict(`parts rejected by storage: ${misfit}`);
    return { uploadId, parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })) };
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
