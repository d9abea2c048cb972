import { failuresQuery } from '../routes/admin';
import { dateTime, json, nullable, object, problems, queryParameters, uuid, type ApiArea } from './common';

/** api/routes/admin.ts: operator views. */
export const adminArea: ApiArea = {
  paths: {
    '/admin/failures': {
      get: {
        operationId: 'listFailures',
        tags: ['admin'],
        summary: 'Failed assets, most recently failed first (operators only)',
        parameters: queryParameters(failuresQuery, {
          before: { description: 'The `next` of the previous page.' },
        }),
        responses: {
          200: json(
            'One page',
            object({
              failures: {
                type: 'array',
                items: object({
                  assetId: uuid,
                  ownerId: { type: 'string' },
                  contentType: { type: 'string' },
                  stage: nullable({ type: 'string' }),
                  error: nullable({ type: 'string' }),
                  attempts: { type: 'integer' },
                  failedAt: dateTime,
                }),
              },
              next: nullable({ type: 'string' }),
            }),
          ),
          ...problems([400, 'The query is invalid.'], 401, [
            404,
            'To anyone but an operator the route does not exist.',
          ]),
        },
      },
    },
    '/admin/dead-letters': {
      get: {
        operationId: 'listDeadLetters',
        tags: ['admin'],
        summary:
          'Poison inputs: assets whose stage lost its worker (crash, out of memory, hang), or whose scan lost the scanner, 3 times, most recent first (operators only)',
        parameters: queryParameters(failuresQuery, {
          before: { description: 'The `next` of the previous page.' },
        }),
        responses: {
          200: json(
            'One page',
            object({
              deadLetters: {
                type: 'array',
                items: object({
                  assetId: uuid,
                  stage: { type: 'string' },
                  cause: {
                    type: 'string',
                    description: 'The lost attempts\' causes, e.g. "heartbeat timeout ×3".',
                  },
                  attempts: { type: 'integer', description: 'Lost attempts, over every quarantine.' },
                  quarantines: { type: 'integer' },
                  sha256: nullable({ type: 'string' }),
                  blobKey: nullable({ type: 'string', description: 'Where the input is stored.' }),
                  firstSeenAt: dateTime,
                  lastSeenAt: dateTime,
                  assetStatus: {
                    type: 'string',
                    description: "The asset's status now (a retry may have fixed it).",
                  },
                }),
              },
              next: nullable({ type: 'string' }),
            }),
          ),
          ...problems([400, 'The query is invalid.'], 401, [
            404,
            'To anyone but an operator the route does not exist.',
          ]),
        },
      },
    },
  },
};
