import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg } from './helpers/ffmpeg';
import { parseThumbnailVtt } from './helpers/vtt';
import { colourClip, nearest } from './helpers/colour-clip';
import { probeAv } from '../activities/media/tools/probe';
import { renderVideoPreviews } from '../activities/media/tools/video-previews';
import { planStoryboard, MAX_TILES } from '../activities/media/tools/storyboard';
import { frameAt } from '../activities/media/tools/frame-at';
import { avifWhereSmaller } from '../activities/media/tools/image-avif';
import { checkPreviews } from '../activities/media/tools/preview-checks';
import type { AvInfo } from '../activities/media/tools/types';

async function pixel(file: string | Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

let dir: string;
let colour: string;
let colourInfo: AvInfo;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-previews-'));
  colour = path.join(dir, 'colours.mp4');
  await colourClip(colour);
  colourInfo = await probeAv(colour);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function render(src: string, info: AvInfo) {
  const out = await fs.mkdtemp(path.join(dir, 'out-'));
  const files = await renderVideoPreviews(src, out, info);
  return { out, files };
}

describe('storyboard', () => {
  it('cues cover the duration in order, each inside its sprite, showing the frame of its time', async () => {
    const { out, files } = await render(colour, colourInfo);
    const vtt = files.find((f) => f.name === 'storyboard')!;
    expect(vtt.mimeType).toBe('text/vtt');
    const cues = parseThumbnailVtt(await fs.readFile(path.join(out, vtt.relativePath), 'utf8'));
    expect(cues.length).toBe(6);
    expect(cues[0]!.start).toBe(0);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBeCloseTo(cues[i - 1]!.end, 3);
    expect(cues.at(-1)!.end).toBeCloseTo(colourInfo.durationSeconds, 2);
    for (const cue of cues) {
      const sheet = files.find((f) => f.name === cue.url)!;
      expect(sheet.mimeType).toBe('image/jpeg');
      const meta = await sharp(path.join(out, sheet.relativePath)).metadata();
      expect(cue.x + cue.w).toBeLessThanOrEqual(meta.width);
      expect(cue.y + cue.h).toBeLessThanOrEqual(meta.height);
      // The tile's centre has the colour of the cue's start second.
      const rgb = await pixel(path.join(out, sheet.relativePath), cue.x + cue.w / 2, cue.y + cue.h / 2);
      expect(nearest(rgb)).toBe(Math.floor((cue.start + 0.01) / 2));
    }
  });

  it('a long video gets several sheets and a bounded number of tiles', async () => {
    const long = path.join(dir, 'long.mp4');
    await ffmpeg(
      ...['-f', 'lavfi', '-i', 'testsrc2=size=192x108:rate=5:duration=130'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', long],
    );
    const info = await probeAv(long);
    const { out, files } = await render(long, info);
    const cues = parseThumbnailVtt(await fs.readFile(path.join(out, 'storyboard.vtt'), 'utf8'));
    expect(cues.length).toBe(130);
    expect(new Set(cues.map((c) => c.url))).toEqual(new Set(['storyboard-0.jpg', 'storyboard-1.jpg']));
    expect(files.filter((f) => f.name.startsWith('storyboard-')).length).toBe(2);
    for (const cue of cues) {
      const meta = await sharp(path.join(out, cue.url)).metadata();
      expect(cue.x + cue.w).toBeLessThanOrEqual(meta.width);
      expect(cue.y + cue.h).toBeLessThanOrEqual(meta.height);
    }
    // An hour: the interval grows instead of the tile count.
    const hour = planStoryboard(3600, 1920, 1080);
    expect(hour.tiles).toBeLessThanOrEqual(MAX_TILES);
    expect(hour.intervalSeconds).toBe(18);
  });
});

describe('animated preview', () => {
  it('is an animated WebP of several frames, at most 320 px wide, from several spots', async () => {
    const big = path.join(dir, 'big.mp4');
    await ffmpeg(
      ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25:duration=12'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', big],
    );
    const { out, files } = await render(big, await probeAv(big));
    const preview = files.find((f) => f.name === 'preview')!;
    expect(preview.mimeType).toBe('image/webp');
    const meta = await sharp(path.join(out, preview.relativePath), { pages: -1 }).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.pages).toBeGreaterThan(1);
    expect(meta.pages).toBeLessThanOrEqual(40);
    expect(meta.width).toBe(320);
    expect(meta.pageHeight).toBe(180);
  });
});

describe('frame at a time', () => {
  it('shows the frame of the requested time, scaled, never upscaled; the very end gives the last frame', async () => {
    for (const [t, expected] of [
      [0.5, 0],
      [2.5, 1],
      [5.0, 2],
      [colourInfo.durationSeconds, 2],
    ] as const) {
      const file = `t${t}.jpg`;
      const size = await frameAt({
        input: colour,
        dir,
        file,
        timeSeconds: t,
        width: 160,
        displayWidth: 320,
        displayHeight: 180,
      });
      expect(size).toEqual({ width: 160, height: 90 });
      expect(nearest(await pixel(path.join(dir, file), 80, 45))).toBe(expected);
    }
    const wide = await frameAt({
      input: colour,
      dir,
      file: 'wide.jpg',
      timeSeconds: 1,
      width: 4000,
      displayWidth: 320,
      displayHeight: 180,
    });
    expect(wide.width).toBe(320);
  });
});

describe('AVIF beside WebP', () => {
  it('is written where smaller than the WebP of the same size, and left out where not', async () => {
    const photo = await sharp({
      create: {
        width: 600,
        height: 400,
        channels: 3,
        background: '#808080',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .blur(2)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const decoded = () => sharp(photo.data, { raw: photo.info });
    const webp = await decoded().resize(256, 256, { fit: 'inside' }).webp({ quality: 80 }).toBuffer();
    const out = await fs.mkdtemp(path.join(dir, 'avif-'));
    const kept = await avifWhereSmaller(
      decoded,
      [
        { name: 'thumb-256', longestSide: 256, bytes: webp.length },
        // A WebP of 10 bytes cannot be beaten: no AVIF for it.
        { name: 'thumb-1024', longestSide: 1024, bytes: 10 },
      ],
      out,
    );
    expect(kept.map((k) => k.name)).toEqual(['thumb-256-avif']);
    const avif = await fs.readFile(path.join(out, 'thumb-256.avif'));
    expect(avif.length).toBeLessThan(webp.length);
    const meta = await sharp(avif).metadata();
    expect(meta.format).toBe('heif');
    expect(meta.compression).toBe('av1');
    expect([meta.width, meta.height]).toEqual([256, 171]);
    expect(await fs.readdir(out)).toEqual(['thumb-256.avif']);
  });
});

describe('validation of the previews', () => {
  it('passes what was rendered and names what a broken storyboard or a still preview gets wrong', async () => {
    const { out, files } = await render(colour, colourInfo);
    const ok = await checkPreviews(out, colourInfo, files);
    expect(ok).toMatchObject({ ok: true, measurements: { 'storyboard.cues': 6, 'storyboard.sheets': 1 } });

    const vttPath = path.join(out, 'storyboard.vtt');
    const good = await fs.readFile(vttPath, 'utf8');
    // A rectangle beyond the sheet's real pixels.
    await fs.writeFile(vttPath, good.replace('#xywh=0,0,', '#xywh=5000,0,'));
    expect((await checkPreviews(out, colourInfo, files)).reason).toMatch(/points outside storyboard-0\.jpg/);
    // A hole in the timeline.
    await fs.writeFile(
      vttPath,
      good.replace('00:00:01.000 --> 00:00:02.000', '00:00:01.500 --> 00:00:02.000'),
    );
    expect((await checkPreviews(out, colourInfo, files)).reason).toMatch(/does not follow/);
    // Cues that stop before the end.
    await fs.writeFile(vttPath, good.split('\n').slice(0, 9).join('\n'));
    expect((await checkPreviews(out, colourInfo, files)).reason).toMatch(/cues end at 2 s/);
    await fs.writeFile(vttPath, good);

    await sharp({ create: { width: 64, height: 36, channels: 3, background: '#000' } })
      .webp()
      .toFile(path.join(out, 'preview.webp'));
    expect((await checkPreviews(out, colourInfo, files)).reason).toMatch(/not an animated WebP/);
  });
});
