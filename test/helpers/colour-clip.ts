import { ffmpeg } from './ffmpeg';

/** Red, then green, then blue, 2 s each: the colour tells the time. */
export const COLOURS: readonly (readonly number[])[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
];

export async function colourClip(file: string, size = '320x180', secondsEach = 2): Promise<void> {
  const inputs = ['red', 'lime', 'blue'].flatMap((c) => [
    '-f',
    'lavfi',
    '-i',
    `color=c=${c}:s=${size}:r=25:d=${secondsEach}`,
  ]);
  await ffmpeg(
    ...inputs,
    ...['-filter_complex', '[0:v][1:v][2:v]concat=n=3:v=1:a=0'],
    // B-frames (veryfast has them), as real uploads do: the previews skip them when decoding.
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-pix_fmt', 'yuv420p', '-g', '50', file],
  );
}

export function nearest(rgb: ArrayLike<number>): number {
  let best = 0;
  let bestDistance = Infinity;
  COLOURS.forEach((c, i) => {
    const d = c.reduce((sum: number, v, j) => sum + (v - rgb[j]!) ** 2, 0);
    if (d < bestDistance) [best, bestDistance] = [i, d];
  });
  return best;
}
