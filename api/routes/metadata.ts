import { Router } from 'express';
import { z } from 'zod';
import { HttpProblem, badRequest, notFound } from '../problem';
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
export function metadataRoutes({ deps, access }: RouteContext): Router {
  const router = Router();

  router.patch('/media/:id/metadata', async (req, res) => {
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principalOf(req), assetId, 'write');
    const body = parseOr400(patchBody, req.body);
    if (asset.status === 'deleted') throw new HttpProblem(409, 'Conflict', 'asset is deleted');
    const change = { set: body.set ?? {}, remove: body.remove ?? [] };
    const metadata = await deps.metadata.change(assetId, change, (before, after) => {
      const [now, then] = [Object.keys(before).length, Object.keys(after).length];
      if (then > MAX_USER_TAGS) {
        const message =
          `would give the asset ${then} user tags (it has ${now}; this change adds ${then - now}); ` +
          `at most ${MAX_USER_TAGS} are allowed`;
        throw badRequest(`invalid request body: set ${message}`, { errors: [{ field: 'set', message }] });
      }
    });
    if (!metadata) throw notFound();
    // This instance answers the caller's next read: it must not wait for the notification to drop its copy.
    await deps.assetDocs?.invalidate(assetId);
    res.json({ assetId, metadata });
  });

  return router;
}
