import { z } from 'zod';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) or any other part of the document, as plain JSON. */
export type Json = Record<string, unknown>;
export type Method = 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete';
export type Operation = Json & { responses: Record<string, Json> };
export type PathItem = Partial<Record<Method, Operation>>;
/** One area's part of the document: its paths and the component schemas they refer to. */
export interface ApiArea {
  paths: Record<string, PathItem>;
  schemas?: Record<string, Json>;
}

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** Request schemas come from the zod schemas the routes parse with: what is documented is what is enforced. */
export function fromZod(schema: z.ZodType): Json {
  const json: Json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  delete json.$schema;
  return json;
}

/** Adds descriptions (or other keywords) to properties of a generated object schema. */
export function annotate(schema: Json, properties: Record<string, Json>): Json {
  const props = schema.properties as Record<string, Json>;
  for (const [name, extra] of Object.entries(properties)) {
    if (!props[name]) throw new Error(`annotate: the schema has no property ${name}`);
    Object.assign(props[name], extra);
  }
  return schema;
}

/** A zod object schema for a query string, as OpenAPI query parameters. */
export function queryParameters(schema: z.ZodType, descriptions: Record<string, Json> = {}): Json[] {
  const json = annotate(fromZod(schema), descriptions);
  const required = (json.required as string[] | undefined) ?? [];
  return Object.entries(json.properties as Record<string, Json>).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: required.includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

export const jsonBody = (schema: Json, required = true): Json => ({
  required,
  content: { 'application/json': { schema } },
});

export const json = (description: string, schema: Json, headers?: Json): Json => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});

/**
 * OpenAPI links from a response that names an asset (`$response.body#/assetId`) to the operations that take it, so
 * a client (and schemathesis' stateful phase) can follow a created id to everything that uses it.
 */
export function linksTo(operationIds: string[], pointer = '$response.body#/assetId'): Json {
  return Object.fromEntries(
    operationIds.map((operationId) => [operationId, { operationId, parameters: { id: pointer } }]),
  );
}

/** Every operation that takes an asset id in its path as `{id}`. */
export const ASSET_OPERATIONS = [
  'getAsset',
  'deleteAsset',
  'restoreAsset',
  'completeUpload',
  'getUpload',
  'abortUpload',
  'changeMetadata',
  'getContent',
  'getAcl',
  'replaceAcl',
  'replaceRegions',
];

export const object = (properties: Record<string, Json>, required = Object.keys(properties)): Json => ({
  type: 'object',
  required,
  properties,
  additionalProperties: false,
});

export const uuid: Json = { type: 'string', format: 'uuid' };
export const dateTime: Json = { type: 'string', format: 'date-time' };
export const nullable = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });

export const assetIdParameter: Json = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The asset id (a UUID); anything else answers 400.',
  schema: { type: 'string', format: 'uuid' },
};

const DEFAULT_PROBLEMS: Record<number, string> = {
  400: 'The request is invalid: bad JSON, a malformed id, or fields that fail validation (listed in `errors`).',
  401: 'No valid bearer token.',
  403: 'The caller may read the asset but not do this.',
  404: 'No such asset, or one the caller may not read: the two are indistinguishable.',
  409: 'The asset is not in a state that allows this.',
  413: 'The JSON body exceeds JSON_BODY_LIMIT_BYTES.',
  415: 'The body is in a charset or content encoding the API does not read (UTF-8; identity, gzip, deflate).',
  503: 'A dependency (Postgres, S3, Temporal) could not be reached, or the API is at its concurrency limit; retry after the given number of seconds.',
};

const PROBLEM_HEADERS: Record<number, Json> = {
  401: { 'WWW-Authenticate': { schema: { type: 'string', const: 'Bearer' } } },
  503: { 'Retry-After': { schema: { type: 'integer' } } },
};

export function problem(status: number, description = DEFAULT_PROBLEMS[status]): Json {
  if (!description) throw new Error(`problem ${status} needs a description`);
  return {
    description,
    ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

/** Error responses by status: a number takes the default description, [status, text] its own. */
export const problems = (...entries: (number | [number, string])[]): Record<string, Json> =>
  Object.fromEntries(
    entries.map((e) =>
      typeof e === 'number' ? [String(e), problem(e)] : [String(e[0]), problem(e[0], e[1])],
    ),
  );

/** RFC 9457; extension members may follow (a quota problem adds `limits` and `usage`). */
export const problemSchema: Json = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: {
      type: 'string',
      format: 'uri-reference',
      description: 'Always about:blank: the status says it all.',
    },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string', description: 'What went wrong, for a human.' },
    instance: { type: 'string', description: 'The request path and query.' },
    errors: {
      type: 'array',
      description: 'One entry per invalid field (validation problems only).',
      items: object({ field: { type: 'string' }, message: { type: 'string' } }),
    },
  },
};
