import { json, type ApiArea } from './common';

const noAuth = { security: [] };

export const healthArea: ApiArea = {
  paths: {
    '/healthz': {
      get: {
        operationId: 'liveness',
        tags: ['health'],
        summary: 'Liveness: the process answers',
        ...noAuth,
        responses: {
          200: json('Alive', {
            type: 'object',
            required: ['status'],
            properties: { status: { const: 'ok' } },
            additionalProperties: false,
          }),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        tags: ['health'],
        summary: 'Prometheus metrics: process, and request latency by route pattern and status',
        ...noAuth,
        responses: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readiness',
        tags: ['health'],
        summary: 'Readiness: Postgres, S3 and Temporal each answered within 3 s',
        ...noAuth,
        responses: {
          200: json('Every dependency answered', { $ref: '#/components/schemas/Readiness' }),
          503: json(
            'A dependency did not answer; `checks` says which',
            { $ref: '#/components/schemas/Readiness' },
            {
              'Retry-After': { schema: { type: 'integer' } },
            },
          ),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        tags: ['health'],
        summary: 'This document',
        ...noAuth,
        responses: {
          200: json('The OpenAPI 3.1 description of every route', {
            type: 'object',
            required: ['openapi', 'paths'],
            properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' }, paths: { type: 'object' } },
          }),
        },
      },
    },
  },
  schemas: {
    Readiness: {
      type: 'object',
      required: ['status', 'checks'],
      properties: {
        status: { enum: ['ready', 'unavailable'] },
        checks: {
          type: 'object',
          description: '`ok`, or `error: <why>` for each dependency.',
          required: ['database', 'objectStore', 'temporal'],
          properties: {
            database: { type: 'string' },
            objectStore: { type: 'string' },
            temporal: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
};
