import { round } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { keyframesNear, keyframeWindows, probeComplexity, sampleWindows } from './complexity-probe';
import { runFfmpeg } from './ffmpeg-run';
import { AUDIO_RENDITION, writeMasterPlaylist } from './hls-playlist';
import { planLadder, progressiveRung, type Rung, type RungName } from './ladder';
import {
  buildLadderCommand,
  buildRungCommand,
  SEGMENT_SECONDS,
  x264StatsCollector,
  type EncoderStats,
} from './ladder-encode';
import {
  BUFSIZE_FACTOR,
  decidedRungs,
  decidePerTitle,
  type LadderDecision,
  type RungDecision,
} from './per-title';
import { num, probeAv } from './probe';
import { measureRungQuality, rungKbps, SSIM_THRESHOLD, type RungQuality } from './rung-quality';
import { MediaError, type AvInfo, type RenditionFile, type WorkControl } from './types';

export { SEGMENT_SECONDS } from './ladder-encode';
/** Frames the poster is chosen from (ffmpeg's thumbnail filter picks the most representative one). */
const POSTER_CANDIDATE_FRAMES = 100;
/** Share of the progress bar the ladder encode takes; quality checks, re-encodes and the poster the rest. */
const ENCODE_SHARE = 85;
/**
 * A rung whose SSIM (at its own size) is below this, the validation threshold, is encoded again with more bits (a
 * rung above it would pass validation: more bits there buy SSIM the per-title rule chose not to pay for). It is
 * compared with x264's luma SSIM, which runs below the validation's Y+U+V figure, so what validation would fail is
 * caught here...
 */
export const TARGET_SSIM = SSIM_THRESHOLD;
/** ...at most this many times (each time CRF − 3 and the cap × 1.5, within the margins) while it helps. */
export const MAX_REENCODES = 2;
/** A re-encode that raised SSIM by less than this was futile: undone, and no further one for that rung. */
const MIN_GAIN = 0.005;
/**
 * An encode that spent at least this share of its cap was held by the cap: a re-encode under the same cap cannot
 * spend more bits, so it is not tried (on grain or hard edges at the fixed-margin cap, it only cost time).
 */
const CAP_BOUND_SHARE = 0.9;

export const HLS_MASTER = 'hls/master.m3u8';
export const POSTER = 'poster.jpg';
export const progressivePath = (rung: Pick<Rung, 'name'>) => `mp4/${rung.name}.mp4`;

export interface TranscodeOptions {
  /** Test-only: the first encode of this rung gets this cap, so the quality check has something to catch. */
  starve?: { rung: RungName; capKbps: number };
  targetSsim?: number;
  maxReencodes?: number;
}

export interface VideoOutput {
  renditions: RenditionFile[];
  /** Why each rung exists and at what rate: kept in the asset's metadata (`media.ladder`). */
  ladder: LadderDecision;
  /** Wall time of each phase, for the bench: where the time goes beyond the ladder's own encode. */
  phasesMs: { probe: number; encode: number; quality: number; reencode: number; finish: number };
}

/**
 * Per-title HLS ladder (fMP4, capped CRF from a complexity probe, each rung's SSIM/PSNR checked and re-encoded
 * with more bits when low), a progressive MP4 remuxed from the highest rung up to 720p, and a poster. The ladder
 * comes from one ffmpeg run that decodes the source once; audio is encoded once for all rungs.
 */
export async function transcodeVideo(
  src: string,
  outDir: string,
  info: AvInfo,
  control?: WorkControl,
  options: TranscodeOptions = {},
): Promise<VideoOutput> {
  const video = info.video;
  if (!video) throw new MediaError('no video stream to transcode', { container: info.container });
  const fixed = planLadder(video);
  const hasAudio = info.audio !== undefined;
  const source = path.resolve(src);
  const hlsDir = path.join(outDir, 'hls');
  await fs.mkdir(hlsDir, { recursive: true });
  await fs.mkdir(path.join(outDir, 'mp4'), { recursive: true });

  const phasesMs = { probe: 0, encode: 0, quality: 0, reencode: 0, finish: 0 };
  let mark = performance.now();
  const lap = (phase: keyof typeof phasesMs) => {
    const now = performance.now();
    phasesMs[phase] += Math.round(now - mark);
    mark = now;
  };
  const windows = sampleWindows(info.durationSeconds, SEGMENT_SECONDS);
  const keyframes = await keyframesNear(
    source,
    windows.map((w) => w.startSeconds),
  );
  const probe = await probeComplexity(
    source,
    path.join(outDir, '.probe'),
    fixed[0]!,
    video.frameRate,
    keyframeWindows(windows, keyframes, info.durationSeconds),
    control,
  );
  const decision: LadderDecision = {
    ...decidePerTitle(fixed, probe, sourceVideoKbps(info)),
    qualityWindows: windows.map(({ startSeconds, seconds }) => ({ startSeconds, seconds })),
  };
  const ladder = decidedRungs(fixed, decision);
  lap('probe');
  const first = ladder.map((r) =>
    r.name === options.starve?.rung
      ? {
          ...r,
          maxrateKbps: options.starve.capKbps,
          bufsizeKbps: Math.round(options.starve.capKbps * BUFSIZE_FACTOR),
        }
      : r,
  );
  const encoder = x264StatsCollector();
  await runFfmpeg({
    src: source,
    cwd: outDir,
    durationSeconds: info.durationSeconds,
    what: 'video transcode',
    logLevel: 'info',
    onStderrLine: encoder.onLine,
    control,
    progressRange: [0, ENCODE_SHARE],
    build: (command) =>
      buildLadderCommand(command, first, video.frameRate, hasAudio, {
        stats: true,
        poster: {
          file: POSTER,
          ...pick(progressiveRung(ladder)),
          startSeconds: posterSeekSeconds(info.durationSeconds),
          frames: POSTER_CANDIDATE_FRAMES,
        },
      }),
  });
  // x264's own figures when it gave one per rung; otherwise checkAndReencode measures on the sampled windows.
  const stats = encoder.stats.length === first.length ? encoder.stats : [];
  decision.rungs.forEach((d, i) => {
    const s = stats[i];
    d.attempts.push({
      crf: first[i]!.crf!,
      capKbps: first[i]!.maxrateKbps,
      ...encoderQuality(s),
    });
    d.publishedAttempt = 0;
  });
  lap('encode');

  await checkAndReencode(source, outDir, info, decision, fixed, control, options, lap);
  control?.onProgress?.(95);

  const masterPath = path.join(outDir, HLS_MASTER);
  await writeMasterPlaylist(masterPath, ladder, hasAudio);
  const top = ladder[ladder.length - 1]!;
  const progressive = progressiveRung(ladder);
  const mp4Rel = progressivePath(progressive);
  await remuxProgressive(outDir, progressive, hasAudio, control);
  await assertWritten(path.join(outDir, POSTER), 'poster');
  control?.onProgress?.(100);

  const mp4 = await probeAv(path.join(outDir, mp4Rel));
  const poster = await sharp(path.join(outDir, POSTER)).metadata();
  const renditions: RenditionFile[] = [
    {
      name: 'hls',
      relativePath: HLS_MASTER,
      mimeType: 'application/vnd.apple.mpegurl',
      width: top.width,
      height: top.height,
    },
    {
      name: 'mp4',
      relativePath: mp4Rel,
      mimeType: 'video/mp4',
      width: mp4.video?.displayWidth ?? progressive.width,
      height: mp4.video?.displayHeight ?? progressive.height,
      ...(mp4.bitRate ? { bitRate: mp4.bitRate } : {}),
      durationSeconds: mp4.durationSeconds,
    },
    {
      name: 'poster',
      relativePath: POSTER,
      mimeType: 'image/jpeg',
      width: num(poster.width) ?? progressive.width,
      height: num(poster.height) ?? progressive.height,
    },
  ];
  lap('finish');
  return { renditions, ladder: decision, phasesMs };
}

/**
 * Measures every rung on the sampled windows; rungs under the target SSIM are encoded again, alone, with more
 * bits (bounded), and measured again. Every attempt is recorded on the rung's decision.
 */
async function checkAndReencode(
  source: string,
  outDir: string,
  info: AvInfo,
  decision: LadderDecision,
  fixed: readonly Rung[],
  control: WorkControl | undefined,
  options: TranscodeOptions,
  lap: (phase: 'quality' | 'reencode') => void,
): Promise<void> {
  const hlsDir = path.join(outDir, 'hls');
  const keptDir = path.join(outDir, '.kept');
  const target = options.targetSsim ?? TARGET_SSIM;
  const maxReencodes = options.maxReencodes ?? MAX_REENCODES;
  // The encoder's SSIM/PSNR when it reported them, else measured on the sampled windows (one more decode).
  const measure = async (rungs: RungDecision[]) => {
    const unmeasured = rungs.filter((d) => d.attempts.at(-1)!.ssim === undefined);
    const quality = unmeasured.length
      ? await measureRungQuality(source, hlsDir, unmeasured, decision.qualityWindows, control)
      : new Map<string, RungQuality>();
    for (const d of rungs) {
      const last = d.attempts[d.attempts.length - 1]!;
      Object.assign(last, quality.get(d.name), { encodedKbps: await rungKbps(hlsDir, d.name) });
    }
    lap('quality');
  };
  await measure(decision.rungs);
  // Rungs below the target that a re-encode cannot help (held by a cap that may not rise): said once in `why`.
  const settled = new Set<RungDecision>();
  for (let n = 1; n <= maxReencodes; n++) {
    const low: { d: RungDecision; capKbps: number }[] = [];
    for (const d of decision.rungs) {
      if (settled.has(d) || !worthAnother(d, target)) continue;
      const published = d.attempts[d.publishedAttempt]!;
      const ceiling = ceilingKbps(d, decision);
      const capKbps = Math.max(1, Math.round(Math.min(ceiling, d.capKbps * 1.5 ** n)));
      const capBound = (published.encodedKbps ?? 0) >= published.capKbps * CAP_BOUND_SHARE;
      if (capBound && capKbps <= published.capKbps) {
        settled.add(d);
        d.why +=
          `; SSIM ${published.ssim} is below ${target} with the cap spent, and the cap may not rise:` +
          ' not encoded again';
        continue;
      }
      low.push({ d, capKbps });
    }
    if (low.length === 0) break;
    for (const { d, capKbps } of low) {
      const crf = Math.max(12, d.crf - 3 * n);
      const base = fixed.find((r) => r.name === d.name)!;
      const rung: Rung = {
        ...base,
        crf,
        videoBitrateKbps: capKbps,
        maxrateKbps: capKbps,
        bufsizeKbps: Math.round(capKbps * BUFSIZE_FACTOR),
      };
      // The previous encode is kept aside: a re-encode that does not help is undone rather than published.
      await fs.mkdir(keptDir, { recursive: true });
      await fs.rename(path.join(hlsDir, d.name), path.join(keptDir, d.name));
      const encoder = x264StatsCollector();
      await runFfmpeg({
        src: source,
        cwd: outDir,
        durationSeconds: info.durationSeconds,
        what: `re-encode of hls/${d.name}`,
        logLevel: 'info',
        onStderrLine: encoder.onLine,
        control: control && { signal: control.signal, stallMs: control.stallMs },
        build: (command) => buildRungCommand(command, rung, info.video?.frameRate ?? 0, true),
      });
      const [s] = encoder.stats;
      d.attempts.push({ crf, capKbps, ...encoderQuality(s) });
    }
    lap('reencode');
    await measure(low.map((l) => l.d));
    for (const { d } of low) {
      const gain = (d.attempts.at(-1)!.ssim ?? 0) - (d.attempts[d.publishedAttempt]!.ssim ?? 0);
      if (gain >= MIN_GAIN) d.publishedAttempt = d.attempts.length - 1;
      else {
        await fs.rm(path.join(hlsDir, d.name), { recursive: true, force: true });
        await fs.rename(path.join(keptDir, d.name), path.join(hlsDir, d.name));
      }
      await fs.rm(path.join(keptDir, d.name), { recursive: true, force: true });
    }
  }
  await fs.rm(keptDir, { recursive: true, force: true });
}

/**
 * Below the target, and the last re-encode (if any) helped: on grain or noise more bits barely move SSIM, so such
 * a re-encode is undone (publishedAttempt stays on the earlier one) and no further one is tried.
 */
function worthAnother(d: RungDecision, target: number): boolean {
  if ((d.attempts[d.publishedAttempt]!.ssim ?? 0) >= target) return false;
  return d.publishedAttempt === d.attempts.length - 1;
}

/** The highest cap a re-encode may use: the margins over the fixed rate and the source's bitrate. */
function ceilingKbps(d: RungDecision, decision: LadderDecision): number {
  const bounds = [d.fixedKbps * decision.margins.fixed];
  if (decision.sourceVideoKbps) bounds.push(decision.sourceVideoKbps * decision.margins.source);
  return Math.max(d.capKbps, Math.min(...bounds));
}

/** The source's video bitrate: the stream's, else the container's minus the audio's. */
function sourceVideoKbps(info: AvInfo): number | undefined {
  const bits = info.video?.bitRate ?? (info.bitRate ? info.bitRate - (info.audio?.bitRate ?? 0) : undefined);
  return bits && bits > 0 ? Math.round(bits / 1000) : undefined;
}

/** The progressive MP4 is the rung's own stream (and the audio group's track), copied: faststart, no encode. */
async function remuxProgressive(outDir: string, rung: Rung, hasAudio: boolean, control?: WorkControl) {
  await runFfmpeg({
    src: `hls/${rung.name}/index.m3u8`,
    cwd: outDir,
    durationSeconds: 0,
    what: 'progressive MP4 remux',
    control: control && { signal: control.signal, stallMs: control.stallMs },
    build: (command) => {
      if (hasAudio) command.input(`hls/${AUDIO_RENDITION}/index.m3u8`);
      command
        .output(progressivePath(rung))
        .outputOptions(
          ...['-map', '0:v:0', ...(hasAudio ? ['-map', '1:a:0'] : [])],
          ...['-c', 'copy', '-movflags', '+faststart'],
        );
    },
  });
  await assertWritten(path.join(outDir, progressivePath(rung)), 'progressive MP4');
}

/** Skip a possible fade-in: start the poster search a little into the video. */
function posterSeekSeconds(duration: number): number {
  return Math.min(duration * 0.1, 3);
}

const pick = ({ width, height }: Rung) => ({ width, height });

/** An attempt's SSIM/PSNR as x264 reported them, when it did. */
const encoderQuality = (s: EncoderStats | undefined) =>
  s ? { ssim: round(s.ssim, 5), psnr: round(s.psnr, 3) } : {};

async function assertWritten(file: string, what: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat || stat.size === 0) throw new MediaError(`ffmpeg finished but wrote no ${what}`, { file });
}
