import { round } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ENCODER_THREADS, runFfmpeg } from './ffmpeg-run';
import type { Rung } from './ladder';
import { LADDER_CRF, type ComplexityProbe } from './per-title';
import type { WorkControl } from './types';

/** Seconds per sampled window: short, so probing and checking cost a few seconds of a long video. */
export const WINDOW_SECONDS = 2;
/** Windows spread through the video. */
const WINDOWS = 3;
const PROBE_PRESET = 'veryfast';

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

/** Windows closer than this are probed from one decode (decoding the gap is cheaper than seeking from a keyframe). */
const SPAN_GAP_SECONDS = 10;

/**
 * Complexity: a constant-quality x264 encode of each window at the lowest rung's size, in one ffmpeg run. Windows
 * close together are cut (trim) from one decode; far apart ones are separate inputs that seek, so a long video costs
 * no more than a short one.
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
  const spans: { start: number; end: number; windows: number[] }[] = [];
  windows.forEach((w, i) => {
    const last = spans[spans.length - 1];
    if (last && w.startSeconds - last.end <= SPAN_GAP_SECONDS) {
      last.end = Math.max(last.end, w.startSeconds + w.seconds);
      last.windows.push(i);
    } else spans.push({ start: w.startSeconds, end: w.startSeconds + w.seconds, windows: [i] });
  });
  const seek = (span: (typeof spans)[number]) => [
    '-ss',
    span.start.toFixed(3),
    '-t',
    (span.end - span.start).toFixed(3),
  ];
  const file = (i: number) => `probe-${i}.h264`;
  await runFfmpeg({
    src: path.resolve(src),
    cwd: workDir,
    inputOptions: seek(spans[0]!),
    durationSeconds: 0,
    what: 'complexity probe',
    control: control && { signal: control.signal, stallMs: control.stallMs },
    build: (command) => {
      for (const span of spans.slice(1)) command.input(path.resolve(src)).inputOptions(...seek(span));
      const graph: string[] = [];
      spans.forEach((span, k) => {
        graph.push(`[${k}:v:0]split=${span.windows.length}${span.windows.map((i) => `[c${i}]`).join('')}`);
        for (const i of span.windows) {
          const w = windows[i]!;
          graph.push(
            `[c${i}]trim=start=${(w.startSeconds - span.start).toFixed(3)}:duration=${w.seconds.toFixed(3)},` +
              `setpts=PTS-STARTPTS,scale=${size.width}:${size.height}:flags=bicubic,format=yuv420p[w${i}]`,
          );
        }
      });
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
  const measured = await Promise.all(
    windows.map(async (w, i) => {
      const bytes = (await fs.stat(path.join(workDir, file(i))).catch(() => undefined))?.size ?? 0;
      const bitsPerPixel = (bytes * 8) / (size.width * size.height * fps * w.seconds);
      return { ...w, bytes, bitsPerPixel: round(bitsPerPixel, 5) };
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
