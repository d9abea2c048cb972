import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * nginx secure_link tokens (md5 + expires), scoped to an asset's prefix so that one token covers the whole HLS tree:
 *
 *   token = base64url(md5(`${expires}${prefix} ${secret}`)), no padding; prefix = `/d/<assetId>/`
 *
 * which is what `secure_link_md5 "$secure_link_expires$asset_prefix SECRET"` computes, so an edge verifies it without
 * calling us. Pure functions: the origin verifies with the same code (devstack/nginx.ts holds the edge's side).
 */

export type SecureLinkVerdict = 'valid' | 'invalid' | 'expired';

export interface SignedQuery {
  md5: string;
  expires: string;
}

export const signedPrefix = (assetId: string) => `/d/${assetId}/`;
export const publicPrefix = (assetId: string) => `/p/${assetId}/`;

const digest = (prefix: string, expires: string, secret: string) =>
  createHash('md5').update(`${expires}${prefix} ${secret}`).digest();

export function secureLinkToken(prefix: string, expiresUnixSeconds: number, secret: string): string {
  return digest(prefix, String(expiresUnixSeconds), secret).toString('base64url');
}

export function signQuery(assetId: string, expiresUnixSeconds: number, secret: string): SignedQuery {
  return {
    md5: secureLinkToken(signedPrefix(assetId), expiresUnixSeconds, secret),
    expires: String(expiresUnixSeconds),
  };
}

export const queryString = (q: SignedQuery) => `md5=${q.md5}&expires=${q.expires}`;

// nginx decodes up to the first non-alphabet character, so it tolerates '=' padding; so do we.
const TOKEN = /^[A-Za-z0-9_-]{22}={0,2}$/;
const EXPIRES = /^\d{1,12}$/;

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
): SecureLinkVerdict {
  if (typeof md5 !== 'string' || typeof expires !== 'string') return 'invalid';
  if (!TOKEN.test(md5) || !EXPIRES.test(expires) || Number(expires) <= 0) return 'invalid';
  const given = Buffer.from(md5.replace(/=+$/, ''), 'base64url');
  const expected = digest(prefix, expires, secret);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return Number(expires) < nowUnixSeconds ? 'expired' : 'valid';
}
