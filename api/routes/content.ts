import { Router } from 'express';
import { z } from 'zod';
import { parseAssetId, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import { viewerCountry } from '../viewer-country';

export const contentQuery = z.object({
  rendition: z
    .string()
    // Dots only between letters or digits: storyboard-0.jpg, never "..".
    .regex(
      /^[a-z0-9](?:[a-z0-9-]|\.(?=[a-z0-9])){0,63}$/,
      'must be a rendition name such as thumb-256, poster, hls or storyboard-0.jpg',
    )
    .optional(),
});

/**
 * `GET /media/:id/content[?rendition=NAME]`: a 302 to where the bytes are served, the edge, with a signed URL (or
 * the stable public one). The API never streams the bytes itself here, so it stays off the hot path.
 */
export function contentRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, reads } = services;

  router.get('/media/:id/content', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'read');
    const { rendition } = parseOr400(contentQuery, req.query, 'query');
    const url = await reads.deliveryUrl(asset, rendition, viewerCountry(req));
    // The Location carries a token: it is for this caller only.
    res.set('Cache-Control', 'private, no-store').redirect(302, url);
  });

  return router;
}
