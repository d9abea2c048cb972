import type ffmpeg from 'fluent-ffmpeg';
import { ENCODER_THREADS } from './ffmpeg-run';
import { AUDIO_GROUP, AUDIO_RENDITION } from './hls-playlist';
import type { Rung } from './ladder';

/** Seconds per HLS segment; keyframes are forced on this grid so every rung cuts at the same instants. */
export const SEGMENT_SECONDS = 4;
const X264_PRESET = 'veryfast';
/** One AAC track for the whole ladder (an HLS audio group) and the MP4. */
export const AUDIO_KBPS = 128;
const AUDIO_OPTIONS = ['-c:a', 'aac', '-ac', '2', '-ar', '48000', '-b:a', `${AUDIO_KBPS}k`];

/** Seconds between key frames within a segment (segments start on one too). */
export const GOP_SECONDS = 2;

function x264(frameRate: number): string[] {
  const gop = String(Math.max(1, Math.round((frameRate > 0 ? frameRate : 30) * GOP_SECONDS)));
  return [
    ...['-c:v', 'libx264', '-preset', X264_PRESET, '-profile:v', 'high', '-pix_fmt', 'yuv420p'],
    ...['-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-threads', ENCODER_THREADS],
    ...['-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`],
  ];
}

/**
 * x264 measures SSIM and PSNR of every frame it encodes against the picture it was given (the source scaled to the
 * rung's size): the rung's quality over the whole video, without decoding anything again. (Through x264-params, not
 * `-flags +psnr`: that flag adds PSNR fields to ffmpeg's stats line, which then no longer parses as progress.)
 */
const X264_STATS = ['-x264-params', 'ssim=1:psnr=1'];

/** One encoder's end-of-encode summary: luma SSIM and PSNR (all planes) averaged over every frame. */
export interface EncoderStats {
  ssim: number;
  psnr: number;
  kbps: number;
}

/**
 * Collects x264's summaries from ffmpeg's stderr (log level info). ffmpeg closes its encoders in output stream order,
 * so the summaries come in the order of the ladder's video streams.
 */
export function x264StatsCollector(): { onLine(line: string): void; stats: EncoderStats[] } {
  const byEncoder = new Map<string, Partial<EncoderStats>>();
  return {
    onLine(line) {
      const ssim = /\[libx264 @ (0x[0-9a-f]+)\] SSIM Mean Y:([0-9.]+)/.exec(line);
      if (ssim) byEncoder.set(ssim[1]!, { ...byEncoder.get(ssim[1]!), ssim: Number(ssim[2]) });
      const psnr = /\[libx264 @ (0x[0-9a-f]+)\] PSNR Mean .*Avg:(\S+) Global:\S+ kb\/s:([0-9.]+)/.exec(line);
      if (psnr) {
        const value = psnr[2] === 'inf' ? 100 : Number(psnr[2]);
        byEncoder.set(psnr[1]!, { ...byEncoder.get(psnr[1]!), psnr: value, kbps: Number(psnr[3]) });
      }
    },
    get stats() {
      return [...byEncoder.values()].filter(
        (s): s is EncoderStats => s.ssim !== undefined && s.psnr !== undefined && Number.isFinite(s.psnr),
      );
    },
  };
}

/** Capped CRF when the rung has a CRF (per-title), else ABR at its rate; `i` is the output video stream. */
function rateControl(rung: Rung, i: number): string[] {
  const first =
    rung.crf !== undefined ? [`-crf:v:${i}`, String(rung.crf)] : [`-b:v:${i}`, `${rung.videoBitrateKbps}k`];
  return [...first, `-maxrate:v:${i}`, `${rung.maxrateKbps}k`, `-bufsize:v:${i}`, `${rung.bufsizeKbps}k`];
}

const hlsOptions = (streamMap: string) => [
  ...['-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod'],
  ...[
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_flags',
    'independent_segments',
  ],
  ...['-hls_segment_filename', 'hls/%v/seg-%03d.m4s', '-var_stream_map', streamMap],
];

/** A poster picked in the ladder's own run: the most representative of `frames` frames from `startSeconds`. */
export interface PosterSpec {
  file: string;
  width: number;
  height: number;
  startSeconds: number;
  frames: number;
}

/**
 * The whole ladder from one decode: -filter_complex splits the (auto-rotated) picture once per rung and scales
 * each branch; one HLS output holds a video-only variant per rung and, with sound, one AAC rendition in the audio
 * group. The progressive MP4 is remuxed from a rung afterwards, so nothing is encoded twice. With `poster`, a branch
 * of the same decode (the rung of its size, already scaled) picks the poster with ffmpeg's thumbnail filter over a
 * bounded run of frames, so the source is not decoded or scaled again for it. With `stats`, x264 reports each rung's SSIM/PSNR (see x264StatsCollector).
 */
export function buildLadderCommand(
  command: ffmpeg.FfmpegCommand,
  ladder: readonly Rung[],
  frameRate: number,
  hasAudio: boolean,
  { poster, stats = false }: { poster?: PosterSpec; stats?: boolean } = {},
): void {
  const n = ladder.length;
  // The poster is taken from the rung of its size as that rung's branch already scaled it (no second scale of its
  // frames), else from a branch of its own.
  const posterRung = poster
    ? ladder.findIndex((r) => r.width === poster.width && r.height === poster.height)
    : -1;
  const ownBranch = poster !== undefined && posterRung < 0;
  const branches = ladder.map((_, i) => `[s${i}]`).join('') + (ownBranch ? '[sp]' : '');
  const graph = [`[0:v:0]split=${n + (ownBranch ? 1 : 0)}${branches}`];
  ladder.forEach((rung, i) =>
    graph.push(`[s${i}]${scale(rung)}${i === posterRung ? `,split=2[v${i}][sp]` : `[v${i}]`}`),
  );
  if (poster) {
    // The branch ends after `frames` frames (trim), so it costs nothing for the rest of the video.
    graph.push(
      `[sp]trim=start=${poster.startSeconds.toFixed(3)},trim=end_frame=${poster.frames},` +
        `${ownBranch ? `scale=${poster.width}:${poster.height},setsar=1,` : ''}thumbnail=${poster.frames}[poster]`,
    );
  }
  command.complexFilter(graph.join(';'));

  const args: string[] = [];
  ladder.forEach((_, i) => args.push('-map', `[v${i}]`));
  if (hasAudio) args.push('-map', '0:a:0');
  args.push(...x264(frameRate), ...(stats ? X264_STATS : []));
  ladder.forEach((rung, i) => args.push(...rateControl(rung, i)));
  if (hasAudio) args.push(...AUDIO_OPTIONS);
  const group = hasAudio ? `,agroup:${AUDIO_GROUP}` : '';
  const streamMap = [
    ...ladder.map((rung, i) => `v:${i}${group},name:${rung.name}`),
    ...(hasAudio ? [`a:0${group},name:${AUDIO_RENDITION}`] : []),
  ].join(' ');
  args.push(...hlsOptions(streamMap));
  // Several arguments at once: fluent-ffmpeg then takes them verbatim (a lone 'a b' string would be split).
  command.output('hls/%v/index.m3u8').outputOptions(...args);
  if (poster)
    command
      .output(poster.file)
      .outputOptions('-map', '[poster]', '-frames:v', '1', '-q:v', '3', '-update', '1');
}

/** One rung again (a re-encode with more bits), on the same keyframe grid, into the same place. */
export function buildRungCommand(
  command: ffmpeg.FfmpegCommand,
  rung: Rung,
  frameRate: number,
  stats = false,
): void {
  command
    .output('hls/%v/index.m3u8')
    .outputOptions(
      ...['-map', '0:v:0', '-an', '-vf', scale(rung)],
      ...x264(frameRate),
      ...(stats ? X264_STATS : []),
      ...rateControl(rung, 0),
      ...hlsOptions(`v:0,name:${rung.name}`),
    );
}

const scale = (rung: Rung) => `scale=${rung.width}:${rung.height}:flags=bicubic,setsar=1,format=yuv420p`;
