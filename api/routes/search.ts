import { Router } from 'express';
import { z } from 'zod';
import { ASSET_STATUSES } from '../../shared/asset-status';
import { ALLOWED_CONTENT_TYPES, normaliseContentType } from '../../shared/media-types';
import type { ListedAsset, SearchFilter } from '../../shared/adapters/search-repository';
import { principalsOf } from '../services/access-control';
import { renderAssetSummary } from '../asset-summary';
import { METADATA_KEY, assetIdSchema, parseOr400 } from '../schemas';
import { principalOf, type RouteContext } from '../route-context';

const FAMILIES = ['image', 'video', 'audio', 'document'];
const LISTED_STATUSES = ASSET_STATUSES.filter((s) => s !== 'deleted');
const MAX_TAG_FILTERS = 10;
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const isoInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** A repeated parameter arrives as an array; only `tag` may repeat. */
const once = z.string({ error: 'must be given once' });

const encodeCursor = (a: ListedAsset) =>
  Buffer.from(JSON.stringify([a.position, a.asset_id])).toString('base64url');

function decodeCursor(value: string): SearchFilter['after'] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 2) return undefined;
    const [createdAt, assetId] = parsed as unknown[];
    if (typeof createdAt !== 'string' || !POSITION.test(createdAt)) return undefined;
    if (!assetIdSchema.safeParse(assetId).success) return undefined;
    return { createdAt, assetId: String(assetId).toLowerCase() };
  } catch {
    return undefined;
  }
}

const tagSchema = z.string().transform((v, ctx): [string, string] => {
  const colon = v.indexOf(':');
  const [key, value] = [v.slice(0, colon), v.slice(colon + 1)];
  if (colon < 1 || !METADATA_KEY.test(key) || value.length > 1024) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} must be key:value, the key a metadata key and the value at most 1024 characters`,
    });
    return z.NEVER;
  }
  return [key, value];
});

export const searchQuery = z
  .object({
    status: once.pipe(z.enum(LISTED_STATUSES, `must be one of ${LISTED_STATUSES.join(', ')}`)).optional(),
    type: once
      .transform(normaliseContentType)
      .refine((t) => FAMILIES.includes(t) || t in ALLOWED_CONTENT_TYPES, {
        message: `must be a family (${FAMILIES.join(', ')}) or an allowed content type`,
      })
      .optional(),
    tag: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .pipe(z.array(tagSchema).max(MAX_TAG_FILTERS, `at most ${MAX_TAG_FILTERS} tag filters`))
      .optional(),
    createdFrom: once
      .refine((v) => isoInstant.safeParse(v).success, 'must be an ISO 8601 date, or date-time with a zone')
      .transform((v) => new Date(v))
      .optional(),
    createdTo: once
      .refine((v) => isoInstant.safeParse(v).success, 'must be an ISO 8601 date, or date-time with a zone')
      .transform((v) => new Date(v))
      .optional(),
    limit: once
      .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1').max(100, 'must be at most 100'))
      .optional(),
    cursor: once
      .transform((v, ctx) => {
        const after = decodeCursor(v);
        if (!after) ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
        return after ?? z.NEVER;
      })
      .optional(),
  })
  .strict()
  .refine((q) => !q.createdFrom || !q.createdTo || q.createdFrom < q.createdTo, {
    message: 'must be later than createdFrom',
    path: ['createdTo'],
  });

/** GET /media: the assets the caller may read (its own and those granted to it or its groups), newest first. */
export function searchRoutes({ deps }: RouteContext): Router {
  const router = Router();

  router.get('/media', async (req, res) => {
    const principal = principalOf(req);
    const query = parseOr400(searchQuery, req.query, 'query parameters');
    const limit = query.limit ?? 50;
    const type = query.type;
    const rows = await deps.search.list({
      ownerId: principal.userId,
      // Grants to everyone ('*') make an asset readable, not part of every caller's listing.
      principals: principalsOf(principal).filter((p) => p !== '*'),
      status: query.status,
      mimeTypes:
        type === undefined
          ? undefined
          : FAMILIES.includes(type)
            ? Object.keys(ALLOWED_CONTENT_TYPES).filter((t) => ALLOWED_CONTENT_TYPES[t] === type)
            : [type],
      tags: query.tag ?? [],
      createdFrom: query.createdFrom,
      createdTo: query.createdTo,
      after: query.cursor,
      limit,
    });
    const page = rows.slice(0, limit);
    const details = await deps.search.details(page);
    const items = page.map((a) => {
      const blob = a.blob_sha256 ? details.blobs.get(a.blob_sha256) : undefined;
      const renditions = (a.blob_sha256 && details.renditions.get(a.blob_sha256)) || [];
      return renderAssetSummary(a, details.metadata.get(a.asset_id) ?? {}, blob, renditions);
    });
    const last = page.at(-1);
    res.json({ items, next: rows.length > limit && last ? encodeCursor(last) : null });
  });

  return router;
}
