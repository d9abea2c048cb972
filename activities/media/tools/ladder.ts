import { roundEven } from './numbers';
import type { VideoStreamInfo } from './types';

export type RungName = '360p' | '480p' | '720p' | '1080p' | '1440p' | '2160p';

/** One HLS variant: its picture size (as displayed) and rate control. */
export interface Rung {
  name: RungName;
  width: number;
  height: number;
  videoBitrateKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
  audioBitrateKbps: number;
  /** Capped CRF (per-title): constant quality, with maxrateKbps/bufsizeKbps as the cap. Absent: plain ABR. */
  crf?: number;
}

interface RungSpec {
  name: RungName;
  /** the short side of the picture */
  size: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
}

/** H.264 bitrates for 30 fps content, roughly Apple's HLS authoring ladder. */
const RUNGS: readonly RungSpec[] = [
  { name: '360p', size: 360, videoBitrateKbps: 800, audioBitrateKbps: 96 },
  { name: '480p', size: 480, videoBitrateKbps: 1400, audioBitrateKbps: 128 },
  { name: '720p', size: 720, videoBitrateKbps: 2800, audioBitrateKbps: 128 },
  { name: '1080p', size: 1080, videoBitrateKbps: 5000, audioBitrateKbps: 160 },
  { name: '1440p', size: 1440, videoBitrateKbps: 9000, audioBitrateKbps: 160 },
  { name: '2160p', size: 2160, videoBitrateKbps: 16000, audioBitrateKbps: 160 },
];

/** Highest rung the progressive MP4 is made at. */
export const PROGRESSIVE_MAX: RungName = '720p';

/**
 * The HLS ladder for a video: every standard rung whose short side fits inside the short side of the displayed
 * (rotated) picture, keeping its aspect ratio with even dimensions. A source smaller than 360p gets a single
 * '360p' rung at its own (even) size, so nothing is ever scaled up.
 */
export function planLadder(video: VideoStreamInfo): Rung[] {
  const w = video.displayWidth;
  const h = video.displayHeight;
  if (!(w > 0 && h > 0)) throw new RangeError(`video has no displayed size (${w}x${h})`);
  const portrait = h > w;
  const short = Math.min(w, h);
  const long = Math.max(w, h);

  const fitting = RUNGS.filter((r) => r.size <= short);
  if (fitting.length === 0) {
    const base = RUNGS[0]!;
    const width = floorEven(w);
    const height = floorEven(h);
    // Bits in proportion to the pixels, so a thumbnail-sized clip does not get a 360p budget.
    const area = (width * height) / (640 * 360);
    const videoBitrateKbps = Math.max(150, Math.round(base.videoBitrateKbps * area));
    return [rung({ ...base, videoBitrateKbps }, width, height)];
  }
  return fitting.map((r) => {
    const rungLong = Math.min(roundEven((r.size * long) / short), floorEven(long));
    return portrait ? rung(r, r.size, rungLong) : rung(r, rungLong, r.size);
  });
}

/** The rung the progressive MP4 (and the poster) use: the highest one up to 720p. */
export function progressiveRung(ladder: readonly Rung[]): Rung {
  const maxIndex = RUNGS.findIndex((r) => r.name === PROGRESSIVE_MAX);
  const candidates = ladder.filter((r) => RUNGS.findIndex((s) => s.name === r.name) <= maxIndex);
  const chosen = candidates[candidates.length - 1] ?? ladder[0];
  if (!chosen) throw new RangeError('empty ladder');
  return chosen;
}

function rung(spec: RungSpec, width: number, height: number): Rung {
  return {
    name: spec.name,
    width,
    height,
    videoBitrateKbps: spec.videoBitrateKbps,
    maxrateKbps: Math.round(spec.videoBitrateKbps * 1.07),
    bufsizeKbps: Math.round(spec.videoBitrateKbps * 1.5),
    audioBitrateKbps: spec.audioBitrateKbps,
  };
}

const floorEven = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
