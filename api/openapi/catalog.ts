import { CATALOG_CACHE_CONTROL, CATALOG_PAGE_DEFAULT } from '../routes/catalog';
import { CURSOR, LISTED_TYPES, PAGE_LIMIT } from '../routes/search';
import { dateTime, json, nullable, object, problems, ref, uuid, type ApiArea } from './common';
import { CURSOR_EXAMPLE, query } from './search';

const url = { type: 'string', description: 'A delivery URL at the edge.' };

/** api/routes/catalog.ts: the public catalogue. */
export const catalogArea: ApiArea = {
  paths: {
    '/catalog': {
      get: {
        operationId: 'listCatalog',
        tags: ['catalog'],
        summary: "Public, released assets for anyone, newest release first, filtered by the viewer's country",
        description:
          'No token. The viewer’s country is resolved by the API (trusted proxy header or GeoIP); an asset whose ' +
          'regional policy refuses it is left out, and when it is unknown so is every asset with an allow list. ' +
          'An asset past its unpublishAt is gone. URLs are unsigned and stable, or signed (binding the regional ' +
          'policy, valid until the delivery TTL or unpublishAt) for an asset with a regional policy.',
        security: [],
        parameters: [
          query('type', 'A family (image, video, audio, document) or an allowed content type.', {
            type: 'string',
            enum: LISTED_TYPES,
          }),
          query('limit', 'Items per page.', {
            type: 'integer',
            minimum: PAGE_LIMIT.min,
            maximum: PAGE_LIMIT.max,
            default: CATALOG_PAGE_DEFAULT,
          }),
          query('cursor', 'The `next` of the previous page; any other value answers 400.', {
            type: 'string',
            pattern: CURSOR.source,
            examples: [CURSOR_EXAMPLE],
          }),
        ],
        responses: {
          200: json(
            'One page',
            object({
              items: { type: 'array', items: ref('CatalogItem') },
              next: {
                anyOf: [{ type: 'string', pattern: CURSOR.source }, { type: 'null' }],
                description: 'The cursor of the next page; null on the last.',
              },
            }),
            {
              'Cache-Control': {
                description: 'Private (the answer depends on the viewer’s country) and short.',
                schema: { type: 'string', const: CATALOG_CACHE_CONTROL },
              },
            },
          ),
          // Public, but not a health check: Postgres away is a 503 here too.
          ...problems(400, 503),
        },
      },
    },
  },
  schemas: {
    CatalogItem: object({
      assetId: uuid,
      contentType: { type: 'string' },
      filename: { type: 'string' },
      releasedAt: { ...dateTime, description: 'When it last became public: the order of the catalogue.' },
      title: { ...nullable({ type: 'string' }), description: 'The `title` tag, if set.' },
      description: { ...nullable({ type: 'string' }), description: 'The `description` tag, if set.' },
      url: { ...url, description: 'The original.' },
      renditions: {
        type: 'array',
        items: object({
          name: { type: 'string' },
          mimeType: { type: 'string' },
          width: nullable({ type: 'integer' }),
          height: nullable({ type: 'integer' }),
          url,
        }),
      },
    }),
  },
};
