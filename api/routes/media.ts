import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { MediaAssetRow } from '../../shared/db/schema';
import { TERMINAL_STATUSES } from '../../shared/asset-status';
import type { ApiDeps } from '../deps';
import type { Principal } from '../auth';
import { HttpProblem, notFound } from '../problem';
import { parseAssetId, parseOr400, uploadRequestSchema } from '../schemas';
import { renderAsset } from '../asset-view';
import type { WorkflowGateway } from '../workflow-gateway';

function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Error('route mounted without requireAuth');
  return req.principal;
}

/** Another owner's asset answers exactly like a missing one, so ids cannot be probed. */
function ownedOr404(asset: MediaAssetRow | undefined, principal: Principal): MediaAssetRow {
  if (!asset || asset.owner_id !== principal.userId) throw notFound();
  return asset;
}

export function mediaRoutes(deps: ApiDeps, workflows: WorkflowGateway): Router {
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
    const asset = ownedOr404(await deps.assets.findById(assetId), principal);
    if (asset.status === 'pending') await workflows.completeUpload(assetId, 'api');
    const current = (await deps.assets.findById(assetId)) ?? asset;
    res.status(202).json({ assetId, status: current.status });
  });

  router.get('/media/:id', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const view = await deps.assets.view(assetId);
    const asset = ownedOr404(view?.asset, principal);
    const sha = asset.blob_sha256;
    const [blob, renditions] = sha
      ? await Promise.all([deps.blobs.get(sha), deps.blobs.renditions(sha)])
      : [undefined, []];
    const settled = TERMINAL_STATUSES.includes(asset.status) || asset.status === 'ready';
    const live = settled ? null : await workflows.state(assetId);
    res.json(renderAsset(view!, blob, renditions, live));
  });

  router.delete('/media/:id', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = ownedOr404(await deps.assets.findById(assetId), principal);
    if (asset.status !== 'deleted') {
      const signalled = await workflows.delete(assetId, `deleted by ${principal.userId}`);
      // Rejected and expired assets have no workflow left and nothing stored: the record alone changes.
      if (!signalled) {
        await deps.assets.recordTransition({
          assetId,
          eventId: `${assetId}/deleted`,
          from: asset.status,
          to: 'deleted',
          reason: `deleted by ${principal.userId}`,
          details: {},
        });
      }
    }
    const current = (await deps.assets.findById(assetId)) ?? asset;
    res.status(202).json({ assetId, status: current.status });
  });

  router.post('/media/:id/retry', async (req, res) => {
    const principal = principalOf(req);
    if (!principal.operator) throw notFound('no route for POST /media/:id/retry without the operator role');
    const assetId = parseAssetId(req.params.id);
    const asset = await deps.assets.findById(assetId);
    if (!asset) throw notFound();
    if (asset.status !== 'failed') {
      throw new HttpProblem(409, 'Conflict', `asset is ${asset.status}; only failed assets can be retried`);
    }
    await workflows.retry(assetId, principal.userId);
    res.status(202).json({ assetId, status: asset.status, retrying: asset.failed_stage });
  });

  return router;
}
