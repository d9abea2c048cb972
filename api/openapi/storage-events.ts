import { notificationSchema } from '../routes/storage-events';
import { fromZod, json, jsonBody, object, problems, type ApiArea } from './common';

/** api/routes/storage-events.ts: S3 event notifications complete uploads without the client's call. */
export const storageEventsArea: ApiArea = {
  paths: {
    '/storage-events': {
      post: {
        operationId: 'storageEvents',
        tags: ['uploads'],
        summary: 'S3 event notifications (AWS, MinIO and versitygw shapes)',
        description:
          'ObjectCreated records for pending uploads complete them; every other record (test events, foreign ' +
          'objects) is acknowledged and ignored, so S3 does not redeliver it.',
        security: [{ storageSecretHeader: [] }, { storageSecretQuery: [] }],
        requestBody: jsonBody(fromZod(notificationSchema), false),
        responses: {
          200: json(
            'Acknowledged',
            object({ signalled: { type: 'integer', minimum: 0 }, ignored: { type: 'integer', minimum: 0 } }),
          ),
          ...problems(
            [400, 'The body is not an S3 notification envelope (an object, `Records` an array if present).'],
            [401, 'The shared secret is missing or wrong.'],
            [404, 'Storage events are disabled (STORAGE_EVENTS_SECRET is not set).'],
            503,
          ),
        },
      },
    },
  },
};
