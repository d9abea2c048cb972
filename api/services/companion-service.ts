import { parseUploadKey, uploadKey } from '../../domain/object-keys';
import type { ObjectStore } from '../../infra/adapters/object-store';
import type { MediaAssetRow } from '../../infra/db/schema';
import type { Principal } from '../auth';
import { MAX_PARTS } from '../upload-session';
import { AuthorisedAsset, type AccessControl } from './access-control';
import { assetNotFound, conflict } from './errors';
import type { UploadPart, UploadRequest, UploadService } from './upload-service';

/**
 * Companion's S3 protocol (what `@uppy/aws-s3` calls) on top of the upload sessions: each upload is an asset
 * created and completed by UploadService, so quota, type, size and checksum are checked as for any client. Uppy
 * names an upload by S3's (uploadId, key); the key is the asset's object key, so the asset is found from it and the
 * caller's right to write it is checked on every call.
 */
export class CompanionService {
  constructor(private readonly deps: { uploads: UploadService; access: AccessControl; store: ObjectStore }) {}

  async createMultipart(principal: Principal, request: UploadRequest) {
    const { created, startWorkflow } = await this.deps.uploads.create(principal, {
      ...request,
      multipart: true,
    });
    if (created.upload.method !== 'MULTIPART')
      throw new Error('asked for a multipart upload, got a single PUT');
    const key = uploadKey(principal.userId, created.assetId);
    return {
      answer: { uploadId: created.upload.uploadId, key, assetId: created.assetId },
      startWorkflow,
    };
  }

  /** A single PUT: its completion is S3's event notification (POST /storage-events), as Companion has no call. */
  async createSingle(principal: Principal, request: UploadRequest) {
    const { created, startWorkflow } = await this.deps.uploads.create(principal, {
      ...request,
      multipart: false,
    });
    if (created.upload.method !== 'PUT') throw new Error('asked for a single PUT, got a multipart upload');
    const { url, headers } = created.upload;
    const key = uploadKey(principal.userId, created.assetId);
    return {
      answer: { method: 'PUT' as const, url, fields: {}, headers, key, assetId: created.assetId },
      startWorkflow,
    };
  }

  async listParts(principal: Principal, uploadId: string, key: string) {
    const row = await this.pendingUpload(principal, uploadId, key);
    const parts = await this.deps.store.listParts(row.object_key, uploadId);
    if (!parts) throw assetNotFound(`no multipart upload ${uploadId} at ${key} (completed or aborted)`);
    return parts.map((p) => ({ PartNumber: p.partNumber, Size: p.sizeBytes, ETag: p.etag }));
  }

  /** Pre-signed part URLs, valid until the upload window closes (the workflow expires the upload then). */
  async signParts(principal: Principal, uploadId: string, key: string, partNumbers: number[]) {
    const row = await this.pendingUpload(principal, uploadId, key);
    const expires = Math.floor((new Date(row.upload_expires_at).getTime() - Date.now()) / 1000);
    if (expires <= 0) throw conflict('the upload window has closed: start the upload again');
    const tooHigh = partNumbers.find((n) => n > MAX_PARTS);
    if (tooHigh !== undefined) throw conflict(`part ${tooHigh} is past S3's ${MAX_PARTS} parts`);
    const urls = await Promise.all(
      partNumbers.map((n) => this.deps.store.presignUploadPart(row.object_key, uploadId, n, expires)),
    );
    return { urls, expires };
  }

  async complete(principal: Principal, uploadId: string, key: string, parts: UploadPart[]) {
    const asset = await this.authorised(principal, key);
    this.matches(AuthorisedAsset.row(asset), uploadId);
    const status = await this.deps.uploads.complete(asset, parts);
    return { key, ...status };
  }

  async abort(principal: Principal, uploadId: string, key: string) {
    const asset = await this.authorised(principal, key);
    this.matches(AuthorisedAsset.row(asset), uploadId);
    return this.deps.uploads.abort(asset);
  }

  private async authorised(principal: Principal, key: string): Promise<AuthorisedAsset> {
    const parsed = parseUploadKey(key);
    if (!parsed) throw assetNotFound(`${key} is not an upload key this API handed out`);
    return this.deps.access.require(principal, parsed.assetId, 'write');
  }

  private async pendingUpload(principal: Principal, uploadId: string, key: string): Promise<MediaAssetRow> {
    const row = AuthorisedAsset.row(await this.authorised(principal, key));
    this.matches(row, uploadId);
    if (row.status !== 'pending') throw conflict(`the upload is over: asset is ${row.status}`);
    return row;
  }

  /** Another upload id at a known key is refused like a missing one: ids are not to be probed. */
  private matches(row: MediaAssetRow, uploadId: string): void {
    if (row.multipart_upload_id !== uploadId)
      throw assetNotFound(`no multipart upload ${uploadId} at this key`);
  }
}
