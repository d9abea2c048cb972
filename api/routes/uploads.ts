import { Router } from 'express';
import { z } from 'zod';
import { parseAssetId, parseOr400, uploadRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import { MAX_PARTS } from '../upload-session';

export const completeBody = z
  .object({
    parts: z
      .array(
        z.object({
          partNumber: z.number().int().min(1).max(MAX_PARTS),
          etag: z.string().min(1).max(200),
        }),
      )
      .min(1, 'must list at least one part')
      .max(MAX_PARTS)
      .refine((parts) => parts.every((p, i) => i === 0 || p.partNumber > parts[i - 1]!.partNumber), {
        message: 'must be in ascending partNumber order without repeats',
      })
      .optional(),
  })
  .strict();

/** Upload sessions: pre-signed single or multipart uploads, resuming, aborting, and completion. */
export function uploadRoutes({ deps, services }: RouteContext): Router {
  const router = Router();
  const { access, uploads } = services;
  const uploadRequest = uploadRequestSchema(deps.settings.maxUploadBytes);

  router.post('/media/upload-url', async (req, res) => {
    const principal = principalOf(req);
    const body = parseOr400(uploadRequest, req.body);
    const { created, startWorkflow } = await uploads.create(principal, body);
    res.status(201).json(created);
    startWorkflow();
  });

  router.post('/media/:id/complete', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    const body = parseOr400(completeBody, req.body ?? {});
    res.status(202).json(await uploads.complete(asset, body.parts));
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
