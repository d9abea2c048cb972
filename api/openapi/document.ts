import type { ApiDeps } from '../deps';
import { aclArea } from './acl';
import { visibilityArea } from './visibility';
import { adminArea } from './admin';
import { assetSchemas } from './assets';
import {
  problem,
  problems,
  problemSchema,
  type ApiArea,
  type Json,
  type Method,
  type Operation,
  type PathItem,
} from './common';
import { catalogArea } from './catalog';
import { companionArea } from './companion';
import { contentArea } from './content';
import { thumbnailArea } from './thumbnail';
import { healthArea } from './health';
import { mediaArea } from './media';
import { metadataArea } from './metadata';
import { originArea } from './origin';
import { regionsArea } from './regions';
import { searchArea } from './search';
import { storageEventsArea } from './storage-events';
import { uploadsArea } from './uploads';
import { webhooksArea } from './webhooks';

const securitySchemes: Json = {
  bearerAuth: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'HS256, signed with AUTH_JWT_SECRET. `sub`: the numeric owner id; `groups`: group names for group grants; ' +
      '`role: "operator"` for operators.',
  },
  deliveryToken: {
    type: 'apiKey',
    in: 'query',
    name: 'md5',
    description: 'The nginx secure_link token of a signed delivery URL, together with `expires`.',
  },
  storageSecretHeader: { type: 'apiKey', in: 'header', name: 'X-Assetline-Storage-Secret' },
  storageSecretQuery: { type: 'apiKey', in: 'query', name: 'token' },
};

/**
 * What operations answer besides their own: 413 and 415 with a body (the JSON parser runs before every route); 401
 * with a bearer token (every operation without a `security` of its own); 503 everywhere but the health checks
 * (Postgres or S3 away, or the concurrency limit reached); and 500 as a problem too.
 */
function withCommonProblems(operation: Operation): Operation {
  const bearer = operation.security === undefined ? problems(401) : {};
  const health = Array.isArray(operation.security) && operation.security.length === 0;
  const unavailable = health ? {} : problems(503);
  const body = operation.requestBody ? problems(413, 415) : {};
  const unexpected = problem(500, 'Unexpected error; it has been logged.');
  return {
    ...operation,
    responses: { ...bearer, ...unavailable, ...operation.responses, ...body, default: unexpected },
  };
}

function mergePaths(areas: ApiArea[]): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  for (const area of areas) {
    for (const [path, item] of Object.entries(area.paths)) {
      const merged: PathItem = (paths[path] ??= {});
      for (const method of Object.keys(item) as Method[]) {
        if (merged[method]) throw new Error(`${method.toUpperCase()} ${path} is described twice`);
        merged[method] = withCommonProblems(item[method]!);
      }
    }
  }
  return paths;
}

/** The OpenAPI 3.1 description of every route createApp serves, built from the settings it is served with. */
export function openapiDocument(settings: ApiDeps['settings']): Json {
  const areas = [
    healthArea,
    storageEventsArea,
    originArea,
    uploadsArea(settings),
    companionArea(settings),
    mediaArea,
    searchArea,
    catalogArea,
    metadataArea,
    contentArea,
    thumbnailArea,
    aclArea,
    visibilityArea,
    regionsArea,
    adminArea,
    webhooksArea,
  ];
  return {
    openapi: '3.1.1',
    info: {
      title: 'Assetline',
      version: '0.1.0',
      description:
        'Media storage and processing: pre-signed uploads to S3, one workflow per asset, signed delivery. Errors ' +
        'are application/problem+json (RFC 9457).',
    },
    security: [{ bearerAuth: [] }],
    paths: mergePaths(areas),
    components: {
      securitySchemes,
      schemas: Object.assign({ Problem: problemSchema }, assetSchemas, ...areas.map((a) => a.schemas ?? {})),
    },
  };
}
