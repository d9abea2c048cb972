import { Router } from 'express';
import { z } from 'zod';
import { idempotencyKeySchema, parseAssetId, parseOr400, sha256Hex, uploadRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import { maxPartsFor } from '../upload-session';

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
      // The SHA-256 the client computed while sending: the stored bytes are checked against it.
      checksumSha256: sha256Hex.optional(),
    })
    .strict();

/** Upload sessions: pre-signed single or multipart uploads, resuming, aborting, and completion. */
export function uploadRoutes({ deps, services }: RouteContext): Router {
  const router = Router();
  const { access, uploads } = services;
  const { settings } = deps;
  const uploadRequest = uploadRequestSchema(settings.maxUploadBytes);
  const completeBody = completeBodySchema(maxPartsFor(settings.maxUploadBytes, settings.multipartPartBytes));

  router.post('/media/upload-url', async (req, res) => {
    const principal = principalOf(req);
    const body = parseOr400(uploadRequest, req.body);
    const key = parseOr400(idempotencyKeySchema, req.get('idempotency-key'), 'Idempotency-Key header');
    const answer = await uploads.createOrResume(principal, body, key);
    res.status(answer.status).json(answer.body);
    answer.startWorkflow();
  });

  router.post('/media/:id/upload/renew', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    res.json(await uploads.renew(asset));
  });

  router.post('/media/:id/complete', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    const body = parseOr400(completeBody, req.body ?? {});
    res.status(202).json(await uploads.complete(asset, body.parts, body.checksumSha256));
  });

  router.get('/media/:id/upload', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    res.json(await uploads.progress(asset));
  });

  router.delete('/media/:id/upload', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    res.status(202).json(await uploads.abort(asset));
  });

  return router;
}
