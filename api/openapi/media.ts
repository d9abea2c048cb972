import { assetIdParameter, json, object, problems, ref, uuid, type ApiArea } from './common';

const parameters = [assetIdParameter];

/** api/routes/media.ts: one asset. */
export const mediaArea: ApiArea = {
  paths: {
    '/media/{id}': {
      get: {
        operationId: 'getAsset',
        tags: ['media'],
        summary: 'The asset: its record, tags, renditions, events and live stage (read permission)',
        parameters,
        responses: { 200: json('The asset', ref('Asset')), ...problems(400, 401, 404) },
      },
      delete: {
        operationId: 'deleteAsset',
        tags: ['media'],
        summary:
          'Delete the asset (delete permission): to the trash, or purged at once while pending or processing',
        parameters,
        responses: {
          202: json('Deletion requested; `status` is the status now', ref('AssetStatusChange')),
          ...problems(400, 401, [403, 'The caller may read the asset but not delete it.'], 404, 503),
        },
      },
    },
    '/media/{id}/restore': {
      post: {
        operationId: 'restoreAsset',
        tags: ['media'],
        summary: 'Take a deleted asset back out of the trash (delete permission)',
        parameters,
        responses: {
          202: json(
            'Restore requested',
            object({ assetId: uuid, status: ref('AssetStatus'), restoring: { const: true } }),
          ),
          ...problems(
            400,
            401,
            [403, 'The caller may read the asset but not delete (or restore) it.'],
            404,
            [409, 'The asset is not in the trash.'],
            503,
          ),
        },
      },
    },
    '/media/{id}/retry': {
      post: {
        operationId: 'retryAsset',
        tags: ['admin'],
        summary: 'Retry the failed stage of a failed asset (operators only)',
        parameters,
        responses: {
          202: json(
            'Retry requested',
            object({ assetId: uuid, status: ref('AssetStatus'), retrying: { type: ['string', 'null'] } }),
          ),
          ...problems(
            400,
            401,
            [404, 'No such asset; to anyone but an operator the route itself does not exist.'],
            [409, 'The asset has not failed.'],
            503,
          ),
        },
      },
    },
  },
};
