/**
 * `npm run bench [-- --only id,id]`: starts the platform (Postgres, versitygw, the Temporal dev server, clamd, and
 * the API and a worker as their own processes), measures it beside a raw baseline, and writes the figures to
 * docs/benchmarks.json and the results table of docs/benchmarks.md. Not part of `npm test`: these are timings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, rssBytes, startLocalPlatform, treeRssBytes } from '../devstack';
import { signDevToken } from '../devstack/dev-token';
import { cliUpload } from './cli-upload';
import { consoleLibrary } from './console-library';
import { ladderBench } from './ladder';
import { rawDepsFor } from './raw-pipeline';
import { writeReport, type BenchReport } from './report';
import { searchLatency } from './search-latency';
import { sha256Rate } from './sha256-rate';
import { throughput } from './throughput';
import { timeToReady } from './time-to-ready';
import type { Bench, BenchContext, Measurement } from './types';
import { uploadUrlLoad } from './upload-url-load';
import { workerRss } from './worker-rss';

const BENCHES: Record<string, Bench> = {
  'time-to-ready': timeToReady,
  throughput,
  'sha256-rate': sha256Rate,
  'worker-rss': workerRss,
  // After the media benches: its 6,000 pending sessions, and the million seeded rows below, would be their noise.
  'upload-url': uploadUrlLoad,
  search: searchLatency,
  'cli-upload': cliUpload,
  'console-library': consoleLibrary,
  ladder: ladderBench,
};

function selected(): string[] {
  const at = process.argv.indexOf('--only');
  if (at === -1) return Object.keys(BENCHES);
  const ids = (process.argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = ids.filter((id) => !(id in BENCHES));
  if (unknown.length > 0 || ids.length === 0) {
    console.error(`--only takes a comma-separated list of: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(64);
  }
  return ids;
}

const ids = selected();
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetline-bench-'));
fs.chmodSync(workDir, 0o755);
const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const mediaConcurrency = Number(process.env.MEDIA_CONCURRENCY ?? os.availableParallelism());

log(`starting the platform in ${workDir}`);
const platform = await startLocalPlatform({
  dataDir: path.join(workDir, 'platform'),
  clamd: true,
  env: {
    MEDIA_CONCURRENCY: String(mediaConcurrency),
    QUOTA_MAX_BYTES: String(1024 ** 4),
    // The maintenance schedules start on the clock's boundaries (the orphan sweep every hour on the hour): a daily
    // one keeps them out of the timed runs, which measure the pipeline.
    ORPHAN_SWEEP_INTERVAL: '24h',
    INTEGRITY_SCAN_INTERVAL: '24h',
  },
});
let peak = { nodeBytes: 0, treeBytes: 0 };
const sampler = setInterval(() => {
  const pid = platform.worker.pid;
  peak = {
    nodeBytes: Math.max(peak.nodeBytes, rssBytes(pid)),
    treeBytes: Math.max(peak.treeBytes, treeRssBytes(pid)),
  };
}, 100);

const ctx: BenchContext = {
  platform,
  token: (ownerId) => signDevToken(platform.jwtSecret, { sub: ownerId }),
  workDir,
  log,
  mediaConcurrency,
  raw: rawDepsFor(platform, workDir),
  takeWorkerPeakRss() {
    const taken = peak;
    peak = { nodeBytes: 0, treeBytes: 0 };
    return taken;
  },
};

let failed = false;
const measurements: Measurement[] = [];
try {
  for (const id of ids) {
    log(`${id}…`);
    const started = Date.now();
    const results = await BENCHES[id]!(ctx);
    measurements.push(...results);
    for (const m of results) {
      const vs =
        m.ratio === undefined ? '' : ` (baseline ${m.baseline?.value} ${m.baseline?.unit}, ratio ${m.ratio})`;
      log(`${m.met ? 'MET ' : 'MISS'} ${m.title}: ${m.value} ${m.unit}${vs}, target ${m.target}`);
    }
    log(`${id} took ${Math.round((Date.now() - started) / 1000)} s`);
  }
} catch (err) {
  failed = true;
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  console.error(`logs: ${path.join(workDir, 'platform', 'logs')}`);
} finally {
  clearInterval(sampler);
  await platform.stopAll();
}

const report: BenchReport = {
  at: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  measurements,
};
if (measurements.length > 0) await writeReport(path.join(repoRoot, 'docs'), report);
if (!failed) fs.rmSync(workDir, { recursive: true, force: true });
process.exit(failed ? 1 : measurements.every((m) => m.met) ? 0 : 2);
