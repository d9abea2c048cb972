import { aclBody } from '../routes/acl';
import {
  assetIdParameter,
  fromZod,
  json,
  jsonBody,
  object,
  problems,
  uuid,
  type ApiArea,
  type Json,
} from './common';

const acl = object({
  assetId: uuid,
  grants: {
    type: 'array',
    items: object({
      principal: { type: 'string' },
      permission: { enum: ['read', 'write', 'delete'] },
    }),
  },
});
const grantsBody = fromZod(aclBody);
// "'*' (everyone) may only be granted read", the refinement zod's JSON Schema leaves out.
(((grantsBody.properties as Record<string, Json>).grants as Json).items as Json).not = {
  required: ['principal', 'permission'],
  properties: { principal: { const: '*' }, permission: { enum: ['write', 'delete'] } },
};

const ownerOnly: [number, string] = [
  403,
  'Only the owner (or an operator) may see or change who has access.',
];

/** api/routes/acl.ts: who besides the owner may read, change or delete an asset. */
export const aclArea: ApiArea = {
  paths: {
    '/media/{id}/acl': {
      get: {
        operationId: 'getAcl',
        tags: ['access'],
        summary: "The asset's grants (owner or operator)",
        parameters: [assetIdParameter],
        responses: { 200: json('The grants', acl), ...problems(400, 401, ownerOnly, 404) },
      },
      put: {
        operationId: 'replaceAcl',
        tags: ['access'],
        summary: "Replace the asset's grants (owner or operator); revoked readers lose cached copies too",
        parameters: [assetIdParameter],
        requestBody: jsonBody(grantsBody),
        responses: { 200: json('The grants now', acl), ...problems(400, 401, ownerOnly, 404) },
      },
    },
  },
};
