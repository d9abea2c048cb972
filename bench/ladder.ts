import { round } from '../activities/media/tools/numbers';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { sampleWindows } from '../activities/media/tools/complexity-probe';
import { runFfmpeg } from '../activities/media/tools/ffmpeg-run';
import { parseMediaPlaylist } from '../activities/media/tools/hls-playlist';
import { planLadder, type Rung } from '../activities/media/tools/ladder';
import { buildLadderCommand, SEGMENT_SECONDS } from '../activities/media/tools/ladder-encode';
import { decidedRungs } from '../activities/media/tools/per-title';
import { probeAv } from '../activities/media/tools/probe';
import { measureRungQuality } from '../activities/media/tools/rung-quality';
import { transcodeVideo, type VideoOutput } from '../activities/media/tools/video';
import type { Bench, Measurement } from './types';

const run = promisify(execFile);

/**
 * The ladder bench: a generated mixed corpus through today's fixed ladder (ABR at Apple's rates, one run) and
 * through the per-title transcode (probe, capped CRF, per-rung checks, MP4 remux, poster), the bytes of the HLS
 * video rungs and each rung's SSIM/PSNR on the same sampled windows (source scaled down to the rung's size).
 * Time: the per-title transcodeVideo against one bare ffmpeg run making the same decided ladder from the local file.
 * Both ladders' SSIM/PSNR are measured here the same way (the transcode's own are the encoder's, kept in `decision`).
 */
const SECONDS = Number(process.env.BENCH_LADDER_SECONDS ?? 10);
const CORPUS: { name: string; size: string; graph: string }[] = [
  { name: 'slides', size: '1920x1080', graph: 'testsrc2=size=1920x1080:rate=1/3,fps=30' },
  {
    name: 'talking-head',
    size: '1280x720',
    // A still background with one slowly swaying subject in the middle.
    graph:
      'smptehdbars=size=1280x720:rate=30[bg];testsrc2=size=360x400:rate=30[fg];' +
      "[bg][fg]overlay=x='460+24*sin(t*1.3)':y='160+8*sin(t*0.7)'[out0]",
  },
  { name: 'high-motion', size: '1920x1080', graph: "testsrc2=size=1920x1080:rate=30,rotate=a='t*1.5'" },
  { name: 'noise-heavy', size: '1280x720', graph: 'testsrc2=size=1280x720:rate=30,noise=alls=14:allf=t' },
  {
    name: 'animation',
    size: '1920x1080',
    graph: 'life=size=480x270:rate=30:mold=10:ratio=0.2,scale=1920:1080:flags=neighbor',
  },
];

interface RungFigures {
  name: string;
  fixedBytes: number;
  perTitleBytes?: number;
  fixedSsim: number;
  fixedPsnr: number;
  perTitleSsim?: number;
  perTitlePsnr?: number;
}

export const ladderBench: Bench = async (ctx) => {
  const dir = path.join(ctx.workDir, 'ladder');
  await fs.mkdir(dir, { recursive: true });
  const clips = [];
  let fixedTotal = 0;
  let perTitleTotal = 0;
  let transcodeMs = 0;
  let bareMs = 0;
  for (const c of CORPUS) {
    const src = path.join(dir, `${c.name}.mp4`);
    ctx.log(`ladder: generating ${c.name} (${c.size}, ${SECONDS} s)`);
    await run('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', c.graph, '-t', String(SECONDS)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', '-pix_fmt', 'yuv420p', src],
    ]);
    const info = await probeAv(src);
    const video = info.video!;
    const fixed = planLadder(video);
    const windows = sampleWindows(info.durationSeconds, SEGMENT_SECONDS);

    const fixedDir = path.join(dir, `${c.name}-fixed`);
    await encodeLadder(src, fixedDir, fixed, video.frameRate, info.durationSeconds);
    const fixedQuality = await measureRungQuality(src, path.join(fixedDir, 'hls'), fixed, windows);

    const ptDir = path.join(dir, `${c.name}-per-title`);
    let started = performance.now();
    const { ladder, phasesMs } = await transcodeVideo(src, ptDir, info);
    let ms = performance.now() - started;

    // Measured here like the fixed ladder (the transcode's own figures are x264's luma SSIM over every frame).
    const ptQuality = await measureRungQuality(
      src,
      path.join(ptDir, 'hls'),
      decidedRungs(fixed, ladder),
      windows,
    );

    // Time: the bare run, then the transcode and the bare run once more, interleaved; the faster of each pair
    // (one sample each is at the mercy of whatever else the machine does for those seconds).
    const bareDir = path.join(dir, `${c.name}-bare`);
    const bareRun = async () => {
      await fs.rm(bareDir, { recursive: true, force: true });
      const t = performance.now();
      await encodeLadder(src, bareDir, decidedRungs(fixed, ladder), video.frameRate, info.durationSeconds);
      return performance.now() - t;
    };
    const bareSamples = [await bareRun()];
    const againDir = path.join(dir, `${c.name}-per-title-again`);
    started = performance.now();
    await transcodeVideo(src, againDir, info);
    const msSamples = [ms, performance.now() - started];
    await fs.rm(againDir, { recursive: true, force: true });
    bareSamples.push(await bareRun());
    const bare = Math.min(...bareSamples);
    ms = Math.min(...msSamples);
    transcodeMs += ms;
    bareMs += bare;

    const rungs: RungFigures[] = [];
    for (const rung of fixed) {
      const q = fixedQuality.get(rung.name)!;
      const decided = ladder.rungs.find((r) => r.name === rung.name);
      const last = decided && ptQuality.get(decided.name);
      rungs.push({
        name: rung.name,
        fixedBytes: await rungBytes(path.join(fixedDir, 'hls'), rung.name),
        fixedSsim: q.ssim,
        fixedPsnr: q.psnr,
        ...(decided
          ? {
              perTitleBytes: await rungBytes(path.join(ptDir, 'hls'), rung.name),
              perTitleSsim: last?.ssim,
              perTitlePsnr: last?.psnr,
            }
          : {}),
      });
    }
    const fixedBytes = sum(rungs.map((r) => r.fixedBytes));
    const perTitleBytes = sum(rungs.map((r) => r.perTitleBytes ?? 0));
    fixedTotal += fixedBytes;
    perTitleTotal += perTitleBytes;
    const figures = {
      name: c.name,
      size: c.size,
      seconds: SECONDS,
      complexityBitsPerPixel: ladder.complexityBitsPerPixel,
      fixedBytes,
      perTitleBytes,
      bytesRatio: round(perTitleBytes / fixedBytes, 3),
      transcodeMs: Math.round(ms),
      bareFfmpegMs: Math.round(bare),
      transcodeSamplesMs: msSamples.map(Math.round),
      bareSamplesMs: bareSamples.map(Math.round),
      phasesMs,
      rungs,
      decision: ladder.rungs.map((r) => ({
        name: r.name,
        capKbps: r.capKbps,
        limitedBy: r.limitedBy,
        attempts: r.attempts,
      })),
      dropped: ladder.dropped,
    };
    ctx.log(`ladder: ${c.name} ${JSON.stringify({ ...figures, decision: undefined })}`);
    clips.push(figures);
    await Promise.all([fixedDir, ptDir, bareDir].map((d) => fs.rm(d, { recursive: true, force: true })));
  }

  const clipPhases: VideoOutput['phasesMs'][] = clips.map((c) => c.phasesMs);
  const compared = clips.flatMap((c) =>
    c.rungs.filter((r) => r.perTitleSsim !== undefined).map((r) => ({ clip: c.name, ...r })),
  );
  const worse = compared.filter((r) => r.perTitleSsim! < r.fixedSsim);
  const hardest = clips.reduce((a, b) => (b.complexityBitsPerPixel > a.complexityBitsPerPixel ? b : a));
  const hardRungs = hardest.rungs.filter((r) => r.perTitleSsim !== undefined);
  const hardTop = hardRungs.at(-1)!;
  const hardEveryRung = hardRungs.every((r) => r.perTitleSsim! > r.fixedSsim);
  const bytesRatio = round(perTitleTotal / fixedTotal, 3);
  const timeRatio = round(transcodeMs / bareMs, 3);
  const corpus = `${CORPUS.length} generated clips, ${SECONDS} s each`;
  const measurements: Measurement[] = [
    {
      id: 'ladder-bytes',
      title: `Per-title ladder bytes (HLS video rungs), ${corpus}`,
      value: perTitleTotal,
      unit: 'bytes',
      baseline: { value: fixedTotal, unit: 'bytes', what: 'fixed ladder, ABR at Apple-like rates' },
      ratio: bytesRatio,
      target: '≤ 0.8',
      met: bytesRatio <= 0.8,
      details: { clips },
    },
    {
      id: 'ladder-ssim-rungs',
      title: 'Per-title rungs with lower SSIM than the fixed ladder’s same rung',
      value: worse.length,
      unit: `of ${compared.length} rungs`,
      target: '0',
      met: worse.length === 0,
      details: {
        worse: worse.map((r) => ({
          clip: r.clip,
          rung: r.name,
          perTitle: r.perTitleSsim,
          fixed: r.fixedSsim,
        })),
        maxDeficit: round(Math.max(0, ...worse.map((r) => r.fixedSsim - r.perTitleSsim!)), 5),
      },
    },
    {
      id: 'ladder-hardest-ssim',
      title: `SSIM of the hardest clip’s top rung (${hardest.name} ${hardTop.name}); met when every rung beats fixed`,
      value: hardTop.perTitleSsim!,
      unit: 'SSIM',
      baseline: { value: hardTop.fixedSsim, unit: 'SSIM', what: 'fixed ladder' },
      ratio: round(hardTop.perTitleSsim! / hardTop.fixedSsim, 4),
      target: '> 1 on every rung',
      met: hardEveryRung,
      details: {
        rungs: hardRungs.map((r) => ({ rung: r.name, fixed: r.fixedSsim, perTitle: r.perTitleSsim })),
      },
    },
    {
      id: 'ladder-transcode-time',
      title: `Per-title transcodeVideo (probe, ladder, checks, re-encodes, MP4 remux, poster), ${corpus}`,
      value: Math.round(transcodeMs),
      unit: 'ms',
      baseline: {
        value: Math.round(bareMs),
        unit: 'ms',
        what: 'one bare ffmpeg run making the same decided ladder',
      },
      ratio: timeRatio,
      target: '≤ 1.2',
      met: timeRatio <= 1.2,
      details: {
        phasesMs: Object.fromEntries(
          (['probe', 'encode', 'quality', 'reencode', 'finish'] as const).map((k) => [
            k,
            sum(clipPhases.map((c) => c[k])),
          ]),
        ),
      },
    },
  ];
  return measurements;
};

/** One ffmpeg run making an HLS ladder (no audio: the corpus is silent). */
async function encodeLadder(
  src: string,
  outDir: string,
  ladder: Rung[],
  frameRate: number,
  duration: number,
) {
  await fs.mkdir(path.join(outDir, 'hls'), { recursive: true });
  await runFfmpeg({
    src,
    cwd: outDir,
    durationSeconds: duration,
    what: 'bench ladder',
    build: (command) => buildLadderCommand(command, ladder, frameRate, false),
  });
}

async function rungBytes(hlsDir: string, name: string): Promise<number> {
  const playlist = parseMediaPlaylist(await fs.readFile(path.join(hlsDir, name, 'index.m3u8'), 'utf8'));
  const files = [...(playlist.map ? [playlist.map] : []), ...playlist.segments.map((s) => s.uri)];
  const sizes = await Promise.all(files.map(async (f) => (await fs.stat(path.join(hlsDir, name, f))).size));
  return sum(sizes);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
