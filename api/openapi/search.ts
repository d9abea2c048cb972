import { VISIBILITIES } from '../../domain/visibility';
import {
  COUNTRY_CODES,
  CURSOR,
  isoInstant,
  LISTED_STATUSES,
  LISTED_TYPES,
  MAX_TAG_FILTERS,
  PAGE_LIMIT,
  SHA256,
  TAG_FILTER,
} from '../routes/search';
import { fromZod, json, object, problems, ref, type ApiArea, type Json } from './common';

export const query = (name: string, description: string, schema: Json, extra: Json = {}): Json => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
  ...extra,
});

/** What a `next` looks like: the position and id of the last item of a page. */
export const CURSOR_EXAMPLE = Buffer.from(
  JSON.stringify(['2026-01-01T00:00:00.000000Z', '00000000-0000-4000-8000-000000000000']),
).toString('base64url');

/** The query api/routes/search.ts parses (searchQuery), parameter by parameter, from the same constants. */
const parameters: Json[] = [
  query('status', 'Only assets in this status.', { type: 'string', enum: LISTED_STATUSES }),
  query('type', 'A family (image, video, audio, document) or an allowed content type.', {
    type: 'string',
    enum: LISTED_TYPES,
  }),
  query(
    'tag',
    `key:value, split at the first colon; repeat for several (all must match), at most ${MAX_TAG_FILTERS}.`,
    {
      type: 'array',
      maxItems: MAX_TAG_FILTERS,
      items: { type: 'string', pattern: TAG_FILTER.source },
    },
    { style: 'form', explode: true },
  ),
  query(
    'checksumSha256',
    "Only the caller's own assets with these bytes (SHA-256, hex); shared assets never.",
    {
      type: 'string',
      pattern: SHA256.source,
    },
  ),
  query('createdFrom', 'ISO 8601 date, or date-time with a zone (inclusive).', {
    ...fromZod(isoInstant),
    examples: ['2026-01-01'],
  }),
  query(
    'createdTo',
    'ISO 8601 date, or date-time with a zone (exclusive); must be later than createdFrom (400 otherwise).',
    { ...fromZod(isoInstant), examples: ['2027-01-01T00:00:00Z'] },
  ),
  query('visibility', 'Only assets of this visibility.', { type: 'string', enum: VISIBILITIES }),
  query(
    'viewerCountry',
    "ISO 3166-1 alpha-2: leave out what a viewer in this country may not watch (its regional policy), the caller's own assets included.",
    { type: 'string', enum: COUNTRY_CODES },
  ),
  query('limit', 'Items per page.', {
    type: 'integer',
    minimum: PAGE_LIMIT.min,
    maximum: PAGE_LIMIT.max,
    default: PAGE_LIMIT.default,
  }),
  query('cursor', 'The `next` of the previous page; any other value answers 400.', {
    type: 'string',
    pattern: CURSOR.source,
    examples: [CURSOR_EXAMPLE],
  }),
];

/** api/routes/search.ts: listings. */
export const searchArea: ApiArea = {
  paths: {
    '/media': {
      get: {
        operationId: 'listAssets',
        tags: ['media'],
        summary:
          "The caller's assets (drafts included) and those granted to it or its groups (a draft only with write or delete), newest first",
        parameters,
        responses: {
          200: json(
            'One page',
            object({
              items: { type: 'array', items: ref('AssetSummary') },
              next: {
                anyOf: [{ type: 'string', pattern: CURSOR.source }, { type: 'null' }],
                description: 'The cursor of the next page; null on the last.',
              },
            }),
          ),
          ...problems(400, 401),
        },
      },
    },
  },
};
