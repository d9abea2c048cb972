import { releaseRequestSchema } from '../schemas';
import {
  annotate,
  assetIdParameter,
  dateTime,
  fromZod,
  json,
  jsonBody,
  nullable,
  object,
  problems,
  ref,
  uuid,
  type ApiArea,
} from './common';

const release = object({
  assetId: uuid,
  visibility: ref('Visibility'),
  publishAt: nullable(dateTime),
  publishAs: nullable({ type: 'string', enum: ['private', 'unlisted', 'public'] }),
  unpublishAt: nullable(dateTime),
  releasedAt: nullable(dateTime),
});

const body = annotate(fromZod(releaseRequestSchema), {
  visibility: {
    description:
      'The visibility now, or with a future publishAt the one the asset is released as (a draft cannot be scheduled).',
  },
  publishAt: {
    description:
      'Until then the asset stays a draft (if it is one) or private; its workflow changes it at that instant. ' +
      'In the past: applied now.',
  },
  unpublishAt: {
    description:
      'From then on the asset is private again; delivery URLs never outlive it. Must be after publishAt and in the future.',
  },
});

const ownerOnly: [number, string] = [
  403,
  'Only the owner (or an operator) may see or change who can see it.',
];

/** api/routes/visibility.ts: who may see an asset, and from when to when. */
export const visibilityArea: ApiArea = {
  paths: {
    '/media/{id}/visibility': {
      get: {
        operationId: 'getVisibility',
        tags: ['access'],
        summary: "The asset's visibility and scheduled release (owner or operator)",
        parameters: [assetIdParameter],
        responses: {
          200: json('Its visibility and schedule', release),
          ...problems(400, 401, ownerOnly, 404),
        },
      },
      put: {
        operationId: 'setVisibility',
        tags: ['access'],
        summary:
          'Set the visibility now or schedule a release (owner or operator); asset.published / asset.unpublished webhooks follow',
        parameters: [assetIdParameter],
        requestBody: jsonBody(body),
        responses: {
          200: json('Its visibility and schedule now', release),
          ...problems(400, 401, ownerOnly, 404, [
            409,
            'The asset is deleted, or a schedule was asked of an asset whose lifecycle has ended (rejected, expired).',
          ]),
        },
      },
    },
  },
};
