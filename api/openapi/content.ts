import { contentQuery } from '../routes/content';
import { assetIdParameter, problems, queryParameters, type ApiArea } from './common';

/** api/routes/content.ts: where an asset's bytes are served. */
export const contentArea: ApiArea = {
  paths: {
    '/media/{id}/content': {
      get: {
        operationId: 'getContent',
        tags: ['delivery'],
        summary: 'Redirect to a delivery URL of the original or of one rendition (read permission)',
        parameters: [
          assetIdParameter,
          ...queryParameters(contentQuery, {
            rendition: {
              description: 'A rendition the asset has (`hls`: the master playlist); default the original.',
            },
          }),
        ],
        responses: {
          302: {
            description: 'To the edge: a signed URL for this caller, or the stable public one',
            headers: { Location: { required: true, schema: { type: 'string', format: 'uri' } } },
          },
          ...problems(
            400,
            401,
            [
              403,
              'Embargoed: a release is scheduled, and until then only its owner (or an operator) is delivered it.',
            ],
            [404, 'No such asset (or not readable), or no such rendition.'],
            [409, 'The asset is not ready.'],
            [
              451,
              "Regional rights refuse the viewer's country (when the API knows it: a trusted proxy's header or GEOIP_DATABASE).",
            ],
          ),
        },
      },
    },
  },
};
