/**
 * The short animated preview (rendition `preview`, animated WebP): a few moments of the video stitched together,
 * small and slow enough to autoplay in a grid of cards.
 */
import { roundEven } from './numbers';

export const PREVIEW_FILE = 'preview.webp';
export const PREVIEW_MAX_WIDTH = 320;
export const PREVIEW_FPS = 10;
/** Three windows of this length: about 3.6 s in all. */
export const PREVIEW_WINDOW_SECONDS = 1.2;
/** Where the windows sit, as fractions of the duration (their centres). */
const SPOTS = [0.2, 0.5, 0.8];

export interface PreviewPlan {
  /** [start, end) seconds of the source, in order, not overlapping. */
  windows: [number, number][];
  width: number;
  height: number;
  fps: number;
}

export function planPreview(
  durationSeconds: number,
  displayWidth: number,
  displayHeight: number,
): PreviewPlan {
  const width = roundEven(Math.min(PREVIEW_MAX_WIDTH, displayWidth));
  const height = roundEven((width * displayHeight) / Math.max(1, displayWidth));
  const whole = PREVIEW_WINDOW_SECONDS * SPOTS.length;
  // A clip not much longer than the preview is the preview.
  if (durationSeconds <= whole + 1) {
    return { windows: [[0, Math.min(durationSeconds, whole)]], width, height, fps: PREVIEW_FPS };
  }
  const windows = SPOTS.map((spot): [number, number] => {
    const start = Math.min(
      Math.max(0, spot * durationSeconds - PREVIEW_WINDOW_SECONDS / 2),
      durationSeconds - PREVIEW_WINDOW_SECONDS,
    );
    return [round3(start), round3(start + PREVIEW_WINDOW_SECONDS)];
  });
  return { windows, width, height, fps: PREVIEW_FPS };
}

/** Frames at the preview's rate, only those inside a window, re-timed back to back. */
export function previewFilter(plan: PreviewPlan): string {
  const inside = plan.windows.map(([a, b]) => `between(t,${a},${b - 0.001})`).join('+');
  return (
    `fps=${plan.fps},select='${inside}',setpts=N/${plan.fps}/TB,` +
    `scale=${plan.width}:${plan.height}:flags=bicubic,setsar=1`
  );
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
