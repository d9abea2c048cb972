import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { quotaExcess } from '../../shared/adapters/quota-repository';
import { HttpProblem } from '../problem';
import { parseAssetId, parseOr400, uploadRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import { maxPartsFor, partCount, partSizeFor, presignParts } from '../upload-session';

/** The part list of a completion; no upload of this deployment has more than `maxParts` parts. */
export const completeBodySchema = (maxParts: number) =>
  z
    .object({
      parts: z
        .array(
          z.object({
            partNumber: z.number().int().min(1).max(maxParts),
            // As S3 answered it (quotes included): printable ASCII, which the XML to S3 carries as is.
            etag: z.string().regex(/^[!-~]{1,200}$/, 'must be 1-200 printable ASCII characters'),
          }),
        )
        .min(1, 'must list at least one part')
        .max(maxParts, `must list at most ${maxParts} parts, the most an upload here can have`)
        .optional(),
    })
    .strict();
type CompleteBody = z.output<ReturnType<typeof completeBodySchema>>;

/**
 * The part list a multipart completion sends to S3: ascending, as S3 wants it. Whether the list fits the upload
 * (no part twice, each as stored) is a matter of the upload's state, not of the request's shape: 409.
 */
function partListFor(parts: CompleteBody['parts']) {
  if (!parts) throw conflict('the upload is multipart: list its parts (GET /media/{id}/upload shows them)');
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const repeated = sorted.find((p, i) => i > 0 && p.partNumber === sorted[i - 1]!.partNumber);
  if (repeated) throw conflict(`parts lists part ${repeated.partNumber} twice`);
  return sorted;
}

const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);

// S3's answers to a part list that does not fit the stored parts: the client's to fix, not ours.
const CLIENT_PART_ERRORS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'MalformedXML']);

/** Upload sessions: pre-signed single or multipart uploads, resuming, aborting, and completion. */
export function uploadRoutes({ deps, workflows, access, starter }: RouteContext): Router {
  const router = Router();
  const { settings } = deps;
  const uploadRequest = uploadRequestSchema(settings.maxUploadBytes);
  const completeBody = completeBodySchema(maxPartsFor(settings.maxUploadBytes, settings.multipartPartBytes));

  router.post('/media/upload-url', async (req, res) => {
    const principal = principalOf(req);
    const body = parseOr400(uploadRequest, req.body);
    const { limits, usage, retentionDays } = await deps.quotas.forUpload(principal.userId);
    const excess = quotaExcess(limits, usage, body.sizeBytes);
    if (excess) throw new HttpProblem(403, 'Quota Exceeded', excess, { limits, usage });

    const retainUntil = body.expiresAt
      ? new Date(body.expiresAt)
      : retentionDays
        ? new Date(Date.now() + retentionDays * 86_400_000)
        : null;
    const assetId = randomUUID();
    const objectKey = `uploads/${principal.userId}/${assetId}`;
    const ttl = settings.uploadTtlSeconds;
    const expiresAt = new Date(Date.now() + ttl * 1000);
    const multipart = body.multipart ?? body.sizeBytes >= settings.multipartThresholdBytes;
    const partBytes = multipart ? partSizeFor(body.sizeBytes, settings.multipartPartBytes) : null;
    const uploadId = multipart
      ? await deps.store.createMultipartUpload(objectKey, { contentType: body.contentType })
      : null;

    const asset = {
      asset_id: assetId,
      owner_id: principal.userId,
      bucket: deps.store.bucket,
      object_key: objectKey,
      filename: body.filename,
      mime_type: body.contentType,
      declared_mime_type: body.contentType,
      size_bytes: String(body.sizeBytes),
      declared_checksum_sha256: body.checksumSha256 ?? null,
      checksum_sha256: null,
      status: 'pending' as const,
      status_reason: 'waiting for the upload',
      upload_expires_at: expiresAt,
      multipart_upload_id: uploadId,
      multipart_part_bytes: partBytes,
      retain_until: retainUntil,
    };
    try {
      // The row, its metadata, its first event and the workflow it is owed, in one statement.
      await deps.assets.createPending(asset, body.metadata ?? {}, `${assetId}/created`);
    } catch (err) {
      if (uploadId) await deps.store.abortMultipartUpload(objectKey, uploadId).catch(() => undefined);
      throw err;
    }

    const upload =
      uploadId && partBytes
        ? {
            method: 'MULTIPART' as const,
            uploadId,
            partSizeBytes: partBytes,
            parts: await presignParts(
              deps.store,
              objectKey,
              uploadId,
              Array.from({ length: partCount(body.sizeBytes, partBytes) }, (_, i) => i + 1),
              ttl,
            ),
            expiresAt: expiresAt.toISOString(),
          }
        : {
            ...(await deps.store.presignPut(objectKey, {
              contentType: body.contentType,
              expiresInSeconds: ttl,
            })),
            expiresAt: expiresAt.toISOString(),
          };
    res.status(201).json({ assetId, status: 'pending', upload });
    // After the answer: the workflow's start is Temporal's slowest call on this path, and the outbox row already
    // guarantees it. A completion that comes first starts it itself (signal-with-start).
    starter.startSoon(asset);
  });

  router.post('/media/:id/complete', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'write');
    const body = parseOr400(completeBody, req.body ?? {});
    if (asset.status === 'pending' && asset.multipart_upload_id) {
      const parts = partListFor(body.parts);
      try {
        await deps.store.completeMultipartUpload(asset.object_key, asset.multipart_upload_id, parts);
      } catch (err) {
        const name = err instanceof S3ServiceException ? err.name : '';
        if (CLIENT_PART_ERRORS.has(name))
          throw conflict(`parts rejected by storage: ${name}: ${(err as Error).message}`);
        // Completed already (a repeated call): the object is there, and signalling again is harmless.
        if (name !== 'NoSuchUpload' || !(await deps.store.head(asset.object_key))) throw err;
      }
    }
    if (asset.status === 'pending') await workflows.completeUpload(asset, 'api');
    const current = (await deps.assets.findById(assetId)) ?? asset;
    res.status(202).json({ assetId, status: current.status });
  });

  /** What a client needs to resume after a crash: the parts already stored and fresh URLs for the rest. */
  router.get('/media/:id/upload', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'write');
    if (asset.status !== 'pending') {
      throw new HttpProblem(409, 'Conflict', `the upload is over: asset is ${asset.status}`);
    }
    const remaining = Math.floor((new Date(asset.upload_expires_at).getTime() - Date.now()) / 1000);
    if (!asset.multipart_upload_id || !asset.multipart_part_bytes) {
      res.json({ method: 'PUT', received: (await deps.store.head(asset.object_key)) !== null });
      return;
    }
    const parts = (await deps.store.listParts(asset.object_key, asset.multipart_upload_id)) ?? [];
    const partBytes = Number(asset.multipart_part_bytes);
    const have = new Set(parts.map((p) => p.partNumber));
    const missing = Array.from(
      { length: partCount(Number(asset.size_bytes), partBytes) },
      (_, i) => i + 1,
    ).filter((n) => !have.has(n));
    res.json({
      method: 'MULTIPART',
      uploadId: asset.multipart_upload_id,
      partSizeBytes: partBytes,
      expiresAt: new Date(asset.upload_expires_at).toISOString(),
      parts,
      missing:
        remaining > 0
          ? await presignParts(deps.store, asset.object_key, asset.multipart_upload_id, missing, remaining)
          : [],
    });
  });

  router.delete('/media/:id/upload', async (req, res) => {
    const principal = principalOf(req);
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principal, assetId, 'write');
    if (asset.status !== 'pending') {
      throw new HttpProblem(409, 'Conflict', `the upload is over: asset is ${asset.status}`);
    }
    if (asset.multipart_upload_id) {
      await deps.store
        .abortMultipartUpload(asset.object_key, asset.multipart_upload_id)
        .catch(() => undefined);
    }
    await workflows.delete(asset, 'upload aborted by the client');
    res.status(202).json({ assetId, status: 'deleted' });
  });

  return router;
}
