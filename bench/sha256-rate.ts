import fs from 'node:fs';
import path from 'node:path';
import { runChecked } from '../devstack/process';
import { largePdf } from '../test/helpers/generate-media';
import { upload, settledAt } from './client';
import { activityRuns } from './history';
import { median, round } from './stats';
import type { Bench } from './types';

const SIZE = Number(process.env.BENCH_SHA_BYTES ?? 1024 ** 3);

/**
 * The worker's streamed SHA-256 of an upload read back from S3 (the verifyUpload activity's own duration, from the
 * workflow history), against `openssl dgst -sha256` of the same file on local disk.
 */
export const sha256Rate: Bench = async (ctx) => {
  const file = path.join(ctx.workDir, 'one-gib.pdf');
  const { size } = await largePdf(file, SIZE - 2048);
  const token = await ctx.token('3');
  const uploaded = await upload(ctx.platform.apiUrl, token, file, 'application/pdf');
  await uploaded.complete();
  await settledAt(ctx.platform.env.DATABASE_URL!, [uploaded.assetId]);
  const runs = await activityRuns(ctx.platform.temporal.address, `asset-${uploaded.assetId}`);
  const verifyMs = runs.find((r) => r.type === 'verifyUpload')?.runMs;
  if (verifyMs === undefined) throw new Error('no completed verifyUpload activity in the history');

  const openssl: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    await runChecked('openssl', ['dgst', '-sha256', file], { timeoutMs: 300_000 });
    openssl.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  fs.rmSync(file);
  const mibPerS = (ms: number) => size / 2 ** 20 / (ms / 1000);
  const ratio = mibPerS(verifyMs) / mibPerS(median(openssl));
  ctx.log(`sha256: worker ${verifyMs} ms, openssl ${openssl.map((v) => round(v, 0)).join('/')} ms`);
  return [
    {
      id: 'sha256-rate',
      title: 'Server-side SHA-256 of a 1 GiB upload, read from S3',
      value: round(mibPerS(verifyMs), 0),
      unit: 'MiB/s',
      baseline: {
        value: round(mibPerS(median(openssl)), 0),
        unit: 'MiB/s',
        what: 'openssl dgst -sha256, same file on local disk',
      },
      ratio: round(ratio, 3),
      target: '≥ 0.8',
      met: ratio >= 0.8,
      details: { sizeBytes: size, verifyMs, opensslMs: openssl.map((v) => round(v, 0)) },
    },
  ];
};
