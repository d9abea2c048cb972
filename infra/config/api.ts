import { z } from 'zod';
import { VISIBILITIES } from '../../domain/visibility';
import { originList, positiveInt, url } from './parsers';

/** The API's own settings: its HTTP server, the upload rules it enforces, and its cache of asset records. */

export const api = {
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 key)'),
  STORAGE_EVENTS_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  JSON_BODY_LIMIT_BYTES: positiveInt.default(64 * 1024),
  /** Requests served at once; the rest wait their turn, so a burst queues here, not in the database pool. */
  API_MAX_CONCURRENT_REQUESTS: positiveInt.default(128),
  /** Requests waiting their turn beyond which the API answers 503 with Retry-After. */
  API_MAX_QUEUED_REQUESTS: positiveInt.default(10_000),
  /**
   * Web origins whose pages may call the API and PUT to pre-signed URLs (the bucket's CORS is set from it at start);
   * unset, browsers on other origins can do neither.
   */
  CORS_ALLOWED_ORIGINS: originList.default([]),
  /** The Temporal Web UI the console links each asset's run to (…/namespaces/<ns>/workflows/asset-<id>); unset, no link. */
  CONSOLE_TEMPORAL_UI_URL: url(['http:', 'https:']).optional(),
};

/** Read by the worker too: it expires uploads and counts quotas with the same numbers. */
export const uploads = {
  UPLOAD_URL_TTL_SECONDS: positiveInt.max(7 * 24 * 3600).default(900),
  /** How long a pending session outlives its URLs, so a client may renew them before the asset expires. */
  UPLOAD_SESSION_GRACE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(3600),
  /** How long after it began an upload session may still be renewed (POST /media/{id}/upload/renew). */
  UPLOAD_SESSION_MAX_AGE_SECONDS: positiveInt.max(30 * 24 * 3600).default(7 * 24 * 3600),
  MAX_UPLOAD_BYTES: positiveInt.default(5 * 1024 ** 3),
  /** Declared sizes from this on get a multipart upload (clients may also ask for one). */
  MULTIPART_THRESHOLD_BYTES: positiveInt.default(64 * 1024 ** 2),
  /** Preferred part size; raised when needed to stay within S3's 10,000 parts, never below S3's 5 MiB. */
  MULTIPART_PART_BYTES: positiveInt
    .min(5 * 1024 ** 2)
    .max(5 * 1024 ** 3)
    .default(16 * 1024 ** 2),
  /** Per-owner defaults; rows in owner_quotas override them. */
  QUOTA_MAX_BYTES: positiveInt.default(100 * 1024 ** 3),
  QUOTA_MAX_ASSETS: positiveInt.default(100_000),
  /** Frames at a time (GET /media/{id}/thumbnail) cached per asset; a new time beyond them is refused (429). */
  THUMBNAILS_PER_ASSET: positiveInt.max(1000).default(20),
  /** Days a deleted asset stays restorable before it is purged (fractions allowed, for tests). */
  TRASH_DAYS: z.coerce.number().positive().default(30),
  /** What an upload that names no visibility gets: draft, private, unlisted or public. */
  DEFAULT_VISIBILITY: z.enum(VISIBILITIES).default('private'),
  /** How long before a scheduled publish the edge is fetched the asset's first segments and posters (0: never). */
  RELEASE_WARM_LEAD_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(300),
};

export const cache = {
  /** Shared cache of GET /media/:id records for every API instance; unset, each instance keeps its own. */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** A safety net: invalidation on every change is what keeps cached records right. */
  ASSET_CACHE_TTL_SECONDS: positiveInt.max(24 * 3600).default(60),
  /** Bound of the in-process cache (without REDIS_URL). */
  ASSET_CACHE_MAX_ENTRIES: positiveInt.default(10_000),
};
