import { problems, type ApiArea, type Operation } from './common';

const bytes = {
  content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};
const cacheHeaders = {
  'Cache-Control': {
    schema: { type: 'string' },
    description: 'private, no-store for originals; immutable below.',
  },
  ETag: { schema: { type: 'string' } },
};

function origin(method: 'get' | 'head'): Operation {
  return {
    operationId: method === 'get' ? 'originGet' : 'originHead',
    tags: ['delivery'],
    summary: `${method.toUpperCase()} delivered bytes: the origin behind the edge`,
    description:
      'Authorised by the delivery token in the query (scope `d`) or by a `*` read grant (scope `p`), never by a ' +
      'JWT. An asset with a regional policy is served only to viewers it allows (else 451). Single byte ranges ' +
      'and If-None-Match are honoured; HLS playlists come back with their URIs signed.',
    security: [{ deliveryToken: [] }, {}],
    parameters: [
      {
        name: 'scope',
        in: 'path',
        required: true,
        schema: { enum: ['d', 'p'] },
        description: 'd: signed, p: public.',
      },
      { name: 'assetId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
      {
        name: 'path',
        in: 'path',
        required: true,
        description: 'Spans segments: `original`, `r/<rendition>`, `hls/master.m3u8` or `hls/<rung>/<file>`.',
        schema: { type: 'string', pattern: '^(original|r/[^/]+|hls/[^/]+(/[^/]+)?)$' },
      },
      {
        name: 'md5',
        in: 'query',
        description:
          'Scope d: base64url(md5(`<expires>/d/<assetId>/<geo> <DELIVERY_SIGNING_SECRET>`)), unpadded; `<geo>` is ' +
          'empty without a regional policy.',
        schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}={0,2}$' },
      },
      {
        name: 'expires',
        in: 'query',
        description: 'Scope d: when the token ends, in Unix seconds.',
        schema: { type: 'string', pattern: '^[0-9]{1,12}$' },
      },
      {
        name: 'geo',
        in: 'query',
        description:
          "Scope d: the asset's regional policy the token binds, `allow.DE.FR` or `block.RU`; present exactly when " +
          'the asset had one at signing. Changing or removing it invalidates the token.',
        schema: { type: 'string', pattern: '^(allow|block)(\\.[A-Z]{2})+$' },
      },
      {
        name: 'X-Viewer-Country',
        in: 'header',
        description:
          "The viewer's country as the edge determined it (ISO 3166-1 alpha-2); believed only from " +
          'GEO_TRUSTED_PROXIES, as is GEO_COUNTRY_HEADER. Anyone else is located by GEOIP_DATABASE.',
        schema: { type: 'string' },
      },
      { name: 'Range', in: 'header', schema: { type: 'string', examples: ['bytes=0-1023'] } },
      { name: 'If-None-Match', in: 'header', schema: { type: 'string' } },
    ],
    responses: {
      200: {
        description: 'The bytes (none for HEAD)',
        headers: cacheHeaders,
        ...(method === 'get' ? bytes : {}),
      },
      ...(method === 'get'
        ? {
            206: {
              description: 'One byte range',
              headers: { ...cacheHeaders, 'Content-Range': { schema: { type: 'string' } } },
              ...bytes,
            },
          }
        : {}),
      304: { description: 'If-None-Match matched', headers: cacheHeaders },
      ...problems(
        [403, 'Scope d: the token is missing or wrong.'],
        [404, 'No such path, asset or rendition, the asset is not ready, or (scope p) not public.'],
        [410, 'Scope d: the token was right but has expired.'],
        [
          451,
          "The asset's regional policy (bound into the token, or the asset's current one) does not allow the " +
            "viewer's country; `detail` names it (or unknown), as does the extension member `country`.",
        ],
        ...(method === 'get'
          ? [[416, 'The range lies outside the object (Content-Range: bytes */<size>).'] as [number, string]]
          : []),
      ),
    },
  };
}

/** api/routes/origin.ts. Express answers HEAD with the GET route, so one route serves both operations. */
export const originArea: ApiArea = {
  paths: { '/origin/{scope}/{assetId}/{path}': { get: origin('get'), head: origin('head') } },
};
