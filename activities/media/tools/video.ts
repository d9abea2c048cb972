import fs from 'node:fs/promises';
import path from 'node:path';
import type ffmpeg from 'fluent-ffmpeg';
import sharp from 'sharp';
import { ENCODER_THREADS, runFfmpeg } from './ffmpeg-run';
import { ensureMasterAttributes } from './hls-playlist';
import { planLadder, progressiveRung, type Rung } from './ladder';
import { num, probeAv } from './probe';
import { MediaError, type AvInfo, type RenditionFile, type WorkControl } from './types';

/** Seconds per HLS segment; keyframes are forced on this grid so every rung cuts at the same instants. */
export const SEGMENT_SECONDS = 4;
const X264_PRESET = 'veryfast';
const AUDIO_OPTIONS = ['-c:a', 'aac', '-ac', '2', '-ar', '48000'];
/** Frames the poster is chosen from (ffmpeg's thumbnail filter picks the most representative one). */
const POSTER_CANDIDATE_FRAMES = 100;
/** Share of the progress bar the ladder encode takes; the poster takes the rest. */
const ENCODE_SHARE = 95;

export const HLS_MASTER = 'hls/master.m3u8';
export const POSTER = 'poster.jpg';
export const progressivePath = (rung: Rung) => `mp4/${rung.name}.mp4`;

/**
 * HLS ladder (fMP4 segments, master playlist by ffmpeg), a progressive MP4 (highest rung up to 720p) and a poster.
 * The ladder and the MP4 come from one ffmpeg run that decodes the source once.
 */
export async function transcodeVideo(
  src: string,
  outDir: string,
  info: AvInfo,
  control?: WorkControl,
): Promise<RenditionFile[]> {
  const video = info.video;
  if (!video) throw new MediaError('no video stream to transcode', { container: info.container });
  const ladder = planLadder(video);
  const top = ladder[ladder.length - 1]!;
  const progressive = progressiveRung(ladder);
  const hasAudio = info.audio !== undefined;
  const source = path.resolve(src);

  await fs.mkdir(path.join(outDir, 'hls'), { recursive: true });
  await fs.mkdir(path.join(outDir, 'mp4'), { recursive: true });

  await runFfmpeg({
    src: source,
    cwd: outDir,
    durationSeconds: info.durationSeconds,
    what: 'video transcode',
    control,
    progressRange: [0, ENCODE_SHARE],
    build: (command) => buildLadderCommand(command, ladder, progressive, video.frameRate, hasAudio),
  });

  const masterPath = path.join(outDir, HLS_MASTER);
  await assertWritten(masterPath, 'HLS master playlist');
  await ensureMasterAttributes(masterPath, ladder, hasAudio);

  await runFfmpeg({
    src: source,
    cwd: outDir,
    inputOptions: ['-ss', posterSeekSeconds(info.durationSeconds).toFixed(3)],
    durationSeconds: 0,
    what: 'poster extraction',
    control: control && { signal: control.signal, stallMs: control.stallMs },
    build: (command) => {
      command
        .output(POSTER)
        .outputOptions(
          '-map',
          '0:v:0',
          '-vf',
          `scale=${progressive.width}:${progressive.height},setsar=1,thumbnail=${POSTER_CANDIDATE_FRAMES}`,
          '-frames:v',
          '1',
          '-q:v',
          '3',
          '-update',
          '1',
        );
    },
  });
  await assertWritten(path.join(outDir, POSTER), 'poster');
  control?.onProgress?.(100);

  const mp4Rel = progressivePath(progressive);
  const mp4 = await probeAv(path.join(outDir, mp4Rel));
  const poster = await sharp(path.join(outDir, POSTER)).metadata();

  return [
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
}

/**
 * -filter_complex: split the decoded (auto-rotated) picture once per rung, scale each branch to its rung, and
 * split the progressive rung's branch again for the MP4. Outputs: HLS with one variant per rung, then the MP4.
 */
function buildLadderCommand(
  command: ffmpeg.FfmpegCommand,
  ladder: readonly Rung[],
  progressive: Rung,
  frameRate: number,
  hasAudio: boolean,
): void {
  const n = ladder.length;
  const graph = [`[0:v:0]split=${n}${ladder.map((_, i) => `[s${i}]`).join('')}`];
  ladder.forEach((rung, i) => {
    const scaled = `[s${i}]scale=${rung.width}:${rung.height}:flags=bicubic,setsar=1,format=yuv420p`;
    graph.push(rung === progressive ? `${scaled},split=2[v${i}][mp4v]` : `${scaled}[v${i}]`);
  });
  command.complexFilter(graph.join(';'));

  const gop = String(Math.max(1, Math.round((frameRate > 0 ? frameRate : 30) * 2)));
  const x264 = [
    '-c:v',
    'libx264',
    '-preset',
    X264_PRESET,
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-sc_threshold',
    '0',
    '-threads',
    ENCODER_THREADS,
  ];

  const hls: string[] = [];
  ladder.forEach((_, i) => hls.push('-map', `[v${i}]`));
  if (hasAudio) ladder.forEach(() => hls.push('-map', '0:a:0'));
  hls.push(...x264, '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`);
  ladder.forEach((rung, i) =>
    hls.push(
      `-b:v:${i}`,
      `${rung.videoBitrateKbps}k`,
      `-maxrate:v:${i}`,
      `${rung.maxrateKbps}k`,
      `-bufsize:v:${i}`,
      `${rung.bufsizeKbps}k`,
    ),
  );
  if (hasAudio) {
    hls.push(...AUDIO_OPTIONS);
    ladder.forEach((rung, i) => hls.push(`-b:a:${i}`, `${rung.audioBitrateKbps}k`));
  }
  const streamMap = ladder
    .map((rung, i) => (hasAudio ? `v:${i},a:${i},name:${rung.name}` : `v:${i},name:${rung.name}`))
    .join(' ');
  hls.push(
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_SECONDS),
    '-hls_playlist_type',
    'vod',
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_filename',
    'hls/%v/seg-%03d.m4s',
    '-master_pl_name',
    'master.m3u8',
    '-var_stream_map',
    streamMap,
  );
  // Several arguments at once: fluent-ffmpeg then takes them verbatim (a lone 'a b' string would be split).
  command.output('hls/%v/index.m3u8').outputOptions(...hls);

  const mp4 = ['-map', '[mp4v]', ...(hasAudio ? ['-map', '0:a:0'] : []), ...x264];
  mp4.push(
    '-b:v',
    `${progressive.videoBitrateKbps}k`,
    '-maxrate:v',
    `${progressive.maxrateKbps}k`,
    '-bufsize:v',
    `${progressive.bufsizeKbps}k`,
  );
  if (hasAudio) mp4.push(...AUDIO_OPTIONS, '-b:a', '128k');
  mp4.push('-movflags', '+faststart');
  command.output(progressivePath(progressive)).outputOptions(...mp4);
}

/** Skip a possible fade-in: start the poster search a little into the video. */
function posterSeekSeconds(duration: number): number {
  return Math.min(duration * 0.1, 3);
}

async function assertWritten(file: string, what: string): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat || stat.size === 0) throw new MediaError(`ffmpeg finished but wrote no ${what}`, { file });
}
