import { MAX_POLICY_COUNTRIES, regionsBody } from '../region-schema';
import {
  assetIdParameter,
  fromZod,
  json,
  jsonBody,
  nullable,
  object,
  problems,
  uuid,
  type ApiArea,
  type Json,
} from './common';

/** What zod's JSON Schema of regionsBody leaves out: its refinement, and words. */
export const regionsBodyExtras: Json = {
  // "allow or block, not both".
  not: { required: ['allow', 'block'], properties: { allow: {}, block: {} } },
  description:
    '`{"allow": [...]}`: only in these countries; `{"block": [...]}`: everywhere but these; `{}`: no policy. ' +
    `ISO 3166-1 alpha-2 codes in any case (stored upper case, de-duplicated); 1 to ${MAX_POLICY_COUNTRIES} of them.`,
};
const body = { ...fromZod(regionsBody), ...regionsBodyExtras };

/** The policy as GET /media/{id} (`regions`) and PUT /media/{id}/regions show it. */
export const regionPolicySchema: Json = {
  ...nullable(
    object({
      mode: { enum: ['allow', 'block'] },
      countries: {
        type: 'array',
        items: { type: 'string', pattern: '^[A-Z]{2}$' },
        minItems: 1,
        maxItems: MAX_POLICY_COUNTRIES,
      },
    }),
  ),
  description:
    'Where the asset may be watched; null: everywhere. A viewer of unknown country is refused by an allow ' +
    'list and let through by a block list.',
};

const ownerOnly: [number, string] = [
  403,
  'Only the owner (or an operator) may change where an asset is seen.',
];

/** api/routes/regions.ts: regional rights, enforced at the edge and the origin (451). */
export const regionsArea: ApiArea = {
  paths: {
    '/media/{id}/regions': {
      put: {
        operationId: 'replaceRegions',
        tags: ['access'],
        summary: "Set or clear the asset's regional policy (owner or operator); the edge's copies are purged",
        description:
          'Delivery URLs issued from now on bind the new policy; URLs issued before keep their own until they ' +
          'expire, but the origin checks the current policy too, so a viewer it refuses gets 451 either way.',
        parameters: [assetIdParameter],
        requestBody: jsonBody(body),
        responses: {
          200: json('The policy now', object({ assetId: uuid, regions: regionPolicySchema })),
          ...problems(400, 401, ownerOnly, 404, [409, 'The asset is deleted.']),
        },
      },
    },
  },
};
