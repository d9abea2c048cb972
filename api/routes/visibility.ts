import { Router } from 'express';
import { parseAssetId, parseOr400, releaseRequestSchema } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

/** Who may see an asset, and from when to when: draft, private, unlisted or public, and a scheduled release. */
export function visibilityRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, releases } = services;

  router.get('/media/:id/visibility', async (req, res) => {
    const asset = await access.requireOwner(principalOf(req), parseAssetId(req.params.id));
    res.json(await releases.view(asset));
  });

  router.put('/media/:id/visibility', async (req, res) => {
    const asset = await access.requireOwner(principalOf(req), parseAssetId(req.params.id));
    const body = parseOr400(releaseRequestSchema, req.body);
    res.json(
      await releases.change(asset, {
        visibility: body.visibility,
        publishAt: body.publishAt ? new Date(body.publishAt) : null,
        unpublishAt: body.unpublishAt ? new Date(body.unpublishAt) : null,
      }),
    );
  });

  return router;
}
