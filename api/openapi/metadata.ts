import { patchBody } from '../routes/metadata';
import { MAX_USER_TAGS, metadataJsonSchema, metadataKeyJsonSchema } from '../schemas';
import {
  annotate,
  assetIdParameter,
  fromZod,
  json,
  jsonBody,
  object,
  problems,
  uuid,
  type ApiArea,
} from './common';

const body = {
  ...annotate(fromZod(patchBody), {
    set: { ...metadataJsonSchema, description: 'Tags to set (added or replaced).' },
    remove: {
      type: 'array',
      maxItems: MAX_USER_TAGS,
      items: metadataKeyJsonSchema,
      description:
        'Tag keys to remove; absent ones are ignored. A key may not be both set and removed (400).',
    },
  }),
  // At least one key set or removed.
  anyOf: [
    { required: ['set'], properties: { set: { type: 'object', minProperties: 1 } } },
    { required: ['remove'], properties: { remove: { type: 'array', minItems: 1 } } },
  ],
  description: `At most ${MAX_USER_TAGS} user tags per asset after the change (400 otherwise).`,
};

/** api/routes/metadata.ts: the user's tags. */
export const metadataArea: ApiArea = {
  paths: {
    '/media/{id}/metadata': {
      patch: {
        operationId: 'changeMetadata',
        tags: ['media'],
        summary: 'Set and remove user tags (write permission); media.* keys are reserved',
        parameters: [assetIdParameter],
        requestBody: jsonBody(body),
        responses: {
          200: json(
            "The asset's user tags after the change",
            object({ assetId: uuid, metadata: { type: 'object', additionalProperties: { type: 'string' } } }),
          ),
          ...problems(400, 401, [403, 'The caller may read the asset but not write it.'], 404, [
            409,
            'The asset is deleted.',
          ]),
        },
      },
    },
  },
};
