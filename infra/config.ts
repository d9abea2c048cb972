import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one place that reads the environment. Each process asks for the sections it needs, so the worker does not
 * demand the API's JWT secret, and a wrong value stops the process with a message naming the variable.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();
const tcpPort = z.coerce.number().int().min(1).max(65535);

/** Only the classes a read can be served from at once: GLACIER and DEEP_ARCHIVE would need a restore first. */
const storageClass = z.enum(['STANDARD', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR']);

/** A Temporal duration string, as schedules take them. */
const duration = (example: string) =>
  z.string().regex(/^\d+(ms|s|m|h|d)$/, `must be a duration such as '${example}' or '30m'`);

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

const sections = {
  database: {
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
  },
  s3: {
    S3_ENDPOINT: url(['http:', 'https:']).optional(),
    /** Where clients reach S3 for pre-signed URLs when it differs from the endpoint the services use. */
    S3_PUBLIC_ENDPOINT: url(['http:', 'https:']).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_BUCKET: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid S3 bucket name (3-63 lowercase characters)',
      ),
    S3_ACCESS_KEY_ID: z.string().min(1),
    S3_SECRET_ACCESS_KEY: z.string().min(1),
    S3_FORCE_PATH_STYLE: bool.default(true),
    /** A second bucket holding a copy of every blob: reads fail over to it, integrity scans repair from it. */
    REPLICA_S3_BUCKET: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid S3 bucket name (3-63 lowercase characters)',
      )
      .optional(),
    /** The replica's endpoint and credentials default to the primary's. */
    REPLICA_S3_ENDPOINT: url(['http:', 'https:']).optional(),
    REPLICA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    REPLICA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  },
  temporal: {
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
      .default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('assetline'),
    /** Temporal Cloud: an API key implies TLS. */
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS: bool.default(false),
  },
  api: {
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters (HS256 key)'),
    STORAGE_EVENTS_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    JSON_BODY_LIMIT_BYTES: positiveInt.default(64 * 1024),
    /** Requests served at once; the rest wait their turn, so a burst queues here, not in the database pool. */
    API_MAX_CONCURRENT_REQUESTS: positiveInt.default(128),
    /** Requests waiting their turn beyond which the API answers 503 with Retry-After. */
    API_MAX_QUEUED_REQUESTS: positiveInt.default(10_000),
  },
  uploads: {
    UPLOAD_URL_TTL_SECONDS: positiveInt.max(7 * 24 * 3600).default(900),
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
    /** Days a deleted asset stays restorable before it is purged (fractions allowed, for tests). */
    TRASH_DAYS: z.coerce.number().positive().default(30),
  },
  scanner: {
    /** clamd's TCP address; unset means no scanner, and assets show scan 'skipped', never 'clean'. */
    CLAMD_HOST: z.string().min(1).optional(),
    CLAMD_PORT: z.coerce.number().int().min(1).max(65535).default(3310),
    /** clamd's StreamMaxLength: larger blobs fail the scan stage instead of being called clean unscanned. */
    CLAMD_MAX_STREAM_BYTES: positiveInt.max(2 ** 31 - 1).default(100 * 1024 * 1024),
    /** Scans a worker runs at once; the rest wait their turn (heartbeating) before their blob is opened. */
    SCAN_CONCURRENCY: positiveInt.max(256).default(availableParallelism()),
  },
  media: {
    /** Concurrent CPU-heavy activities per worker (ffmpeg, sharp); defaults to the number of cores. */
    MEDIA_CONCURRENCY: positiveInt.max(64).default(availableParallelism()),
    /** Run the I/O worker, the media worker, or both in this process. */
    WORKER_ROLES: z
      .string()
      .default('io,media')
      .transform((v) => v.split(',').map((r) => r.trim()))
      .refine((roles) => roles.length > 0 && roles.every((r) => r === 'io' || r === 'media'), {
        message: 'must be a comma-separated list of io and media',
      }),
    WORK_DIR: z.string().min(1).default(path.join(tmpdir(), 'assetline-work')),
    /** host:port where the worker's Temporal SDK serves Prometheus metrics (task latency, slots, polls); off if unset. */
    WORKER_METRICS_ADDRESS: z
      .string()
      .regex(/^[^\s:]*:\d{1,5}$/, 'must be host:port')
      .optional(),
    /** host:port of the worker's /healthz (alive) and /readyz (Temporal reachable, every task queue polled); off if unset. */
    WORKER_HEALTH_ADDRESS: z
      .string()
      .regex(/^[^\s:]*:\d{1,5}$/, 'must be host:port')
      .optional(),
    /** Decompression-bomb guard: larger images are rejected from their header, before decoding. */
    MAX_IMAGE_PIXELS: positiveInt.default(100_000_000),
    /**
     * Images are decoded in a child process (one file cannot take the worker down) whose data segment is capped at
     * this many MiB (setrlimit RLIMIT_DATA via prlimit): a decoder allocating beyond it dies alone.
     */
    DECODER_MEMORY_MB: positiveInt.min(256).default(2048),
    /** A decoder child or ffmpeg showing no progress for this long is killed, and the attempt counted as lost. */
    MEDIA_STALL_SECONDS: positiveInt.default(120),
    /**
     * Test-only trigger (at least 16 characters; refused unless NODE_ENV=test): a media stage whose input holds
     * `<marker>:kill-worker` kills its worker with SIGKILL, `<marker>:crash-decoder` crashes the decoder child.
     */
    ASSETLINE_TEST_POISON_MARKER: z.string().min(16).optional(),
    /**
     * Workflow code bundled ahead (`npm run bundle:workflows`, done by the Docker build and `npm start`). Without it
     * the worker runs webpack at start, which costs seconds and ~200 MB of resident memory for the process's life.
     */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  },
  integrity: {
    /** How often the integrity scan starts, as a Temporal duration ('6h', '30m'). */
    INTEGRITY_SCAN_INTERVAL: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)$/, "must be a duration such as '6h' or '30m'")
      .default('6h'),
    /** Each run stops starting new blobs after this long; the next run carries on where it stopped. */
    INTEGRITY_SCAN_BUDGET_SECONDS: positiveInt.max(24 * 3600).default(600),
  },
  sweeps: {
    /** How often the orphan sweep starts, as a Temporal duration. */
    ORPHAN_SWEEP_INTERVAL: duration('1h').default('1h'),
    /** Objects younger than this are never swept: in-flight uploads and unpublished renditions look orphaned. */
    ORPHAN_GRACE_SECONDS: positiveInt.max(30 * 24 * 3600).default(3600),
  },
  webhooks: {
    /** Let webhooks target loopback, private and link-local addresses; off in production, where that is SSRF. */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  },
  delivery: {
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
    /** How often the API looks for asset workflows still owed (not started after their upload URL's answer). */
    WORKFLOW_START_SWEEP_SECONDS: positiveInt.max(3600).default(5),
  },
  cache: {
    /** Shared cache of GET /media/:id records for every API instance; unset, each instance keeps its own. */
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    /** A safety net: invalidation on every change is what keeps cached records right. */
    ASSET_CACHE_TTL_SECONDS: positiveInt.max(24 * 3600).default(60),
    /** Bound of the in-process cache (without REDIS_URL). */
    ASSET_CACHE_MAX_ENTRIES: positiveInt.default(10_000),
  },
  tiering: {
    /** A ready asset unread this many days moves to the warm bucket (fractions allowed, for tests). */
    HOT_DAYS: z.coerce.number().positive().default(30),
    /** ... and unread this many days (counted from the same read) to the cold bucket. */
    COLD_DAYS: z.coerce.number().positive().default(90),
    /** Same endpoint and credentials as S3_BUCKET; default `<S3_BUCKET>-warm` / `<S3_BUCKET>-cold`. */
    WARM_S3_BUCKET: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid S3 bucket name (3-63 lowercase characters)',
      )
      .optional(),
    COLD_S3_BUCKET: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a valid S3 bucket name (3-63 lowercase characters)',
      )
      .optional(),
    /** S3 storage classes for the tiers (STANDARD_IA, GLACIER_IR...); unset for servers without them (versitygw). */
    WARM_S3_STORAGE_CLASS: storageClass.optional(),
    COLD_S3_STORAGE_CLASS: storageClass.optional(),
  },
  logging: {
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  },
  /** `npm start` only (scripts/start.ts): where its embedded servers keep their data and which ports they take. */
  local: {
    /** Relative to the repository. */
    ASSETLINE_DATA_DIR: z.string().min(1).default('.data'),
    ASSETLINE_POSTGRES_PORT: tcpPort.default(55432),
    ASSETLINE_S3_PORT: tcpPort.default(9000),
    ASSETLINE_TEMPORAL_PORT: tcpPort.default(7233),
    ASSETLINE_TEMPORAL_UI_PORT: tcpPort.default(8233),
    ASSETLINE_DELIVERY_PORT: tcpPort.default(8080),
    ASSETLINE_CLAMD_PORT: tcpPort.default(53310),
    ASSETLINE_REDIS_PORT: tcpPort.default(56379),
  },
} as const;

type Sections = typeof sections;
export type SectionName = keyof Sections;
type SectionOutput<S extends SectionName> = z.output<z.ZodObject<Sections[S]>>;
export type ConfigOf<S extends SectionName> = { [K in S]: SectionOutput<K> }[S] extends never
  ? never
  : UnionToIntersection<{ [K in S]: SectionOutput<K> }[S]>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

export const API_SECTIONS = [
  'database',
  's3',
  'temporal',
  'api',
  'uploads',
  'webhooks',
  'delivery',
  'cache',
  'tiering',
  'logging',
] as const;
export const WORKER_SECTIONS = [
  'database',
  's3',
  'temporal',
  'uploads',
  'scanner',
  'media',
  'integrity',
  'sweeps',
  'webhooks',
  'delivery',
  'logging',
] as const;

export type ApiConfig = ConfigOf<(typeof API_SECTIONS)[number]>;
export type WorkerConfig = ConfigOf<(typeof WORKER_SECTIONS)[number]>;
export type AppConfig = ApiConfig & WorkerConfig;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Every variable the platform reads, with the section it belongs to: the README table and compose test use it. */
export function configVariables(): { name: string; section: SectionName; required: boolean }[] {
  return (Object.keys(sections) as SectionName[]).flatMap((section) =>
    Object.entries(sections[section]).map(([name, schema]) => ({
      name,
      section,
      required: !(schema as z.ZodType).safeParse(undefined).success,
    })),
  );
}

export function loadConfig<const S extends readonly SectionName[]>(
  wanted: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S[number]> {
  const shape = Object.assign({}, ...wanted.map((s) => sections[s])) as z.ZodRawShape;
  // Empty strings count as unset, as docker-compose writes `VAR=` for variables it passes through.
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const given = input[name];
        const message = given === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message;
        return `${name} ${message}`;
      }),
    );
  }
  // A trigger that kills the worker must not be switched on in production by a stray variable.
  const marker = (result.data as Record<string, unknown>).ASSETLINE_TEST_POISON_MARKER;
  if (marker !== undefined && input.NODE_ENV !== 'test') {
    throw new ConfigError([
      'ASSETLINE_TEST_POISON_MARKER kills the worker on a marked input: it is accepted only with NODE_ENV=test',
    ]);
  }
  return result.data as ConfigOf<S[number]>;
}

/** For entry points: print the problems and stop, rather than failing later with a confusing error. */
export function loadConfigOrExit<const S extends readonly SectionName[]>(wanted: S): ConfigOf<S[number]> {
  try {
    return loadConfig(wanted);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
