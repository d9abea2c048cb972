import { z } from 'zod';
import { isCountryCode, normalisePolicy, type RegionPolicy } from '../domain/delivery/regions';

/** The regional policy as requests state it: PUT /media/:id/regions and, optionally, the upload request. */

export const MAX_POLICY_COUNTRIES = 250;

/** Every ISO 3166-1 alpha-2 code, any case (`de` is DE), as one pattern: the document states exactly what passes. */
const CODES = Array.from({ length: 26 * 26 }, (_, i) =>
  String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)),
);
const either = (c: string) => `[${c}${c.toLowerCase()}]`;
export const COUNTRY_CODE = new RegExp(
  `^(?:${CODES.filter(isCountryCode)
    .map((c) => either(c[0]!) + either(c[1]!))
    .join('|')})$`,
);

const countries = (mode: string) =>
  z
    .array(z.string().regex(COUNTRY_CODE, 'is not an ISO 3166-1 alpha-2 country code'))
    .min(1, `must name at least one country (send {} for no policy, not an empty ${mode} list)`)
    .max(MAX_POLICY_COUNTRIES, `at most ${MAX_POLICY_COUNTRIES} countries`);

/**
 * `{"allow": [...]}` (only there), `{"block": [...]}` (everywhere but there) or `{}` (no policy): one object per
 * decision, so "both" and "neither list but a mode" cannot be said.
 */
export const regionsBody = z
  .object({ allow: countries('allow').optional(), block: countries('block').optional() })
  .strict()
  .refine((b) => !(b.allow && b.block), {
    message: 'give allow or block, not both',
    path: ['block'],
  });

export function policyOf(body: z.output<typeof regionsBody>): RegionPolicy | null {
  if (body.allow) return normalisePolicy('allow', body.allow);
  if (body.block) return normalisePolicy('block', body.block);
  return null;
}
