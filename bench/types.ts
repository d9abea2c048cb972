import type { LocalPlatform } from '../devstack/local-platform';
import type { RawDeps } from './raw-pipeline';

/** One figure of the benchmark, as written to docs/benchmarks.json and the table in docs/benchmarks.md. */
export interface Measurement {
  /** Stable key, e.g. `time-to-ready-photo`. */
  id: string;
  title: string;
  value: number;
  unit: string;
  /** The raw baseline measured in the same run, when the target is a ratio. */
  baseline?: { value: number; unit: string; what: string };
  /** value / baseline (or the inverse, as the target states it). */
  ratio?: number;
  /** The target as the issue states it, e.g. `≤ 1.5` or `p99 < 50 ms`. */
  target: string;
  met: boolean;
  /** Anything worth keeping beside the headline: samples, p50, errors. */
  details?: Record<string, unknown>;
}

export interface BenchContext {
  platform: LocalPlatform;
  /** A bearer token for the given numeric owner id. */
  token(ownerId: string): Promise<string>;
  /** Scratch space for generated media; removed after the run. */
  workDir: string;
  log(message: string): void;
  /** The baseline's adapters: the platform's S3 bucket and clamd, a workspace of the bench's own. */
  raw: RawDeps;
  /** Concurrent media activities of the platform's worker: the baseline runs at the same concurrency. */
  mediaConcurrency: number;
  /** The worker's peak RSS since the last call (sampled every 100 ms), then sampling starts afresh. */
  takeWorkerPeakRss(): { nodeBytes: number; treeBytes: number };
}

export type Bench = (ctx: BenchContext) => Promise<Measurement[]>;
