import { patchBody } from '../routes/metadata';
import { assetIdParameter, fromZod, json, jsonBody, object, problems, uuid, type ApiArea } from './common';

/** api/routes/metadata.ts: the user's tags. */
export const metadataArea: ApiArea = {
  paths: {
    '/media/{id}/metadata': {
      patch: {
        operationId: 'changeMetadata',
        tags: ['media'],
        summary: 'Set and remove user tags (write permission); media.* keys are reserved',
        parameters: [assetIdParameter],
        requestBody: jsonBody(fromZod(patchBody)),
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
