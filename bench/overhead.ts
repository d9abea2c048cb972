/**
 * `npx tsx bench/overhead.ts [--photos N] [--clips N] [--rounds N] [--raw] [--cpu-prof DIR]`: the platform's CPU
 * per asset, by process, for a set submitted at once (as the throughput bench does), without the throughput
 * bench's wall-clock figure. CPU time from /proc, so it holds when other work shares the machine (wall time does
 * not). Each round uploads a fresh set, completes it all at once and waits for every asset; the figures are per
 * asset per round, then the median per part over the rounds. With --raw, the raw pipeline script on the same set
 * after each round. Also counts each asset's history events (by type) and workflow tasks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Client, Connection } from '@temporalio/client';
import { startLocalPlatform } from '../devstack';
import { signDevToken } from '../devstack/dev-token';
import { settledAt, upload } from './client';
import { cpuByPart, cpuPerUnit, platformParts } from './cpu';
import { clip, clipCopies, jpegCopies, photo } from './media';
import { rawDepsFor, rawPipeline } from './raw-pipeline';
import { median, pool } from './stats';

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const PHOTOS = Number(arg('photos', '20'));
const CLIPS = Number(arg('clips', '0'));
const ROUNDS = Number(arg('rounds', '3'));
const RAW = process.argv.includes('--raw');
/** With a number: wait as the benches do (bench/client.ts settledAt, polling every that many ms), to cost it. */
const BENCH_POLL = process.argv.includes('--bench-poll') ? Number(arg('bench-poll', '1000')) : undefined;
const PG_LOG = process.argv.includes('--pg-log');
const CPU_PROF = process.argv.includes('--cpu-prof') ? path.resolve(arg('cpu-prof', '')) : undefined;

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetline-overhead-'));
fs.chmodSync(workDir, 0o755);
const log = (m: string) => console.log(`[overhead ${new Date().toISOString().slice(11, 19)}] ${m}`);
const platform = await startLocalPlatform({
  dataDir: path.join(workDir, 'platform'),
  clamd: true,
  env: {
    MEDIA_CONCURRENCY: '2',
    QUOTA_MAX_BYTES: String(1024 ** 4),
    // --env KEY=VALUE (repeatable): the platform's configuration for an experiment, e.g. CDN_WARM_RENDITIONS=
    ...Object.fromEntries(
      process.argv.flatMap((a, i) =>
        process.argv[i - 1] === '--env' ? [a.split(/=(.*)/s).slice(0, 2)] : [],
      ),
    ),
  },
  workerEnv: {
    NODE_OPTIONS: [CPU_PROF ? `--cpu-prof --cpu-prof-dir=${CPU_PROF}` : '', arg('worker-node-options', '')]
      .join(' ')
      .trim(),
  },
});
const raw = rawDepsFor(platform, workDir);
const parts = () => platformParts(platform);

const SETTLED = ['ready', 'rejected', 'failed', 'quarantined', 'expired', 'deleted'];
/** CPU ms of each thread of a process and of its child processes (ended ones included), by thread name. */
function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + v);
  const walk = (p: number, prefix: string) => {
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        const text = fs.readFileSync(`/proc/${p}/task/${t}/stat`, 'utf8');
        const close = text.lastIndexOf(')');
        const f = text.slice(close + 2).split(' ');
        const comm = text.slice(text.indexOf('(') + 1, close).replace(/[0-9]+$/, '#');
        add(`${prefix}${comm}`, (Number(f[11]) + Number(f[12])) * 10);
      } catch {
        // gone
      }
    }
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      add(`${prefix}(ended children)`, (Number(f[13]) + Number(f[14])) * 10);
    } catch {
      // gone
    }
    for (const t of tasks) {
      let kids: string[] = [];
      try {
        kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        // gone
      }
      for (const k of kids) walk(Number(k), `${prefix}child:`);
    }
  };
  walk(pid, '');
  return out;
}

/** Polled once a second: the bench's own queries are not the platform's work. */
async function waitSettled(ids: string[]): Promise<string[]> {
  const db = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await db.connect();
  try {
    for (;;) {
      const { rows } = await db.query<{ status: string }>(
        'SELECT status FROM media_assets WHERE asset_id = ANY($1::uuid[])',
        [ids],
      );
      if (rows.length === ids.length && rows.every((r) => SETTLED.includes(r.status)))
        return rows.map((r) => r.status);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await db.end();
  }
}

async function historyStats(ids: string[]): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address: platform.temporal.address });
  const counts: Record<string, number> = {};
  try {
    const client = new Client({ connection });
    for (const id of ids) {
      const history = await client.workflow.getHandle(`asset-${id}`).fetchHistory();
      let at = 0;
      const timeOf = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
        Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
      for (const e of history.events ?? []) {
        const type = Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? 'unknown';
        // Milliseconds from each event to the next, by the kind of gap: where the time between the stages goes.
        const t = timeOf(e);
        if (at) {
          const gap = `ms before ${type.replace('EventAttributes', '')}`;
          counts[gap] = (counts[gap] ?? 0) + (t - at);
        }
        at = t;
        counts[type.replace('EventAttributes', '')] = (counts[type.replace('EventAttributes', '')] ?? 0) + 1;
        counts.events = (counts.events ?? 0) + 1;
      }
    }
  } finally {
    await connection.close();
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / ids.length]));
}

if (PG_LOG) {
  const db = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await db.connect();
  await db.query("ALTER SYSTEM SET log_statement = 'all'");
  await db.query('SELECT pg_reload_conf()');
  await db.end();
}
const token = await signDevToken(platform.jwtSecret, { sub: '2' });
const dir = path.join(workDir, 'media');
fs.mkdirSync(dir, { recursive: true });
await Promise.all([photo(path.join(dir, 'photo.jpg')), CLIPS ? clip(path.join(dir, 'clip.mp4')) : undefined]);

async function makeSet(sub: string) {
  const into = path.join(dir, sub);
  fs.mkdirSync(into, { recursive: true });
  return [
    ...(CLIPS ? await clipCopies(path.join(dir, 'clip.mp4'), into, CLIPS) : []).map((file) => ({
      file,
      contentType: 'video/mp4',
    })),
    ...(await jpegCopies(path.join(dir, 'photo.jpg'), into, PHOTOS)).map((file) => ({
      file,
      contentType: 'image/jpeg',
    })),
  ];
}

const results: { platform: Record<string, number>; raw?: Record<string, number> }[] = [];
let history: Record<string, number> = {};
try {
  for (let round = 0; round <= ROUNDS; round++) {
    const set = await makeSet('platform');
    const uploads = await pool(set, 4, (m) => upload(platform.apiUrl, token, m.file, m.contentType));
    await new Promise((r) => setTimeout(r, 1000));
    const pgLogFrom = PG_LOG ? fs.statSync(platform.postgres.logFile).size : 0;
    const threadsBefore = threadCpu(platform.worker.pid);
    const before = cpuByPart(parts());
    const t0 = Date.now();
    await Promise.all(uploads.map((u) => u.complete()));
    const ids = uploads.map((u) => u.assetId);
    const statuses =
      BENCH_POLL === undefined
        ? await waitSettled(ids)
        : [...(await settledAt(platform.env.DATABASE_URL!, ids, undefined, BENCH_POLL)).values()].map(
            (s) => s.status,
          );
    const wallMs = Date.now() - t0;
    const perAsset = cpuPerUnit(before, cpuByPart(parts()), uploads.length);
    const threads = cpuPerUnit(threadsBefore, threadCpu(platform.worker.pid), uploads.length);
    log(
      `worker threads per asset: ${JSON.stringify(Object.fromEntries(Object.entries(threads).filter(([, v]) => v > 0)))}`,
    );
    const bad = statuses.filter((s) => s !== 'ready').length;
    if (bad) throw new Error(`${bad} assets not ready`);
    if (PG_LOG) {
      const text = fs.readFileSync(platform.postgres.logFile, 'utf8').slice(pgLogFrom);
      const counts = new Map<string, number>();
      for (const m of text.matchAll(/LOG: {2}(?:statement|execute [^:]*): (.*)/g)) {
        const k = m[1]!
          .replace(/\$\d+/g, '?')
          .replace(/'[^']*'/g, "'?'")
          .slice(0, 110);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const all = [...counts.values()].reduce((a, b) => a + b, 0);
      log(`postgres statements per asset: ${(all / uploads.length).toFixed(1)}`);
      for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40))
        console.log(`  ${(v / uploads.length).toFixed(2).padStart(6)} ${k}`);
    }
    history = await historyStats(uploads.map((u) => u.assetId));
    let rawPerAsset: Record<string, number> | undefined;
    if (RAW) {
      const rawSet = await makeSet('raw');
      const keys = await pool(rawSet, 4, async (m) => {
        const key = `raw-uploads/${randomUUID()}`;
        await raw.store.write(key, fs.createReadStream(m.file), { contentType: m.contentType });
        return { key, contentType: m.contentType };
      });
      const rawBefore = cpuByPart(parts());
      const rawThreadsBefore = threadCpu(process.pid);
      await pool(keys, 2, (k) => rawPipeline(raw, k.key, k.contentType));
      rawPerAsset = cpuPerUnit(rawBefore, cpuByPart(parts()), keys.length);
      const rawThreads = cpuPerUnit(rawThreadsBefore, threadCpu(process.pid), keys.length);
      log(
        `raw threads per asset: ${JSON.stringify(Object.fromEntries(Object.entries(rawThreads).filter(([, v]) => v > 0)))}`,
      );
    }
    const total = (r: Record<string, number>) => Math.round(Object.values(r).reduce((a, b) => a + b, 0));
    log(
      `round ${round}${round === 0 ? ' (warm-up)' : ''}: ${wallMs} ms; platform ${total(perAsset)} ms/asset ${JSON.stringify(perAsset)}` +
        (rawPerAsset ? `; raw ${total(rawPerAsset)} ${JSON.stringify(rawPerAsset)}` : ''),
    );
    if (round > 0) results.push({ platform: perAsset, ...(rawPerAsset ? { raw: rawPerAsset } : {}) });
    fs.rmSync(path.join(dir, 'platform'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'raw'), { recursive: true, force: true });
  }
} finally {
  await platform.stopAll();
}

const medians = (side: 'platform' | 'raw') => {
  const keys = new Set(results.flatMap((r) => Object.keys(r[side] ?? {})));
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = median(results.map((r) => r[side]?.[k] ?? 0));
  out.total = Math.round(Object.values(out).reduce((a, b) => a + b, 0));
  return out;
};
console.log(
  JSON.stringify(
    {
      photos: PHOTOS,
      clips: CLIPS,
      rounds: ROUNDS,
      platform: medians('platform'),
      ...(RAW ? { raw: medians('raw') } : {}),
      historyPerAsset: history,
    },
    null,
    2,
  ),
);
fs.rmSync(workDir, { recursive: true, force: true });
process.exit(0);
