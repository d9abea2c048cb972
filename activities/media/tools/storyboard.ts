/**
 * The storyboard players show over the seek bar (hls.js / video.js thumbnail plugins, PeerTube v6, Mux): sprite
 * sheets of small frames and a WebVTT whose cues point at one tile each, `storyboard-<n>.jpg#xywh=x,y,w,h`,
 * relative to the VTT's own URL (both are renditions, delivered side by side under `r/`).
 */
import { roundEven } from './numbers';

/** Tile width in pixels (never above the video's own width). */
export const TILE_WIDTH = 160;
/** Tiles per sheet row and rows per sheet: at most 100 tiles in one sprite. */
export const SHEET_COLUMNS = 10;
export const SHEET_ROWS = 10;
/** At most this many tiles for the whole video: a long video gets a coarser interval, not more sheets. */
export const MAX_TILES = 200;
/** Never more than one tile a second. */
export const MIN_INTERVAL_SECONDS = 1;

export const STORYBOARD_VTT = 'storyboard.vtt';
export const sheetName = (n: number) => `storyboard-${n}.jpg`;

export interface StoryboardPlan {
  /** Seconds between tiles: max(1, duration / 200). */
  intervalSeconds: number;
  /** Tiles, one per interval from 0: ceil(duration / interval). */
  tiles: number;
  tileWidth: number;
  tileHeight: number;
  /** The grid of every sheet (ffmpeg's tile filter pads the last one). */
  columns: number;
  rows: number;
  sheets: number;
}

/** The tile grid for a video of this duration and displayed size. */
export function planStoryboard(
  durationSeconds: number,
  displayWidth: number,
  displayHeight: number,
): StoryboardPlan {
  const duration = Math.max(durationSeconds, 0.001);
  const intervalSeconds = Math.max(MIN_INTERVAL_SECONDS, duration / MAX_TILES);
  const tiles = Math.max(1, Math.ceil(duration / intervalSeconds - 1e-6));
  const tileWidth = roundEven(Math.min(TILE_WIDTH, displayWidth));
  const tileHeight = roundEven((tileWidth * displayHeight) / Math.max(1, displayWidth));
  const columns = Math.min(SHEET_COLUMNS, tiles);
  const rows = Math.min(SHEET_ROWS, Math.ceil(tiles / columns));
  const sheets = Math.ceil(tiles / (columns * rows));
  return { intervalSeconds, tiles, tileWidth, tileHeight, columns, rows, sheets };
}

/** The ffmpeg filter chain from decoded frames to sheets: pick, shrink, tile. */
export function storyboardFilter(plan: StoryboardPlan): string {
  return (
    `fps=1/${plan.intervalSeconds.toFixed(6)}:round=down,` +
    `scale=${plan.tileWidth}:${plan.tileHeight}:flags=bilinear,setsar=1,` +
    `tile=${plan.columns}x${plan.rows}`
  );
}

/** Tile k's sheet and rectangle within it. */
export function tileAt(plan: StoryboardPlan, k: number) {
  const perSheet = plan.columns * plan.rows;
  const sheet = Math.floor(k / perSheet);
  const slot = k % perSheet;
  return {
    sheet,
    x: (slot % plan.columns) * plan.tileWidth,
    y: Math.floor(slot / plan.columns) * plan.tileHeight,
    w: plan.tileWidth,
    h: plan.tileHeight,
  };
}

/** The WebVTT: one cue per tile, back to back from 0 to the end of the video. */
export function storyboardVtt(plan: StoryboardPlan, durationSeconds: number): string {
  const lines = ['WEBVTT', ''];
  for (let k = 0; k < plan.tiles; k++) {
    const start = k * plan.intervalSeconds;
    const end = k === plan.tiles - 1 ? durationSeconds : (k + 1) * plan.intervalSeconds;
    const t = tileAt(plan, k);
    lines.push(
      `${vttTime(start)} --> ${vttTime(Math.max(end, start + 0.001))}`,
      `${sheetName(t.sheet)}#xywh=${t.x},${t.y},${t.w},${t.h}`,
      '',
    );
  }
  return lines.join('\n');
}

/** 75.5 → '00:01:15.500' */
export function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}
