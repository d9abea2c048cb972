import type { RequestHandler } from 'express';
import { HttpProblem } from './problem';

/** What a browser page may send: the bearer token and JSON bodies. No cookies: the API authenticates by token. */
const ALLOWED_HEADERS = 'Authorization, Content-Type';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** Readable by the page: where a created resource is and when to retry. */
const EXPOSED_HEADERS = 'Location, Retry-After';

/**
 * CORS for the API itself (S3 answers for the bucket). A configured origin gets `Access-Control-Allow-Origin` on
 * every answer and a 204 to its preflights, before authentication: a preflight never carries the token. Another
 * origin's preflight is refused with a problem naming it, so a misconfigured page shows why; its plain requests
 * are served without CORS headers, which keeps the browser from handing the answer to the page.
 */
export function cors(origins: string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (!origin) return next();
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    res.vary('Origin');
    if (!allowed.has(origin)) {
      if (!preflight) return next();
      return next(
        new HttpProblem(403, 'Forbidden', `origin ${origin} is not in CORS_ALLOWED_ORIGINS`, { origin }),
      );
    }
    res.set('Access-Control-Allow-Origin', origin);
    if (!preflight) {
      res.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      return next();
    }
    res
      .set({
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      })
      .status(204)
      .end();
  };
}
