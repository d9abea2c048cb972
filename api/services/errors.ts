/**
 * What a command refuses, in the service layer's own terms. The HTTP layer renders each kind as a problem
 * (problemHandler in api/problem.ts); services never choose status codes.
 */
export type ServiceErrorKind =
  | 'not-found'
  | 'forbidden'
  | 'conflict'
  | 'invalid'
  | 'quota-exceeded'
  /** Regional rights refuse the viewer's country. */
  | 'unavailable-here'
  /** A per-asset bound is reached (cached thumbnails). */
  | 'too-many';

export class ServiceError extends Error {
  override name = 'ServiceError';

  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    /** Facts for the caller beside the message (the quota's limits and usage, field errors). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A missing asset and one the caller may not read look alike, so ids cannot be probed. */
export const assetNotFound = (message = 'no such asset') => new ServiceError('not-found', message);
export const conflict = (message: string) => new ServiceError('conflict', message);
export const invalid = (message: string, details: Record<string, unknown> = {}) =>
  new ServiceError('invalid', message, details);
