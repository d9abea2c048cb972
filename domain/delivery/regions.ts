/**
 * Regional rights: an asset is allowed in a list of countries (everywhere else refused) or blocked in one (allowed
 * everywhere else). Countries are ISO 3166-1 alpha-2 codes. A viewer whose country is unknown is refused by an
 * allow list (its rights were granted for named countries) and let through by a block list.
 */
export type RegionMode = 'allow' | 'block';

export interface RegionPolicy {
  mode: RegionMode;
  countries: string[];
}

/** Every officially assigned ISO 3166-1 alpha-2 code (249), plus XK (Kosovo, user-assigned but used by CDNs). */
const ISO_3166_ALPHA2 = new Set(
  (
    'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY ' +
    'BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK ' +
    'FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR ' +
    'IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ' +
    'ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM ' +
    'PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF ' +
    'TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK'
  ).split(' '),
);

export const isCountryCode = (code: string): boolean => ISO_3166_ALPHA2.has(code);

/** Upper-cased and de-duplicated, in a stable order (the token binds the policy's text). */
export function normalisePolicy(mode: RegionMode, countries: string[]): RegionPolicy {
  return { mode, countries: [...new Set(countries.map((c) => c.toUpperCase()))].sort() };
}

export function regionAllows(policy: RegionPolicy | null, country: string | undefined): boolean {
  if (!policy) return true;
  const listed = country !== undefined && policy.countries.includes(country.toUpperCase());
  return policy.mode === 'allow' ? listed : !listed;
}

/**
 * The policy as the delivery token carries it (`geo=allow.DE.FR`), so an edge can check it without calling us:
 * devstack/nginx.ts matches `$arg_geo|$viewer_country` against it. Empty for no policy.
 */
export function regionParam(policy: RegionPolicy | null): string {
  return policy ? [policy.mode, ...policy.countries].join('.') : '';
}

const PARAM = /^(allow|block)((?:\.[A-Z]{2})+)$/;

/** The policy a token's `geo` parameter names; undefined when it is malformed (the token is then invalid). */
export function parseRegionParam(value: string): RegionPolicy | null | undefined {
  if (value === '') return null;
  const m = PARAM.exec(value);
  if (!m) return undefined;
  return { mode: m[1] as RegionMode, countries: m[2]!.slice(1).split('.') };
}

/** From a row's columns. */
export const regionPolicyOf = (row: { region_mode: RegionMode | null; regions: string[] }) =>
  row.region_mode ? { mode: row.region_mode, countries: row.regions } : null;
