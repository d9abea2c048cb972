import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { upload, settledAt, type Uploaded } from './client';
import { clip, clipCopies, jpegCopies, photo } from './media';
import { rawPipeline } from './raw-pipeline';
import { cpuByPart, cpuPerUnit, platformParts } from './cpu';
import { pool, round } from './stats';
import type { Bench, BenchContext } from './types';

const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 50);
const CLIPS = Number(process.env.BENCH_CLIPS ?? 4);

async function mediaSet(ctx: BenchContext, tag: string) {
  const dir = path.join(ctx.workDir, `throughput-${tag}`);
  fs.mkdirSync(dir, { recursive: true });
  const photoSource = path.join(dir, 'photo.jpg');
  const clipSource = path.join(dir, 'clip.mp4');
  await Promise.all([photo(photoSource), clip(clipSource)]);
  return [
    ...(await clipCopies(clipSource, dir, CLIPS)).map((file) => ({ file, contentType: 'video/mp4' })),
    ...(await jpegCopies(photoSource, dir, PHOTOS)).map((file) => ({ file, contentType: 'image/jpeg' })),
  ];
}

/** Rounds of each side, interleaved (platform, raw, platform, raw, ...): the figure is the fastest round of each. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 2));

interface Round {
  ms: number;
  /** When the last asset of each kind was ready, from the first completion (or the raw run's start). */
  lastReadyMs: Record<string, number>;
  cpuMsPerAsset: Record<string, number>;
}

/** Uploads the set, sends every completion together, and waits until each asset is ready. */
async function platformRound(
  ctx: BenchContext,
  tag: string,
): Promise<Round & { rss: { nodeBytes: number; treeBytes: number } }> {
  const token = await ctx.token('2');
  const set = await mediaSet(ctx, `platform-${tag}`);
  const uploads: Uploaded[] = await pool(set, 4, (m) =>
    upload(ctx.platform.apiUrl, token, m.file, m.contentType),
  );
  ctx.takeWorkerPeakRss();
  // Where the CPU goes, per asset, on each side: what the platform adds to the same media work.
  const parts = platformParts(ctx.platform);
  const cpuBefore = cpuByPart(parts);
  const started = await Promise.all(uploads.map((u) => u.complete()));
  const settled = await settledAt(
    ctx.platform.env.DATABASE_URL!,
    uploads.map((u) => u.assetId),
  );
  const notReady = [...settled.values()].filter((s) => s.status !== 'ready').length;
  if (notReady > 0) throw new Error(`${notReady} of ${uploads.length} assets did not become ready`);
  const t0 = Math.min(...started);
  // When the last of each kind was ready: a clip rendering alone at the end leaves a core idle.
  const lastReadyMs: Record<string, number> = {};
  uploads.forEach((u, i) => {
    const kind = set[i]!.contentType;
    lastReadyMs[kind] = Math.max(lastReadyMs[kind] ?? 0, settled.get(u.assetId)!.at - t0);
  });
  return {
    ms: Math.max(...Object.values(lastReadyMs)),
    lastReadyMs,
    cpuMsPerAsset: cpuPerUnit(cpuBefore, cpuByPart(parts), uploads.length),
    rss: ctx.takeWorkerPeakRss(),
  };
}

/** The same set through the plain pipeline, as many at a time as the worker runs media activities. */
async function rawRound(ctx: BenchContext, tag: string): Promise<Round> {
  const set = await mediaSet(ctx, `raw-${tag}`);
  const keys = await pool(set, 4, async (m) => {
    const key = `raw-uploads/${randomUUID()}`;
    await ctx.raw.store.write(key, fs.createReadStream(m.file), { contentType: m.contentType });
    return { key, contentType: m.contentType };
  });
  const parts = platformParts(ctx.platform);
  const cpuBefore = cpuByPart(parts);
  const t0 = Date.now();
  const lastReadyMs: Record<string, number> = {};
  await pool(keys, ctx.mediaConcurrency, async (k) => {
    await rawPipeline(ctx.raw, k.key, k.contentType);
    lastReadyMs[k.contentType] = Date.now() - t0;
  });
  return {
    ms: Date.now() - t0,
    lastReadyMs,
    cpuMsPerAsset: cpuPerUnit(cpuBefore, cpuByPart(parts), keys.length),
  };
}

const fastest = <R extends Round>(rounds: R[]) => rounds.reduce((a, b) => (b.ms < a.ms ? b : a));

/**
 * 50 photos and 4 clips submitted at once: all uploaded first, then every completion sent together; assets per
 * minute from the first completion to the last ready event. The baseline runs the same set through the plain
 * pipeline with as many at a time as the worker runs media activities. One round of either side moves by ±5 % on
 * this machine from run to run, so the sides take turns and each keeps its fastest round: interference only ever
 * slows a round down.
 */
export const throughput: Bench = async (ctx) => {
  const platformRounds: Awaited<ReturnType<typeof platformRound>>[] = [];
  const rawRounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    platformRounds.push(await platformRound(ctx, String(i)));
    rawRounds.push(await rawRound(ctx, String(i)));
    const [p, r] = [platformRounds.at(-1)!, rawRounds.at(-1)!];
    ctx.log(
      `throughput round ${i}: platform ${p.ms} ms ${JSON.stringify(p.lastReadyMs)}, raw ${r.ms} ms ${JSON.stringify(r.lastReadyMs)}, ratio ${round(r.ms / p.ms, 3)}`,
    );
  }
  const platform = fastest(platformRounds);
  const raw = fastest(rawRounds);
  const assets = PHOTOS + CLIPS;
  const perMinute = (ms: number) => (assets * 60_000) / ms;
  const ratio = raw.ms / platform.ms;
  return [
    {
      id: 'throughput',
      title: `Throughput, ${PHOTOS} photos + ${CLIPS} clips submitted at once (fastest of ${ROUNDS} interleaved rounds each)`,
      value: round(perMinute(platform.ms), 1),
      unit: 'assets/min',
      baseline: {
        value: round(perMinute(raw.ms), 1),
        unit: 'assets/min',
        what: `raw pipeline script, ${ctx.mediaConcurrency} at a time`,
      },
      ratio: round(ratio, 3),
      // Issue 18's goal (it was 0.85 before).
      target: '≥ 0.95',
      met: ratio >= 0.95,
      details: {
        rounds: platformRounds.map((p, i) => ({
          platformMs: p.ms,
          rawMs: rawRounds[i]!.ms,
          ratio: round(rawRounds[i]!.ms / p.ms, 3),
        })),
        platformMs: platform.ms,
        rawMs: raw.ms,
        workerPeakRssMiB: round(Math.max(...platformRounds.map((p) => p.rss.nodeBytes)) / 2 ** 20, 0),
        workerTreePeakRssMiB: round(Math.max(...platformRounds.map((p) => p.rss.treeBytes)) / 2 ** 20, 0),
        lastReadyMs: { platform: platform.lastReadyMs, raw: raw.lastReadyMs },
        platformCpuMsPerAsset: platform.cpuMsPerAsset,
        rawCpuMsPerAsset: raw.cpuMsPerAsset,
      },
    },
  ];
};
