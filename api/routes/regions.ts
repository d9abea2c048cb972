import { Router } from 'express';
import { policyOf, regionsBody } from '../region-schema';
import { parseAssetId, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

/** Where an asset may be watched: the owner's decision, like the ACL. */
export function regionRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, regions } = services;

  router.put('/media/:id/regions', async (req, res) => {
    const asset = await access.requireOwner(principalOf(req), parseAssetId(req.params.id));
    const body = parseOr400(regionsBody, req.body);
    res.json(await regions.replace(asset, policyOf(body)));
  });

  return router;
}
