import { Router } from 'express';
import { z } from 'zod';
import { ASSET_STATUSES } from '../../domain/asset-status';
import { ALLOWED_CONTENT_TYPES } from '../../domain/media-types';
import { isCountryCode } from '../../domain/delivery/regions';
import { VISIBILITIES } from '../../domain/visibility';
import { parseOr400 } from '../schemas';
import { decodeSearchCursor, FAMILIES } from '../services/asset-listings';
import { principalOf, type RouteContext } from '../route-context';

export const LISTED_STATUSES = ASSET_STATUSES.filter((s) => s !== 'deleted');
/** What `type` may be: a family or an allowed content type, exactly (the document's enum). */
export const LISTED_TYPES = [...FAMILIES, ...Object.keys(ALLOWED_CONTENT_TYPES)];
export const MAX_TAG_FILTERS = 10;
/** key:value, split at the first colon; the key a metadata key (without a colon), the value no NUL (Postgres). */
// eslint-disable-next-line no-control-regex
export const TAG_FILTER = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63}):([^\u0000]{0,1024})$/u;
export const PAGE_LIMIT = { min: 1, max: 100, default: 50 };
/** A cursor is base64url; that it is one this API issued is checked when it is read. */
export const CURSOR = /^[A-Za-z0-9_-]+$/;
export const SHA256 = /^[0-9a-fA-F]{64}$/;
export const isoInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** A repeated parameter arrives as an array; only `tag` may repeat. */
export const once = z.string({ error: 'must be given once' });

export const pageLimit = once
  .regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')
  .transform(Number)
  .pipe(
    z
      .number()
      .min(PAGE_LIMIT.min, `must be at least ${PAGE_LIMIT.min}`)
      .max(PAGE_LIMIT.max, `must be at most ${PAGE_LIMIT.max}`),
  );

/** Only a cursor this API issued (a page's `next`), decoded by the listing that issued it. */
export const cursorOf = <T>(decode: (v: string) => T | undefined) =>
  once.regex(CURSOR, 'is not a cursor this API issued').transform((v, ctx) => {
    const after = decode(v);
    if (!after) ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
    return after ?? z.NEVER;
  });

/** Every ISO 3166-1 alpha-2 code the regional policies know, for the document's enum. */
export const COUNTRY_CODES = Array.from({ length: 26 * 26 }, (_, i) =>
  String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)),
).filter(isCountryCode);
export const countryCode = once.refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code, e.g. DE');

const tagSchema = z.string().transform((v, ctx): [string, string] => {
  const match = TAG_FILTER.exec(v);
  if (!match) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} must be key:value, the key a metadata key and the value at most 1024 characters`,
    });
    return z.NEVER;
  }
  return [match[1]!, match[2]!];
});

export const searchQuery = z
  .object({
    status: once.pipe(z.enum(LISTED_STATUSES, `must be one of ${LISTED_STATUSES.join(', ')}`)).optional(),
    type: once
      .pipe(z.enum(LISTED_TYPES, `must be a family (${FAMILIES.join(', ')}) or an allowed content type`))
      .optional(),
    tag: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .pipe(z.array(tagSchema).max(MAX_TAG_FILTERS, `at most ${MAX_TAG_FILTERS} tag filters`))
      .optional(),
    checksumSha256: once
      .regex(SHA256, 'must be 64 hexadecimal characters')
      .transform((v) => v.toLowerCase())
      .optional(),
    createdFrom: once
      .refine((v) => isoInstant.safeParse(v).success, 'must be an ISO 8601 date, or date-time with a zone')
      .transform((v) => new Date(v))
      .optional(),
    createdTo: once
      .refine((v) => isoInstant.safeParse(v).success, 'must be an ISO 8601 date, or date-time with a zone')
      .transform((v) => new Date(v))
      .optional(),
    visibility: once.pipe(z.enum(VISIBILITIES, `must be one of ${VISIBILITIES.join(', ')}`)).optional(),
    viewerCountry: countryCode.optional(),
    limit: pageLimit.optional(),
    cursor: cursorOf(decodeSearchCursor).optional(),
  })
  .strict()
  .refine((q) => !q.createdFrom || !q.createdTo || q.createdFrom < q.createdTo, {
    message: 'must be later than createdFrom',
    path: ['createdTo'],
  });

/** GET /media: the assets the caller may read (its own and those granted to it or its groups), newest first. */
export function searchRoutes({ services }: RouteContext): Router {
  const router = Router();

  router.get('/media', async (req, res) => {
    const principal = principalOf(req);
    const query = parseOr400(searchQuery, req.query, 'query parameters');
    res.json(
      await services.listings.search(principal, {
        status: query.status,
        type: query.type,
        tags: query.tag ?? [],
        checksumSha256: query.checksumSha256,
        createdFrom: query.createdFrom,
        createdTo: query.createdTo,
        visibility: query.visibility,
        viewerCountry: query.viewerCountry,
        after: query.cursor,
        limit: query.limit ?? PAGE_LIMIT.default,
      }),
    );
  });

  return router;
}
