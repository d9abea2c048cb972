import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * nginx secure_link tokens (md5 + expires), scoped to an asset's prefix so that one token covers the whole HLS tree:
 *
 *   token = base64url(md5(`${expires}${prefix}${geo} ${secret}`)), no padding; prefix = `/d/<assetId>/`
 *
 * where geo is the asset's regional policy (`allow.DE.FR`, domain/delivery/regions.ts; empty for none), bound so it
 * cannot be stripped. That is what `secure_link_md5 "$secure_link_expires$asset_prefix$arg_geo SECRET"` computes, so an edge verifies it without
 * calling us. Pure functions: the origin verifies with the same code (devstack/nginx.ts holds the edge's side).
 */

export type SecureLinkVerdict = 'valid' | 'invalid' | 'expired';

export interface SignedQuery {
  md5: string;
  expires: string;
  /** The regional policy the token binds (regionParam); absent for none. */
  geo?: string | undefined;
}

export const signedPrefix = (assetId: string) => `/d/${assetId}/`;
export const publicPrefix = (assetId: string) => `/p/${assetId}/`;

const digest = (prefix: string, expires: string, secret: string, geo: string) =>
  createHash('md5').update(`${expires}${prefix}${geo} ${secret}`).digest();

export function secureLinkToken(
  prefix: string,
  expiresUnixSeconds: number,
  secret: string,
  geo = '',
): string {
  return digest(prefix, String(expiresUnixSeconds), secret, geo).toString('base64url');
}

export function signQuery(
  assetId: string,
  expiresUnixSeconds: number,
  secret: string,
  geo = '',
): SignedQuery {
  return {
    md5: secureLinkToken(signedPrefix(assetId), expiresUnixSeconds, secret, geo),
    expires: String(expiresUnixSeconds),
    ...(geo ? { geo } : {}),
  };
}

export const queryString = (q: SignedQuery) =>
  `md5=${q.md5}&expires=${q.expires}${q.geo ? `&geo=${q.geo}` : ''}`;

// nginx decodes up to the first non-alphabet character, so it tolerates '=' padding; so do we.
const TOKEN = /^[A-Za-z0-9_-]{22}={0,2}$/;
const EXPIRES = /^\d{1,12}$/;
const GEO = /^(?:allow|block)(?:\.[A-Z]{2})+$/;

/**
 * nginx's order: a malformed or wrong token is invalid (403) whatever its expiry; only a correct token can be
 * expired (410). `expires` is hashed as the client sent it, exactly as nginx hashes `$secure_link_expires`.
 */
export function verifySecureLink(
  prefix: string,
  md5: unknown,
  expires: unknown,
  secret: string,
  nowUnixSeconds = Math.floor(Date.now() / 1000),
  geo: unknown = undefined,
): SecureLinkVerdict {
  if (typeof md5 !== 'string' || typeof expires !== 'string') return 'invalid';
  if (!TOKEN.test(md5) || !EXPIRES.test(expires) || Number(expires) <= 0) return 'invalid';
  if (geo !== undefined && (typeof geo !== 'string' || !GEO.test(geo))) return 'invalid';
  const given = Buffer.from(md5.replace(/=+$/, ''), 'base64url');
  const expected = digest(prefix, expires, secret, geo ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return Number(expires) < nowUnixSeconds ? 'expired' : 'valid';
}
