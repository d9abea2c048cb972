import { execFile } from 'node:child_process';
import { MediaError, type AudioStreamInfo, type AvInfo, type VideoStreamInfo } from './types';

/** What ffprobe's JSON writer gives for the fields read here (numbers often as strings, or 'N/A'). */
interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: unknown;
  height?: unknown;
  duration?: unknown;
  bit_rate?: unknown;
  avg_frame_rate?: unknown;
  r_frame_rate?: unknown;
  channels?: unknown;
  sample_rate?: unknown;
  tags?: Record<string, unknown>;
  disposition?: Record<string, unknown>;
  side_data_list?: { side_data_type?: string; rotation?: unknown }[];
}
interface ProbeData {
  streams: ProbeStream[];
  format: { duration?: unknown; bit_rate?: unknown; format_name?: unknown };
}

/**
 * How long ffprobe may take. It reads headers and a few packets, so well-formed files take milliseconds; a file
 * built to make it read or wait forever (or a path that blocks) ends as a media error instead of holding the
 * activity until its timeout, attempt after attempt.
 */
export const FFPROBE_TIME_LIMIT_MS = 60_000;

/** ffprobe's streams and format as JSON; a file ffprobe cannot read, or does not finish in time, is a MediaError. */
export async function ffprobe(src: string, timeLimitMs = FFPROBE_TIME_LIMIT_MS): Promise<ProbeData> {
  const data = await ffprobeJson<Partial<ProbeData>>(src, ['-show_format', '-show_streams'], timeLimitMs);
  return { streams: data.streams ?? [], format: data.format ?? {} };
}

/**
 * One ffprobe run with JSON output (`entries`: what to show, and any reading options), killed after `timeLimitMs`.
 * Its failures are MediaErrors naming ffprobe's complaint or the limit.
 */
export function ffprobeJson<T>(src: string, entries: readonly string[], timeLimitMs: number): Promise<T> {
  const args = ['-hide_banner', '-v', 'error', '-print_format', 'json', ...entries, src];
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      args,
      { timeout: timeLimitMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && err.killed) {
          reject(new MediaError(`ffprobe did not finish within ${timeLimitMs / 1000} s`, { src }));
          return;
        }
        if (err) {
          // Without the banner, the error's last lines are ffprobe's complaint rather than its library versions.
          const said = lastLines(String(stderr)) || err.message;
          reject(new MediaError(`ffprobe cannot read the file: ${said}`, { src }));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as T);
        } catch {
          reject(new MediaError('ffprobe cannot read the file: no readable report', { src }));
        }
      },
    );
  });
}

/** Container, duration and the first real video and audio streams of an audio or video file. */
export async function probeAv(src: string): Promise<AvInfo> {
  const data = await ffprobe(src);
  const videoStream = data.streams.find((s) => s.codec_type === 'video' && !isAttachedPicture(s));
  const audioStream = data.streams.find((s) => s.codec_type === 'audio');
  if (!videoStream && !audioStream) {
    throw new MediaError('no audio or video stream found', { src, streams: data.streams.length });
  }

  const durationSeconds =
    num(data.format.duration) ??
    Math.max(0, ...data.streams.map((s) => num(s.duration) ?? 0).filter((d) => Number.isFinite(d)));
  if (!durationSeconds || durationSeconds <= 0) {
    throw new MediaError('media duration is missing or zero (truncated or not a media file?)', { src });
  }

  const info: AvInfo = {
    kind: videoStream ? 'video' : 'audio',
    container: String(data.format.format_name ?? 'unknown'),
    durationSeconds,
  };
  const bitRate = num(data.format.bit_rate);
  if (bitRate) info.bitRate = bitRate;
  if (videoStream) info.video = videoInfo(videoStream);
  if (audioStream) info.audio = audioInfo(audioStream);
  return info;
}

function videoInfo(s: ProbeStream): VideoStreamInfo {
  const width = num(s.width) ?? 0;
  const height = num(s.height) ?? 0;
  if (width <= 0 || height <= 0)
    throw new MediaError('video stream has no dimensions', { codec: s.codec_name });
  const rotation = streamRotation(s);
  const swap = rotation === 90 || rotation === 270;
  const info: VideoStreamInfo = {
    codec: String(s.codec_name ?? 'unknown'),
    width,
    height,
    rotation,
    displayWidth: swap ? height : width,
    displayHeight: swap ? width : height,
    frameRate: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) ?? 0,
  };
  const bitRate = num(s.bit_rate);
  if (bitRate) info.bitRate = bitRate;
  return info;
}

function audioInfo(s: ProbeStream): AudioStreamInfo {
  const info: AudioStreamInfo = {
    codec: String(s.codec_name ?? 'unknown'),
    channels: num(s.channels) ?? 0,
    sampleRate: num(s.sample_rate) ?? 0,
  };
  const bitRate = num(s.bit_rate);
  if (bitRate) info.bitRate = bitRate;
  return info;
}

/**
 * Rotation in degrees (0, 90, 180, 270) in the display-matrix sense: the angle ffprobe reports, i.e. the
 * counter-clockwise turn ffmpeg's auto-rotation applies: the display matrix side data's `rotation`. The legacy
 * `rotate` tag of older
 * demuxers counts clockwise, so it is negated to land in the same convention.
 */
function streamRotation(s: ProbeStream): number {
  const sideData = num(s.side_data_list?.find((d) => d.rotation !== undefined)?.rotation);
  if (sideData !== undefined) return normaliseRotation(sideData);
  const tag = num(s.tags?.rotate);
  if (tag !== undefined) return normaliseRotation(-tag);
  return 0;
}

export function normaliseRotation(degrees: number): number {
  const quarter = Math.round(degrees / 90);
  return (((quarter % 4) + 4) % 4) * 90;
}

function isAttachedPicture(s: ProbeStream): boolean {
  return num(s.disposition?.attached_pic) === 1;
}

/** '30000/1001' → 29.97; '0/0' → undefined */
function rate(value: unknown): number | undefined {
  if (typeof value !== 'string') return num(value);
  const [n, d] = value.split('/').map(Number);
  if (n === undefined || !Number.isFinite(n) || n <= 0) return undefined;
  if (d === undefined) return n;
  return Number.isFinite(d) && d > 0 ? n / d : undefined;
}

/** ffprobe writes numbers, numeric strings or 'N/A'. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function lastLines(text: string, count = 8): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(-count)
    .join('\n');
}
