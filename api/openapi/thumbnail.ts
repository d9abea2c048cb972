import { thumbnailQuery } from '../routes/thumbnail';
import { assetIdParameter, problems, queryParameters, type ApiArea } from './common';

/** api/routes/thumbnail.ts: a video frame at a requested time. */
export const thumbnailArea: ApiArea = {
  paths: {
    '/media/{id}/thumbnail': {
      get: {
        operationId: 'getThumbnail',
        tags: ['delivery'],
        summary:
          'Redirect to a JPEG frame of the video at a time (read permission), made on the first request and cached as a rendition',
        parameters: [
          assetIdParameter,
          ...queryParameters(thumbnailQuery, {
            time: { description: 'Seconds from the start, 0 to the video’s duration, at most 3 decimals.' },
            width: {
              description:
                'Width in pixels (default 640), never above the video’s own; the height keeps its shape.',
            },
          }),
        ],
        responses: {
          302: {
            description:
              'To the edge: the cached rendition `thumb-t<milliseconds>-w<width>` (image/jpeg), signed for this caller or the stable public URL',
            headers: { Location: { required: true, schema: { type: 'string', format: 'uri' } } },
          },
          ...problems(
            [400, 'Bad query, or a time beyond the video’s duration (`errors` names `time`).'],
            401,
            [
              403,
              'Embargoed: a release is scheduled, and until then only its owner (or an operator) is delivered it.',
            ],
            [404, 'No such asset (or not readable).'],
            [409, 'The asset is not ready, is not a video, or no frame could be read at that time.'],
            [429, 'The asset already holds THUMBNAILS_PER_ASSET cached thumbnails; only those are served.'],
            [
              451,
              "Regional rights refuse the viewer's country (when the API knows it: a trusted proxy's header or GEOIP_DATABASE).",
            ],
            [
              503,
              'Temporal or the media workers did not answer in time; ask again (the frame may be made by then).',
            ],
          ),
        },
      },
    },
  },
};
