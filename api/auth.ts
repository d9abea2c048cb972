import type { RequestHandler } from 'express';
import { errors, jwtVerify } from 'jose';
import { unauthorized } from './problem';

export interface Principal {
  /** The owner id: Postgres bigint, kept as a decimal string. */
  userId: string;
  groups: string[];
  operator: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

const OWNER_ID = /^[1-9]\d{0,18}$/;

/** Verified tokens kept, and for how long at most: a service sends the same token with every request. */
const CACHED_TOKENS = 10_000;
const CACHE_MS = 5 * 60_000;

/**
 * HS256 bearer tokens; jose refuses alg "none" and any algorithm not listed. A token that verified is remembered
 * (the whole token, signature included, is the key) until it expires or for five minutes: verifying costs an HMAC
 * on the thread pool and a fifth of the API's CPU on the upload URL's path.
 */
export function requireAuth(secret: string): RequestHandler {
  const key = new TextEncoder().encode(secret);
  const verified = new Map<string, { principal: Principal; untilMs: number }>();
  return async (req, _res, next) => {
    const header = req.get('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw unauthorized('missing Authorization: Bearer <token> header');
    const token = match[1]!;
    const known = verified.get(token);
    if (known && Date.now() < known.untilMs) {
      req.principal = known.principal;
      return next();
    }
    verified.delete(token);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'] }));
    } catch (err) {
      const why =
        err instanceof errors.JWTExpired
          ? 'token has expired'
          : err instanceof errors.JOSEAlgNotAllowed
            ? 'token algorithm is not allowed (HS256 only)'
            : 'token signature or format is invalid';
      throw unauthorized(why);
    }
    if (
      typeof payload.sub !== 'string' ||
      !OWNER_ID.test(payload.sub) ||
      BigInt(payload.sub) > 2n ** 63n - 1n
    ) {
      throw unauthorized('token sub must be a numeric owner id');
    }
    const groups = Array.isArray(payload.groups) ? payload.groups.filter((g) => typeof g === 'string') : [];
    req.principal = { userId: payload.sub, groups, operator: payload.role === 'operator' };
    const untilMs = Math.min(
      payload.exp !== undefined ? payload.exp * 1000 : Infinity,
      Date.now() + CACHE_MS,
    );
    if (verified.size >= CACHED_TOKENS) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal: req.principal, untilMs });
    next();
  };
}
