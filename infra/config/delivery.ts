import { z } from 'zod';
import { bool, bucketName, cidrList, positiveInt, storageClass, url } from './parsers';

/** How bytes reach readers (the signed edge, webhooks) and where they rest as they cool (the tier buckets). */

export const delivery = {
  /** Where clients fetch bytes: the edge (nginx, devstack/nginx.ts), or the API's own /origin without one. */
  DELIVERY_BASE_URL: url(['http:', 'https:'])
    .default('http://127.0.0.1:3000/origin')
    .transform((v) => v.replace(/\/+$/, '')),
  /** Shared with the edge, which verifies tokens itself; written into its nginx config, hence the alphabet. */
  DELIVERY_SIGNING_SECRET: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^[A-Za-z0-9_.~+/=-]+$/, 'must be letters, digits and _ . ~ + / = - only (nginx config-safe)'),
  DELIVERY_URL_TTL_SECONDS: positiveInt.max(7 * 24 * 3600).default(3600),
  /** The edge's purge endpoint; unset means purging is a no-op (our nginx does not cache). */
  CDN_PURGE_URL: url(['http:', 'https:']).optional(),
  /** Renditions fetched through the edge once an asset is ready, so its first viewer hits a warm cache. */
  CDN_WARM_RENDITIONS: z
    .string()
    .default('poster,thumb-256')
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    ),
  /** The API batches access counts per asset and writes them once per interval. */
  ACCESS_FLUSH_SECONDS: positiveInt.max(3600).default(10),
  /** How often the API takes the asset workflow starts that are due: deferred ones at their time, failed ones again. */
  WORKFLOW_START_SWEEP_SECONDS: positiveInt.max(3600).default(5),
};

/**
 * Where a viewer is, for regional rights (api/viewer-country.ts; the edge computes the same in devstack/nginx.ts):
 * a trusted proxy's header, else the peer address looked up in a MaxMind-format Country database, else unknown.
 */
export const geo = {
  /** A GeoIP2/GeoLite2 Country (or City) .mmdb file; opened at start, so a wrong path stops the API. */
  GEOIP_DATABASE: z.string().min(1).optional(),
  /** Peers whose country header is believed (a CDN, our own edge); anyone else's header is ignored. */
  GEO_TRUSTED_PROXIES: cidrList.prefault('127.0.0.1/32,::1/128'),
  /** The header a trusted proxy names the country in (besides our edge's X-Viewer-Country). */
  GEO_COUNTRY_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name (letters, digits and -)')
    .default('CF-IPCountry'),
};

export const webhooks = {
  /** Let webhooks target loopback, private and link-local addresses; off in production, where that is SSRF. */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
};

export const tiering = {
  /** A ready asset unread this many days moves to the warm bucket (fractions allowed, for tests). */
  HOT_DAYS: z.coerce.number().positive().default(30),
  /** ... and unread this many days (counted from the same read) to the cold bucket. */
  COLD_DAYS: z.coerce.number().positive().default(90),
  /** Same endpoint and credentials as S3_BUCKET; default `<S3_BUCKET>-warm` / `<S3_BUCKET>-cold`. */
  WARM_S3_BUCKET: bucketName().optional(),
  COLD_S3_BUCKET: bucketName().optional(),
  /** S3 storage classes for the tiers (STANDARD_IA, GLACIER_IR...); unset for servers without them (versitygw). */
  WARM_S3_STORAGE_CLASS: storageClass.optional(),
  COLD_S3_STORAGE_CLASS: storageClass.optional(),
};
