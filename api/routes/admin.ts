import { Router } from 'express';
import { z } from 'zod';
import { notFound } from '../problem';
import { parseOr400 } from '../schemas';
import { decodeFailureCursor, type AssetListings } from '../services/asset-listings';

export const failuresQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  // A cursor that does not decode would silently restart from the first page: a client paging on would loop.
  before: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this API issued')
    .refine((v) => decodeFailureCursor(v) !== undefined, 'is not a cursor this API issued')
    .optional(),
});

/** Operator views; to anyone else they do not exist. */
export function adminRoutes(listings: AssetListings): Router {
  const router = Router();

  router.get('/admin/failures', async (req, res) => {
    if (!req.principal?.operator)
      throw notFound(`no route for GET /admin/failures without the operator role`);
    const q = parseOr400(failuresQuery, req.query, 'query');
    res.json(await listings.failures(q.limit, q.before));
  });

  router.get('/admin/dead-letters', async (req, res) => {
    if (!req.principal?.operator)
      throw notFound(`no route for GET /admin/dead-letters without the operator role`);
    const q = parseOr400(failuresQuery, req.query, 'query');
    res.json(await listings.deadLetters(q.limit, q.before));
  });

  return router;
}
