import { MAX_WEBHOOKS_PER_OWNER, webhookBody } from '../routes/webhooks';
import { annotate, dateTime, fromZod, json, jsonBody, object, problems, uuid, type ApiArea } from './common';

const webhook = { webhookId: uuid, url: { type: 'string', format: 'uri' }, createdAt: dateTime };

/** api/routes/webhooks.ts: an owner's registrations. */
export const webhooksArea: ApiArea = {
  paths: {
    '/webhooks': {
      post: {
        operationId: 'registerWebhook',
        tags: ['webhooks'],
        summary: "Register a URL to receive every status transition of the caller's assets",
        requestBody: jsonBody(
          annotate(fromZod(webhookBody), {
            url: {
              format: 'uri',
              description:
                'Where deliveries are POSTed. Refused (400) besides: hosts that resolve to private addresses, ' +
                'unless WEBHOOK_ALLOW_PRIVATE_NETWORKS.',
            },
          }),
        ),
        responses: {
          201: {
            ...json(
              'Registered; the secret that signs deliveries is shown this once',
              object({ ...webhook, secret: { type: 'string', pattern: '^[0-9a-f]{64}$' } }),
            ),
            links: {
              deleteWebhook: {
                operationId: 'deleteWebhook',
                parameters: { id: '$response.body#/webhookId' },
              },
            },
          },
          ...problems(
            [400, 'The body is invalid, or the URL is refused (not http(s), or a private address).'],
            401,
            [409, `The owner has ${MAX_WEBHOOKS_PER_OWNER} webhooks already.`],
          ),
        },
      },
      get: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: "The caller's webhooks, without their secrets",
        responses: {
          200: json(
            'The webhooks, oldest first',
            object({ webhooks: { type: 'array', items: object(webhook) } }),
          ),
          ...problems(401),
        },
      },
    },
    '/webhooks/{id}': {
      delete: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete one of the caller’s webhooks and its pending deliveries',
        parameters: [{ name: 'id', in: 'path', required: true, schema: uuid }],
        responses: {
          204: { description: 'Deleted' },
          ...problems(401, [404, 'No such webhook among the caller’s (a malformed id included).']),
        },
      },
    },
  },
};
