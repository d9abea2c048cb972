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

/** HS256 bearer tokens; jose refuses alg "none" and any algorithm not listed. */
export function requireAuth(secret: string): RequestHandler {
  const key = new TextEncoder().encode(secret);
  return async (req, _res, next) => {
    const header = req.get('authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw unauthorized('missing Authorization: Bearer <token> header');
    let payload;
    try {
      ({ payload } = await jwtVerify(match[1]!, key, { algorithms: ['HS256'] }));
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
    next();
  };
}
