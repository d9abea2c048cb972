import { aclBody } from '../routes/acl';
import { assetIdParameter, fromZod, json, jsonBody, object, problems, uuid, type ApiArea } from './common';

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
