import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AssetlineClient } from '../client';
import { repoRoot } from '../devstack';
import { largePdf } from '../test/helpers/generate-media';
import { median, round } from './stats';
import type { Bench } from './types';

const SIZE = Number(process.env.BENCH_CLI_BYTES ?? 1024 ** 3);
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 3);

/** A command under /usr/bin/time: wall seconds, CPU seconds (user + system) and peak RSS (KiB, the kernel's maximum). */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{
    seconds: number;
    cpuSeconds: number;
    peakRssBytes: number;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', 'maxrss=%M cpu=%U+%S', command, ...args], {
      env,
      cwd: repoRoot,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const usage = /maxrss=(\d+) cpu=([\d.]+)\+([\d.]+)/.exec(stderr);
      if (code !== 0 || !usage) return reject(new Error(`${command} exited ${code}: ${stderr.slice(-500)}`));
      const cpuSeconds = Number(usage[2]) + Number(usage[3]);
      resolve({ seconds, cpuSeconds, peakRssBytes: Number(usage[1]) * 1024, stdout, stderr });
    });
  });
}

/**
 * `assetline upload` of a 1 GiB file (its own Node process, as a user runs it: SHA-256 and Content-MD5 while
 * reading, parts in parallel) against `curl -T` of the same file to a pre-signed PUT URL of the same S3 server.
 * Runs alternate, and each CLI upload's processing is waited out so the worker's hashing is not the next run's noise.
 */
export const cliUpload: Bench = async (ctx) => {
  // The CLI as shipped to users: one bundled file (npm run build:cli), which Node loads without stripping the types
  // of every source module (a third less memory at rest than running client/cli/bin.ts).
  const bundle = path.join(ctx.workDir, 'assetline.mjs');
  await build({
    entryPoints: [path.join(repoRoot, 'client/cli/bin.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'warning',
  });
  const file = path.join(ctx.workDir, 'cli-one-gib.pdf');
  const { size } = await largePdf(file, SIZE - 2048);
  const token = await ctx.token('16');
  const client = new AssetlineClient({ baseUrl: ctx.platform.apiUrl, token });
  const { env } = ctx.platform;
  const s3 = new S3Client({
    endpoint: env.S3_ENDPOINT!,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! },
  });
  const cliEnv = {
    PATH: process.env.PATH,
    ASSETLINE_URL: ctx.platform.apiUrl,
    ASSETLINE_TOKEN: token,
    ASSETLINE_STATE_DIR: path.join(ctx.workDir, 'cli-state'),
    ASSETLINE_TIMING: '1',
  };
  const curl: number[] = [];
  const cli: number[] = [];
  const rss: number[] = [];
  // CPU seconds say what wall time cannot on a shared machine: the work each client did for the same bytes.
  const curlCpu: number[] = [];
  const cliCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const key = `bench/curl-${Date.now()}-${i}`;
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: env.S3_BUCKET!, Key: key }), {
      expiresIn: 900,
    });
    const curlRun = await timed('curl', ['-sS', '--fail', '-o', '/dev/null', '-T', file, url], process.env);
    curl.push(curlRun.seconds);
    curlCpu.push(curlRun.cpuSeconds);

    const run = await timed(process.execPath, [bundle, 'upload', file, '--json'], cliEnv);
    cli.push(run.seconds);
    cliCpu.push(run.cpuSeconds);
    rss.push(run.peakRssBytes);
    const { assetId } = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { assetId: string };
    await client.waitUntilReady(assetId, { timeoutMs: 15 * 60_000, intervalMs: 1000 });
    ctx.log(
      `cli-upload run ${i + 1}: curl ${round(curl[i]!, 2)} s, cli ${round(run.seconds, 2)} s (cpu curl ${round(curlCpu[i]!, 2)} s, cli ${round(run.cpuSeconds, 2)} s), rss ${rss[i]! >> 20} MiB; ${/timing \S+ (.*)/.exec(run.stderr)?.[1] ?? ''}`,
    );
  }
  s3.destroy();
  fs.rmSync(file);
  const mibPerS = (seconds: number) => size / 2 ** 20 / seconds;
  const ratio = mibPerS(median(cli)) / mibPerS(median(curl));
  const peak = Math.max(...rss);
  return [
    {
      id: 'cli-upload-rate',
      title: 'CLI upload of a 1 GiB file (assetline upload, own process)',
      value: round(mibPerS(median(cli)), 0),
      unit: 'MiB/s',
      baseline: {
        value: round(mibPerS(median(curl)), 0),
        unit: 'MiB/s',
        what: 'curl -T to a pre-signed PUT URL',
      },
      ratio: round(ratio, 3),
      target: '≥ 0.9',
      met: ratio >= 0.9,
      details: {
        sizeBytes: size,
        cliSeconds: cli.map((s) => round(s, 2)),
        curlSeconds: curl.map((s) => round(s, 2)),
        cliCpuSeconds: cliCpu.map((s) => round(s, 2)),
        curlCpuSeconds: curlCpu.map((s) => round(s, 2)),
      },
    },
    {
      id: 'cli-upload-rss',
      title: 'CLI peak RSS uploading a 1 GiB file',
      value: round(peak / 2 ** 20, 0),
      unit: 'MiB',
      target: '< 150 MiB',
      met: peak < 150 * 2 ** 20,
      details: { peakRssMiB: rss.map((b) => round(b / 2 ** 20, 0)) },
    },
  ];
};
