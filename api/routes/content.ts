import { Router } from 'express';
import { z } from 'zod';
import { renditionPath } from '../../shared/delivery/asset-paths';
import { isPublic } from '../../shared/delivery/public-access';
import { HttpProblem, notFound } from '../problem';
import { parseAssetId, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

export const contentQuery = z.object({
  rendition: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a rendition name such as thumb-256, poster or hls')
    .optional(),
});

/**
 * `GET /media/:id/content[?rendition=NAME]`: a 302 to where the bytes are served, the edge, with a signed URL (or
 * the stable public one). The API never streams the bytes itself here, so it stays off the hot path.
 */
export function contentRoutes({ deps, access }: RouteContext): Router {
  const router = Router();

  router.get('/media/:id/content', async (req, res) => {
    const assetId = parseAssetId(req.params.id);
    const asset = await access.require(principalOf(req), assetId, 'read');
    const { rendition } = parseOr400(contentQuery, req.query, 'query');
    if (asset.status !== 'ready') {
      throw new HttpProblem(409, 'Conflict', `asset is ${asset.status}; only ready assets can be delivered`);
    }
    let path = 'original';
    if (rendition !== undefined) {
      const names = asset.blob_sha256
        ? (await deps.blobs.renditions(asset.blob_sha256)).map((r) => r.name)
        : [];
      if (!names.includes(rendition)) {
        throw notFound(`no rendition ${rendition} for this asset; it has: ${names.join(', ') || 'none'}`);
      }
      path = renditionPath(rendition);
    }
    const url = deps.cdn.deliveryUrl(assetId, path, { public: await isPublic(deps.acl, assetId) });
    // The Location carries a token: it is for this caller only.
    res.set('Cache-Control', 'private, no-store').redirect(302, url);
  });

  return router;
}
