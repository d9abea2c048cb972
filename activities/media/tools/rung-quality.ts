import { round } from './numbers';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Window } from './complexity-probe';
import { runFfmpeg } from './ffmpeg-run';
import { parseMediaPlaylist } from './hls-playlist';
import type { Rung } from './ladder';
import { MediaError, type WorkControl } from './types';

/** Lowest SSIM a rung may have (validation fails it below; transcodeVideo encodes it again with more bits). */
export const SSIM_THRESHOLD = 0.9;

export interface RungQuality {
  /** mean SSIM ('All') over the windows, weighted by their length */
  ssim: number;
  /** mean PSNR ('average') in dB; identical pictures count as 100 */
  psnr: number;
}

/**
 * SSIM and PSNR of HLS rungs against the source on sampled windows, the source scaled down to each rung's size
 * (what the rung's encode lost, not what its size lost). One ffmpeg run per window decodes the source once and
 * every rung's segment starting there (fMP4 init + that segment, read as one file: seeking inside an fMP4
 * playlist does not work in ffmpeg 5.1).
 */
export async function measureRungQuality(
  src: string,
  hlsDir: string,
  rungs: readonly Pick<Rung, 'name' | 'width' | 'height'>[],
  windows: readonly Window[],
  control?: WorkControl,
): Promise<Map<string, RungQuality>> {
  const grids = await Promise.all(rungs.map((r) => segmentGrid(hlsDir, r.name)));
  const sums = rungs.map(() => ({ ssim: 0, psnr: 0, seconds: 0 }));
  for (const window of windows) {
    const ssim: (number | undefined)[] = [];
    const psnr: (number | undefined)[] = [];
    const files = grids.map((grid) => grid.at(window.startSeconds));
    await runFfmpeg({
      src: path.resolve(src),
      cwd: hlsDir,
      inputOptions: ['-ss', window.startSeconds.toFixed(3), '-t', window.seconds.toFixed(3)],
      durationSeconds: 0,
      what: 'rung quality measurement',
      logLevel: 'info',
      control: control && { signal: control.signal, stallMs: control.stallMs },
      onStderrLine: (line) => {
        const s = /\[ssim@q(\d+) @[^\]]*\] SSIM .*All:\s*([0-9.]+)/.exec(line);
        if (s) ssim[Number(s[1])] = Number(s[2]);
        const p = /\[psnr@q(\d+) @[^\]]*\] PSNR .*average:\s*([0-9.]+|inf)/.exec(line);
        if (p) psnr[Number(p[1])] = p[2] === 'inf' ? 100 : Number(p[2]);
      },
      build: (command) => {
        for (const file of files)
          command.input(`concat:${file}`).inputOptions('-t', window.seconds.toFixed(3));
        const graph = [
          `[0:v:0]setpts=PTS-STARTPTS,split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join('')}`,
        ];
        rungs.forEach((r, i) => {
          graph.push(
            `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1,format=yuv420p,split[f${i}a][f${i}b]`,
            `[${i + 1}:v:0]setpts=PTS-STARTPTS,format=yuv420p,split[r${i}a][r${i}b]`,
            `[r${i}a][f${i}a]ssim@q${i}[o${i}]`,
            `[r${i}b][f${i}b]psnr@q${i}[p${i}]`,
          );
        });
        command.complexFilter(graph.join(';'));
        const maps = rungs.flatMap((_, i) => ['-map', `[o${i}]`, '-map', `[p${i}]`]);
        command.output('-').outputOptions(...maps, '-f', 'null');
      },
    });
    rungs.forEach((r, i) => {
      const s = ssim[i];
      const p = psnr[i];
      if (s === undefined || p === undefined || !Number.isFinite(s))
        throw new MediaError(`ffmpeg reported no SSIM/PSNR for hls/${r.name} at ${window.startSeconds} s`);
      sums[i]!.ssim += s * window.seconds;
      sums[i]!.psnr += p * window.seconds;
      sums[i]!.seconds += window.seconds;
    });
  }
  return new Map(
    rungs.map((r, i) => {
      const sum = sums[i]!;
      return [r.name, { ssim: round(sum.ssim / sum.seconds, 5), psnr: round(sum.psnr / sum.seconds, 3) }];
    }),
  );
}

/** The segments of one rung's media playlist with their start times; at(t) is 'init|segment' of the one at t. */
async function segmentGrid(hlsDir: string, name: string): Promise<{ at(seconds: number): string }> {
  const text = await fs.readFile(path.join(hlsDir, name, 'index.m3u8'), 'utf8').catch(() => undefined);
  if (text === undefined) throw new MediaError(`hls/${name}/index.m3u8 is missing`);
  const playlist = parseMediaPlaylist(text);
  if (!playlist.map || playlist.segments.length === 0)
    throw new MediaError(`hls/${name}/index.m3u8 has no init segment or no segments`);
  let t = 0;
  const starts = playlist.segments.map((s) => {
    const start = t;
    t += s.durationSeconds;
    return start;
  });
  const init = `${name}/${playlist.map}`;
  return {
    at(seconds) {
      let best = 0;
      starts.forEach((start, i) => {
        if (Math.abs(start - seconds) < Math.abs(starts[best]! - seconds)) best = i;
      });
      return `${init}|${name}/${playlist.segments[best]!.uri}`;
    },
  };
}

/** bits per second of a rung: all its segments' bytes over the playlist's duration. */
export async function rungKbps(hlsDir: string, name: string): Promise<number> {
  const dir = path.join(hlsDir, name);
  const playlist = parseMediaPlaylist(await fs.readFile(path.join(dir, 'index.m3u8'), 'utf8'));
  let bytes = 0;
  let seconds = 0;
  for (const s of playlist.segments) {
    bytes += (await fs.stat(path.join(dir, s.uri))).size;
    seconds += s.durationSeconds;
  }
  return seconds > 0 ? Math.round((bytes * 8) / seconds / 1000) : 0;
}
