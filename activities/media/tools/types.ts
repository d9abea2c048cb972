/**
 * What the media tools (sharp, ffmpeg, ffprobe, poppler) produce. The processors work on local files only; the
 * activities move bytes between object storage and a local working directory around them.
 */

/** Corrupt, truncated or unsupported media: retrying cannot help, so the asset fails with this reason. */
export class MediaError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

/** Media that is readable but refused by policy (a decompression bomb): the asset is rejected, not failed. */
export class MediaRejected extends MediaError {
  override name = 'MediaRejected';
}

/**
 * Work killed for showing no progress (a hung decoder or ffmpeg): like a worker lost under the attempt, it may be
 * the machine, so the workflow counts it and gives up on the input only when it happens again and again.
 */
export class MediaStalled extends Error {
  override name = 'MediaStalled';
}

export interface RenditionFile {
  /** Stable name clients ask for: 'thumb-256', 'thumb-1024', 'preview-2048', 'placeholder', 'poster', 'hls', 'mp4', 'audio', 'waveform', 'page-1'. */
  name: string;
  /** Path below the output directory; for 'hls' the master playlist (its variants and segments sit beside it). */
  relativePath: string;
  mimeType: string;
  width?: number;
  height?: number;
  /** bits per second */
  bitRate?: number;
  durationSeconds?: number;
}

export interface ImageInfo {
  kind: 'image';
  format: string;
  width: number;
  height: number;
  /** EXIF orientation 1-8 when present. */
  orientation?: number;
  colorSpace?: string;
  hasAlpha: boolean;
  frames: number;
  cameraMake?: string;
  cameraModel?: string;
  /** ISO 8601 */
  capturedAt?: string;
  gpsLatitude?: number;
  gpsLongitude?: number;
  gpsAltitude?: number;
}

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  /** degrees, from the display matrix or rotate tag; 0, 90, 180 or 270 */
  rotation: number;
  /** width and height as displayed, i.e. after rotation */
  displayWidth: number;
  displayHeight: number;
  frameRate: number;
  bitRate?: number;
}

export interface AudioStreamInfo {
  codec: string;
  channels: number;
  sampleRate: number;
  bitRate?: number;
}

export interface AvInfo {
  kind: 'video' | 'audio';
  container: string;
  durationSeconds: number;
  bitRate?: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
}

export interface DocumentInfo {
  kind: 'document';
  pages: number;
  /** first page size in points */
  width?: number;
  height?: number;
}

export type MediaInfo = ImageInfo | AvInfo | DocumentInfo;

export interface ValidationReport {
  ok: boolean;
  /** Set when !ok: says what was out of bounds, with the numbers. */
  reason?: string;
  /** e.g. { 'hls/720p.durationSeconds': 8.02, 'ssim.top': 0.97 } */
  measurements: Record<string, number | string>;
}

/** Progress and cancellation for long work: abort kills the child process. */
export interface WorkControl {
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
  /** Child processes showing no progress for this long are killed with MediaStalled. */
  stallMs?: number;
}
