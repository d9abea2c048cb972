import { Router } from 'express';
import { z } from 'zod';
import { MAX_THUMBNAIL_WIDTH, MIN_THUMBNAIL_WIDTH } from '../../domain/thumbnails';
import { parseAssetId, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';
import { viewerCountry } from '../viewer-country';
import { once } from './search';

export const thumbnailQuery = z
  .object({
    time: once
      .regex(
        /^\d{1,7}(?:\.\d{1,3})?$/,
        'must be seconds from the start, e.g. 12 or 12.5 (at most 3 decimals)',
      )
      .transform(Number),
    width: once
      .regex(
        /^\d{1,4}$/,
        `must be a whole number of pixels from ${MIN_THUMBNAIL_WIDTH} to ${MAX_THUMBNAIL_WIDTH}`,
      )
      .transform(Number)
      .pipe(
        z
          .number()
          .min(MIN_THUMBNAIL_WIDTH, `must be at least ${MIN_THUMBNAIL_WIDTH}`)
          .max(MAX_THUMBNAIL_WIDTH, `must be at most ${MAX_THUMBNAIL_WIDTH}`),
      )
      .optional(),
  })
  .strict();

/**
 * `GET /media/:id/thumbnail?time=&width=`: a 302 to a JPEG frame of the video at that time, delivered by the edge
 * like any rendition; made on the first request and cached.
 */
export function thumbnailRoutes({ services }: RouteContext): Router {
  const router = Router();
  const { access, thumbnails } = services;

  router.get('/media/:id/thumbnail', async (req, res) => {
    const asset = await access.require(principalOf(req), parseAssetId(req.params.id), 'read');
    const query = parseOr400(thumbnailQuery, req.query, 'query');
    const url = await thumbnails.deliveryUrl(asset, query, viewerCountry(req));
    res.set('Cache-Control', 'private, no-store').redirect(302, url);
  });

  return router;
}
