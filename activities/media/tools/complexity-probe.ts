import { round } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ENCODER_THREADS, runFfmpeg } from './ffmpeg-run';
import { GOP_SECONDS } from './ladder-encode';
import type { Rung } from './ladder';
import { LADDER_CRF, type ComplexityProbe } from './per-title';
import { ffprobeJson } from './probe';
import type { WorkControl } from './types';

/** Seconds per sampled window: short, so probing and checking cost a few seconds of a long video. */
export const WINDOW_SECONDS = 2;
/** Windows spread through the video. */
const WINDOWS = 3;
const PROBE_PRESET = 'veryfast';
/**
 * Seconds per probe window. One second is enough: the probe weighs its key frame and the others as the ladder's GOP
 * will (x264's per-type sizes), so a short window does not overstate a static picture.
 */
export const PROBE_WINDOW_SECONDS = 1;

export interface Window {
  startSeconds: number;
  seconds: number;
}

/**
 * Up to WINDOWS windows of WINDOW_SECONDS spread through the video, each starting on the segment grid (so a
 * window is the start of one HLS segment, which the quality check reads alone). A clip shorter than a window is
 * one window of its own length.
 */
export function sampleWindows(durationSeconds: number, segmentSeconds: number): Window[] {
  const duration = durationSeconds > 0 ? durationSeconds : WINDOW_SECONDS;
  const segments = Math.max(1, Math.ceil(duration / segmentSeconds - 1e-6));
  const count = Math.min(WINDOWS, segments);
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.floor((segments * (i + 0.5)) / count));
  return [...picked]
    .map((k) => {
      const start = k * segmentSeconds;
      return { startSeconds: start, seconds: round(Math.min(WINDOW_SECONDS, duration - start), 3) };
    })
    .filter((w) => w.seconds > 0);
}

/** How far past each spread target the probe looks for a keyframe to start its window on. */
const KEYFRAME_REACH_SECONDS = 6;
const KEYFRAME_LIST_TIMEOUT_MS = 30_000;

/**
 * Keyframe times near the targets (seconds from the file's start), from the demuxer's packet flags: nothing is
 * decoded, and only the packets from the keyframe before each target to KEYFRAME_REACH_SECONDS past it are read.
 * Empty when ffprobe cannot tell (the probe then seeks to the targets themselves).
 */
export async function keyframesNear(src: string, targets: readonly number[]): Promise<number[]> {
  const intervals = targets
    .map((t) => `${t.toFixed(3)}%${(t + KEYFRAME_REACH_SECONDS).toFixed(3)}`)
    .join(',');
  const data = await ffprobeJson<{
    packets?: { pts_time?: string; dts_time?: string; flags?: string }[];
    format?: { start_time?: string };
  }>(
    src,
    [
      '-select_streams',
      'v:0',
      '-read_intervals',
      intervals,
      '-show_entries',
      'packet=pts_time,dts_time,flags:format=start_time',
    ],
    KEYFRAME_LIST_TIMEOUT_MS,
  ).catch(() => undefined);
  const origin = Number(data?.format?.start_time ?? 0) || 0;
  const times = (data?.packets ?? [])
    .filter((p) => p.flags?.startsWith('K'))
    .map((p) => Number(p.pts_time ?? p.dts_time) - origin)
    .filter((t) => Number.isFinite(t) && t >= 0);
  return [...new Set(times.map((t) => round(t, 6)))].sort((a, b) => a - b);
}

/**
 * The probe's windows: for each spread window, the nearest keyframe not taken yet (so a window decodes nothing but
 * itself, however long the source's GOPs), PROBE_WINDOW_SECONDS from there; windows that would overlap are dropped. Without
 * keyframes, the spread windows themselves.
 */
export function keyframeWindows(
  spread: readonly Window[],
  keyframes: readonly number[],
  durationSeconds: number,
): Window[] {
  if (keyframes.length === 0) return [...spread];
  const taken = new Set<number>();
  const starts: number[] = [];
  for (const w of spread) {
    const free = keyframes.filter((k) => !taken.has(k) && k < durationSeconds);
    if (free.length === 0) break;
    const nearest = free.reduce((a, b) =>
      Math.abs(b - w.startSeconds) < Math.abs(a - w.startSeconds) ? b : a,
    );
    taken.add(nearest);
    starts.push(nearest);
  }
  const windows: Window[] = [];
  for (const start of starts.sort((a, b) => a - b)) {
    const last = windows[windows.length - 1];
    if (last && start < last.startSeconds + last.seconds) continue;
    const seconds = round(Math.min(PROBE_WINDOW_SECONDS, durationSeconds - start), 3);
    // Rounded up to the millisecond: the seek then lands on this keyframe, not on the one before it.
    if (seconds > 0)
      windows.push({ startSeconds: Math.max(0, Math.ceil(start * 1000 - 1e-6)) / 1000, seconds });
  }
  return windows.length ? windows : [...spread];
}

/**
 * Complexity: a constant-quality x264 encode of each window at the lowest rung's size, in one ffmpeg run. Each
 * window is its own input, started on a keyframe (keyframeWindows), so the probe decodes only the windows: on a 10 s
 * clip 4–6 s of it rather than all of it, on a long video a few seconds whatever its length.
 */
export async function probeComplexity(
  src: string,
  workDir: string,
  size: Pick<Rung, 'width' | 'height'>,
  frameRate: number,
  windows: readonly Window[],
  control?: WorkControl,
): Promise<ComplexityProbe> {
  await fs.mkdir(workDir, { recursive: true });
  const fps = frameRate > 0 ? frameRate : 30;
  if (windows.length === 0) throw new RangeError('no windows to probe');
  // Without accurate seeking the window starts on the keyframe at or before its start (its own, when keyframeWindows
  // placed it): nothing before it is decoded.
  const seek = (w: Window) => [
    '-noaccurate_seek',
    '-ss',
    w.startSeconds.toFixed(3),
    '-t',
    w.seconds.toFixed(3),
  ];
  const file = (i: number) => `probe-${i}.h264`;
  const frames = x264FrameSizes();
  await runFfmpeg({
    src: path.resolve(src),
    cwd: workDir,
    inputOptions: seek(windows[0]!),
    durationSeconds: 0,
    what: 'complexity probe',
    logLevel: 'info',
    onStderrLine: frames.onLine,
    control: control && { signal: control.signal, stallMs: control.stallMs },
    build: (command) => {
      for (const w of windows.slice(1)) command.input(path.resolve(src)).inputOptions(...seek(w));
      const graph = windows.map(
        (_, i) =>
          `[${i}:v:0]setpts=PTS-STARTPTS,scale=${size.width}:${size.height}:flags=bicubic,format=yuv420p[w${i}]`,
      );
      command.complexFilter(graph.join(';'));
      windows.forEach((_, i) => {
        command
          .output(file(i))
          .outputOptions(
            ...['-map', `[w${i}]`, '-an'],
            ...[
              '-c:v',
              'libx264',
              '-preset',
              PROBE_PRESET,
              '-crf',
              String(LADDER_CRF),
              '-threads',
              ENCODER_THREADS,
            ],
            ...['-f', 'h264'],
          );
      });
    },
  });
  const sizes = frames.sizes.length === windows.length ? frames.sizes : [];
  const gop = Math.max(1, Math.round(fps * GOP_SECONDS));
  const measured = await Promise.all(
    windows.map(async (w, i) => {
      const bytes = (await fs.stat(path.join(workDir, file(i))).catch(() => undefined))?.size ?? 0;
      const pixels = size.width * size.height;
      const f = sizes[i];
      // A GOP of the ladder: one key frame and the rest like the window's others. Without x264's figures (or a
      // window of key frames only), the window's own bytes.
      const bitsPerPixel =
        f && f.otherBytes !== undefined
          ? ((f.keyBytes + (gop - 1) * f.otherBytes) * 8) / (pixels * gop)
          : (bytes * 8) / (pixels * fps * w.seconds);
      return {
        ...w,
        bytes,
        bitsPerPixel: round(bitsPerPixel, 5),
        ...(f ? { keyFrameBytes: Math.round(f.keyBytes) } : {}),
        ...(f?.otherBytes !== undefined ? { otherFrameBytes: Math.round(f.otherBytes) } : {}),
      };
    }),
  );
  await fs.rm(workDir, { recursive: true, force: true });
  return {
    width: size.width,
    height: size.height,
    frameRate: fps,
    crf: LADDER_CRF,
    preset: PROBE_PRESET,
    windows: measured,
  };
}

/** Mean key-frame and other-frame sizes of one x264 encode (its end-of-encode summary). */
interface FrameSizes {
  keyBytes: number;
  otherBytes?: number;
}

/**
 * Reads x264's "frame I:n Avg QP:q size: s" summaries from ffmpeg's stderr (log level info), per encoder, in the
 * order ffmpeg closes them (output order, as x264StatsCollector relies on too).
 */
function x264FrameSizes(): { onLine(line: string): void; sizes: FrameSizes[] } {
  const byEncoder = new Map<string, Partial<Record<'I' | 'P' | 'B', { n: number; size: number }>>>();
  return {
    onLine(line) {
      const m =
        /\[libx264 @ (0x[0-9a-f]+)\] frame ([IPB]):(\d+)\s+Avg QP:\s*[0-9.]+\s+size:\s*([0-9.]+)/.exec(line);
      if (!m) return;
      const types = byEncoder.get(m[1]!) ?? {};
      types[m[2] as 'I' | 'P' | 'B'] = { n: Number(m[3]), size: Number(m[4]) };
      byEncoder.set(m[1]!, types);
    },
    get sizes() {
      return [...byEncoder.values()].flatMap((t): FrameSizes[] => {
        if (!t.I || t.I.n <= 0) return [];
        const others = [t.P, t.B].filter((x): x is { n: number; size: number } => !!x && x.n > 0);
        const n = others.reduce((a, x) => a + x.n, 0);
        return [
          {
            keyBytes: t.I.size,
            ...(n > 0 ? { otherBytes: others.reduce((a, x) => a + x.n * x.size, 0) / n } : {}),
          },
        ];
      });
    },
  };
}
