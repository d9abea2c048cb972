import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { duration, positiveInt } from './parsers';

/** The worker's own settings: virus scanning, media work, and the scheduled integrity scan and orphan sweep. */

export const scanner = {
  /** clamd's TCP address; unset means no scanner, and assets show scan 'skipped', never 'clean'. */
  CLAMD_HOST: z.string().min(1).optional(),
  CLAMD_PORT: z.coerce.number().int().min(1).max(65535).default(3310),
  /** clamd's StreamMaxLength: larger blobs fail the scan stage instead of being called clean unscanned. */
  CLAMD_MAX_STREAM_BYTES: positiveInt.max(2 ** 31 - 1).default(100 * 1024 * 1024),
  /** Scans a worker runs at once; the rest wait their turn (heartbeating) before their blob is opened. */
  SCAN_CONCURRENCY: positiveInt.max(256).default(availableParallelism()),
};

// The worker's listeners bind any interface when the host is left empty (':9464').
const listenAddress = () =>
  z
    .string()
    .regex(/^[^\s:]*:\d{1,5}$/, 'must be host:port')
    .optional();

export const media = {
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
  WORKER_METRICS_ADDRESS: listenAddress(),
  /** host:port of the worker's /healthz (alive) and /readyz (Temporal reachable, every task queue polled); off if unset. */
  WORKER_HEALTH_ADDRESS: listenAddress(),
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
   * Test-only trigger (at least 16 characters; refused unless NODE_ENV=test, see loadConfig): a media stage whose
   * input holds `<marker>:kill-worker` kills its worker with SIGKILL, `<marker>:crash-decoder` crashes the decoder.
   */
  ASSETLINE_TEST_POISON_MARKER: z.string().min(16).optional(),
  /**
   * Workflow code bundled ahead (`npm run bundle:workflows`, done by the Docker build and `npm start`). Without it
   * the worker runs webpack at start, which costs seconds and ~200 MB of resident memory for the process's life.
   */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
};

export const integrity = {
  /** How often the integrity scan starts, as a Temporal duration ('6h', '30m'). */
  INTEGRITY_SCAN_INTERVAL: duration('6h').default('6h'),
  /** Each run stops starting new blobs after this long; the next run carries on where it stopped. */
  INTEGRITY_SCAN_BUDGET_SECONDS: positiveInt.max(24 * 3600).default(600),
};

export const sweeps = {
  /** How often the orphan sweep starts, as a Temporal duration. */
  ORPHAN_SWEEP_INTERVAL: duration('1h').default('1h'),
  /** Objects younger than this are never swept: in-flight uploads and unpublished renditions look orphaned. */
  ORPHAN_GRACE_SECONDS: positiveInt.max(30 * 24 * 3600).default(3600),
};
