import { Router } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { notFound } from '../problem';
import { assetIdSchema, parseOr400 } from '../schemas';

export const failuresQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  // A cursor that does not decode would silently restart from the first page: a client paging on would loop.
  before: z
    .string()
    .refine((v) => decodeCursor(v) !== undefined, 'is not a cursor this API issued')
    .optional(),
});

function decodeCursor(cursor: string | undefined) {
  if (!cursor) return undefined;
  const [at, assetId] = Buffer.from(cursor, 'base64url').toString().split('|');
  const updatedAt = new Date(at ?? '');
  // The id goes to a uuid column: anything else would fail the query (a 500) rather than the request.
  const id = assetIdSchema.safeParse(assetId);
  if (!id.success || Number.isNaN(updatedAt.getTime())) return undefined;
  return { updatedAt, assetId: id.data };
}

/** Operator views; to anyone else they do not exist. */
export function adminRoutes(deps: ApiDeps): Router {
  const router = Router();

  router.get('/admin/failures', async (req, res) => {
    if (!req.principal?.operator)
      throw notFound(`no route for GET /admin/failures without the operator role`);
    const q = parseOr400(failuresQuery, req.query, 'query');
    const rows = await deps.assets.listFailed(q.limit, decodeCursor(q.before));
    const last = rows.at(-1);
    res.json({
      failures: rows.map((r) => ({
        assetId: r.asset_id,
        ownerId: r.owner_id,
        contentType: r.mime_type,
        stage: r.failed_stage,
        error: r.status_reason,
        attempts: r.failure_attempts,
        failedAt: r.updated_at,
      })),
      next:
        rows.length === q.limit && last
          ? Buffer.from(`${new Date(last.updated_at).toISOString()}|${last.asset_id}`).toString('base64url')
          : null,
    });
  });

  router.get('/admin/dead-letters', async (req, res) => {
    if (!req.principal?.operator)
      throw notFound(`no route for GET /admin/dead-letters without the operator role`);
    const q = parseOr400(failuresQuery, req.query, 'query');
    const before = decodeCursor(q.before);
    const letters = await deps.deadLetters.list(
      q.limit,
      before && { lastSeenAt: before.updatedAt, assetId: before.assetId },
    );
    const last = letters.at(-1);
    res.json({
      deadLetters: letters,
      next:
        letters.length === q.limit && last
          ? Buffer.from(`${last.lastSeenAt}|${last.assetId}`).toString('base64url')
          : null,
    });
  });

  return router;
}
