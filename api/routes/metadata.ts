import { Router } from 'express';
import { z } from 'zod';
import { MAX_USER_TAGS, metadataSchema, parseAssetId, parseOr400, userMetadataKeyProblem } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

const removeSchema = z
  .array(z.string())
  .max(MAX_USER_TAGS, `lists more than ${MAX_USER_TAGS} keys`)
  .superRefine((keys, ctx) => {
    keys.forEach((key, i) => {
      const message = userMetadataKeyProblem(key);
      if (message) ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(key)} ${message}` });
    });
  });

export const patchBody = z
  .object({ set: metadataSchema.optional(), remove: removeSchema.optional() })
  .strict()
  .superRefine((body, ctx) => {
    const set = body.set ?? {};
    const remove = body.remove ?? [];
    if (Object.keys(set).length === 0 && remove.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must set or remove at least one key' });
    }
    for (const key of remove.filter((k) => Object.hasOwn(set, k))) {
      ctx.addIssue({ code: 'custom', path: ['remove'], message: `${key} is both set and removed` });
    }
  });

/** The user's own tags on an asset; the extracted media.* facts are the pipeline's and cannot be changed here. */
export function metadataRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, metadata } = services;

  router.patch('/media/:id/metadata', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'write');
    const body = parseOr400(patchBody, req.body);
    res.json(await metadata.change(asset, { set: body.set ?? {}, remove: body.remove ?? [] }));
  });

  return router;
}
