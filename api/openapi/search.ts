import { ASSET_STATUSES } from '../../shared/asset-status';
import { searchQuery } from '../routes/search';
import { json, object, problems, queryParameters, ref, type ApiArea } from './common';

/** api/routes/search.ts: listings. */
export const searchArea: ApiArea = {
  paths: {
    '/media': {
      get: {
        operationId: 'listAssets',
        tags: ['media'],
        summary: "The caller's assets and those granted to it or its groups, newest first",
        parameters: queryParameters(searchQuery, {
          status: { enum: ASSET_STATUSES.filter((s) => s !== 'deleted') },
          type: { description: 'A family (image, video, audio, document) or an allowed content type.' },
          tag: { description: 'key:value; repeat for several (all must match), at most 10.' },
          createdFrom: { description: 'ISO 8601 date, or date-time with a zone (inclusive).' },
          createdTo: {
            description: 'ISO 8601 date, or date-time with a zone (exclusive); after createdFrom.',
          },
          limit: { description: '1-100, default 50.' },
          cursor: { description: 'The `next` of the previous page.' },
        }),
        responses: {
          200: json(
            'One page',
            object({
              items: { type: 'array', items: ref('AssetSummary') },
              next: {
                type: ['string', 'null'],
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
