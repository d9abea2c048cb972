import { Router } from 'express';
import { notFound } from '../problem';
import { parseAssetId } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

/** One asset: read it, delete it, restore it, retry it. */
export function mediaRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, assets, reads } = services;

  router.get('/media/:id', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'read');
    res.json(await reads.view(asset));
  });

  router.delete('/media/:id', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'delete');
    res.status(202).json(await assets.delete(asset));
  });

  router.post('/media/:id/restore', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'delete');
    res.status(202).json(await assets.restore(asset));
  });

  router.post('/media/:id/retry', async (req, res) => {
    const principal = principalOf(req);
    if (!principal.operator) throw notFound('no route for POST /media/:id/retry without the operator role');
    res.status(202).json(await assets.retry(principal, parseAssetId(req.params.id)));
  });

  return router;
}
