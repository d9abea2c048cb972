import fs from 'node:fs';
import path from 'node:path';
import { largePdf } from '../test/helpers/generate-media';
import { upload, settledAt } from './client';
import { round } from './stats';
import type { Bench } from './types';

const SIZE = Number(process.env.BENCH_RSS_BYTES ?? 4 * 1024 ** 3);

/**
 * A 4 GiB upload end to end (multipart upload, verification, dedup copy, the download to the workspace, probe and
 * render) while the worker's RSS is sampled. clamd cannot scan streams over 2 GiB (the platform fails such blobs at
 * the scan stage rather than call them clean), so for this one run the worker is restarted without a scanner.
 */
export const workerRss: Bench = async (ctx) => {
  const file = path.join(ctx.workDir, 'four-gib.pdf');
  const { size } = await largePdf(file, SIZE - 2048);
  await ctx.platform.stop('worker');
  await ctx.platform.start('worker', { CLAMD_HOST: undefined });
  try {
    const token = await ctx.token('4');
    ctx.takeWorkerPeakRss();
    const t0 = Date.now();
    const uploaded = await upload(ctx.platform.apiUrl, token, file, 'application/pdf');
    const uploadMs = Date.now() - t0;
    const completedAt = await uploaded.complete();
    const settled = (await settledAt(ctx.platform.env.DATABASE_URL!, [uploaded.assetId])).get(
      uploaded.assetId,
    )!;
    if (settled.status !== 'ready') throw new Error(`the 4 GiB upload ended ${settled.status}`);
    const rss = ctx.takeWorkerPeakRss();
    fs.rmSync(file);
    const mib = rss.nodeBytes / 2 ** 20;
    ctx.log(`worker rss: ${round(mib, 0)} MiB peak (tree ${round(rss.treeBytes / 2 ** 20, 0)} MiB)`);
    return [
      {
        id: 'worker-peak-rss',
        title: 'Worker peak RSS while a 4 GiB upload goes end to end',
        value: round(mib, 0),
        unit: 'MiB',
        target: '< 400 MB',
        met: rss.nodeBytes < 400 * 1000 ** 2,
        details: {
          sizeBytes: size,
          uploadMs,
          completeToReadyMs: settled.at - completedAt,
          treePeakRssMiB: round(rss.treeBytes / 2 ** 20, 0),
        },
      },
    ];
  } finally {
    await ctx.platform.stop('worker');
    await ctx.platform.start('worker');
  }
};
