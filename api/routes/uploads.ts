import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { parseAssetId, parseOr400, uploadRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

/** Upload sessions: the pre-signed URL, and completion by the client. */
export function uploadRoutes({ deps, workflows, access }: RouteContext): Router {
  const router = Router();
  const uploadRequest = uploadRequestSchema(deps.settings.maxUploadBytes);

  router.post('/media/upload-url', async (req, res) => {
    const principal = principalOf(req);
    const body = parseOr400(uploadRequest, req.body);
    const assetId = randomUUID();
    const objectKey = `uploads/${principal.userId}/${assetId}`;
    const ttl = deps.settings.uploadTtlSeconds;
    const upload = await deps.store.presignPut(objectKey, {
      contentType: body.contentType,
      expiresInSeconds: ttl,
    });

    await deps.assets.createPending(
      {
        asset_id: assetId,
        owner_id: principal.userId,
        bucket: deps.store.bucket,
        object_key: objectKey,
        filename: body.filename,
        mime_type: body.contentType,
        declared_mime_type: body.contentType,
        size_bytes: body.sizeBytes,
        declared_checksum_sha256: body.checksumSha256 ?? null,
        checksum_sha256: null,
        status: 'pending',
        status_reason: 'waiting for the upload',
        upload_expires_at: upload.expiresAt,
      },
      body.metadata ?? {},
      `${assetId}/created`,
    );
    try {
      await workflows.start({
        assetId,
        ownerId: principal.userId,
        declaredContentType: body.contentType,
        bucket: deps.store.bucket,
        objectKey,
        declaredSizeBytes: body.sizeBytes,
        declaredChecksumSha256: body.checksumSha256 ?? null,
        uploadTtlSeconds: ttl,
      });
    } catch (err) {
      // Without its workflow nothing would ever expire or process the record: take it back.
      await deps.assets.deletePending(assetId);
      throw err;
    }

    res.status(201).json({
      assetId,
      status: 'pending',
      upload: { ...upload, expiresAt: upload.expiresAt.toISOString() },
    });
  });

  router.post('/media/:id/complete', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'write');
    if (asset.status === 'pending') await workflows.completeUpload(assetId, 'api');
    const current = (await deps.assets.findById(assetId)) ?? asset;
    res.status(202).json({ assetId, status: current.status });
  });

  return router;
}
