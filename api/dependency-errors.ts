/**
 * Tells a backing service being away (Postgres, S3, Temporal) from a bug, so the API answers 503 with Retry-After
 * — "try again shortly" — instead of 500. Routes do not catch these themselves: the problem handler asks here.
 */

/** Named as the problem's detail reads: "<dependency> is unavailable". */
export type Dependency = 'the database' | 'object storage' | 'the workflow service' | 'a backing service';

// Connection-level failures, whoever the peer was: refused, reset, timed out, unreachable, DNS briefly failing.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
]);

// SQLSTATE class 08 is "connection exception"; 57P01-57P03 are the server shutting down, crashed or starting up;
// 53300 is every connection slot taken. All pass once the server is back or less busy.
const PG_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;
// node-postgres reports a lost or never-made connection in plain Errors without a SQLSTATE.
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

// S3 error names for "busy or away"; any 5xx answer counts as well.
const S3_UNAVAILABLE = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
]);

// gRPC status codes, as @grpc/grpc-js reports them: DEADLINE_EXCEEDED and UNAVAILABLE.
const GRPC_UNAVAILABLE = new Set([4, 14]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  details?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function classifyOne(e: ErrorShape): Dependency | undefined {
  if (typeof e.code === 'number' && typeof e.details === 'string') {
    return GRPC_UNAVAILABLE.has(e.code) ? 'the workflow service' : undefined;
  }
  const fromS3 = typeof e.$metadata === 'object' && e.$metadata !== null;
  if (fromS3) {
    const status = e.$metadata?.httpStatusCode;
    if ((status !== undefined && status >= 500) || S3_UNAVAILABLE.has(String(e.name)))
      return 'object storage';
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    // The SDK stamps $metadata on whatever it rethrows; a bare socket error comes from pg (the only other
    // plain-TCP client) in practice, but is not claimed for it.
    return fromS3 ? 'object storage' : 'a backing service';
  }
  if (typeof e.code === 'string' && PG_UNAVAILABLE.test(e.code)) return 'the database';
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return 'the database';
  return undefined;
}

/** The dependency whose absence caused err, or undefined when err is something else (a bug, bad input). */
export function unavailableDependency(err: unknown): Dependency | undefined {
  // Wrappers (Temporal's ServiceError, AggregateError from dual-stack connects) carry the cause inside.
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    const found = classifyOne(e as ErrorShape);
    if (found) return found;
    const { cause, errors } = e as ErrorShape;
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return undefined;
}
