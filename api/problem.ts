import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../infra/logger';
import { unavailableDependency } from './dependency-errors';
import { WorkflowServiceUnavailable } from '../infra/adapters/workflow-gateway';
import { ServiceError, type ServiceErrorKind } from './services/errors';

/** An error the client can act on; rendered as RFC 9457 application/problem+json. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, extra: Record<string, unknown> = {}) =>
  new HttpProblem(400, 'Bad Request', detail, extra);
export const notFound = (detail = 'no such asset') => new HttpProblem(404, 'Not Found', detail);
export const unauthorized = (detail: string) =>
  new HttpProblem(401, 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer' });
export const unavailable = (detail: string, retryAfterSeconds = 5) =>
  new HttpProblem(503, 'Service Unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) });

const REFUSAL: Record<ServiceErrorKind, [number, string]> = {
  'not-found': [404, 'Not Found'],
  forbidden: [403, 'Forbidden'],
  conflict: [409, 'Conflict'],
  invalid: [400, 'Bad Request'],
  'quota-exceeded': [403, 'Quota Exceeded'],
  'unavailable-here': [451, 'Unavailable For Legal Reasons'],
  'too-many': [429, 'Too Many Requests'],
};

/** The one place the service layer's refusals (and Temporal not answering) become problems. */
export function problemOf(err: unknown): HttpProblem | undefined {
  if (err instanceof ServiceError) {
    const [status, title] = REFUSAL[err.kind];
    return new HttpProblem(status, title, err.message, err.details);
  }
  if (err instanceof WorkflowServiceUnavailable) return unavailable(err.message);
  return undefined;
}

function send(res: Parameters<RequestHandler>[1], p: HttpProblem, instance: string): void {
  res
    .status(p.status)
    .set(p.headers)
    .type('application/problem+json')
    .json({ type: 'about:blank', title: p.title, status: p.status, detail: p.detail, instance, ...p.extra });
}

export const notFoundRoute: RequestHandler = (req, res) => {
  send(res, new HttpProblem(404, 'Not Found', `no route for ${req.method} ${req.path}`), req.originalUrl);
};

/**
 * Express' own body-parser errors carry a status and a type; map them to problems too. A dependency being away
 * (Postgres, S3, Temporal) is a 503 with Retry-After, not a 500: the client should come back, not give up.
 */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof HttpProblem) return send(res, err, req.originalUrl);
    const refused = problemOf(err);
    if (refused) return send(res, refused, req.originalUrl);
    const e = err as { status?: number; type?: string; message?: string; limit?: number };
    if (e.type === 'entity.too.large') {
      return send(
        res,
        new HttpProblem(413, 'Content Too Large', `request body exceeds the limit of ${e.limit} bytes`),
        req.originalUrl,
      );
    }
    if (e.type === 'entity.parse.failed') {
      return send(res, badRequest(`request body is not valid JSON: ${e.message}`), req.originalUrl);
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      // body-parser also answers 415 (charset, content encoding): the title names the status it goes with.
      const title = STATUS_CODES[e.status] ?? 'Bad Request';
      return send(res, new HttpProblem(e.status, title, e.message ?? title), req.originalUrl);
    }
    const dependency = unavailableDependency(err);
    if (dependency) {
      logger.warn({ err, path: req.path, dependency }, 'dependency unavailable');
      return send(res, unavailable(`${dependency} is unavailable; try again shortly`), req.originalUrl);
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    return send(
      res,
      new HttpProblem(500, 'Internal Server Error', 'the request failed; it has been logged'),
      req.originalUrl,
    );
  };
}
