import { Router } from 'express';
import { z } from 'zod';
import { parseOr400 } from '../schemas';
import { decodeCatalogCursor, type CatalogService } from '../services/catalog';
import { viewerCountry } from '../viewer-country';
import { FAMILIES } from '../services/asset-listings';
import { cursorOf, LISTED_TYPES, once, pageLimit } from './search';

export const CATALOG_PAGE_DEFAULT = 20;
/**
 * Short, and private: the answer depends on the viewer's country, which a shared cache cannot key on when it comes
 * from the client's address (GeoIP) rather than a header, so `Vary` cannot state it. Short also because signed
 * delivery URLs in it expire, and a release or unpublish should show within half a minute.
 */
export const CATALOG_CACHE_CONTROL = 'private, max-age=30';

export const catalogQuery = z
  .object({
    type: once
      .pipe(z.enum(LISTED_TYPES, `must be a family (${FAMILIES.join(', ')}) or an allowed content type`))
      .optional(),
    limit: pageLimit.optional(),
    cursor: cursorOf(decodeCatalogCursor).optional(),
  })
  .strict();

/** GET /catalog: public, released assets for anyone, no token; mounted before authentication. */
export function catalogRoutes(catalog: CatalogService): Router {
  const router = Router();
  router.get('/catalog', async (req, res) => {
    const query = parseOr400(catalogQuery, req.query, 'query parameters');
    const page = await catalog.list({
      type: query.type,
      viewerCountry: viewerCountry(req),
      after: query.cursor,
      limit: query.limit ?? CATALOG_PAGE_DEFAULT,
    });
    res.set('Cache-Control', CATALOG_CACHE_CONTROL).json(page);
  });
  return router;
}
