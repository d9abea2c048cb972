import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { thumbHashToRGBA } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeImage, renderImage } from '../activities/media/tools/image';
import { MediaError, type RenditionFile } from '../activities/media/tools/types';
import { animatedGif, cameraJpeg, halfTransparentPng, pngBomb } from './helpers/generate-media';

const execFileP = promisify(execFile);
const limits = { maxPixels: 100_000_000 };
const GREY = { r: 128, g: 128, b: 128 };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'assetline-image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- helpers ----

const sizes = (renditions: RenditionFile[]) =>
  renditions.map(({ name, mimeType, width, height }) => ({ name, mimeType, width, height }));

async function pixel(file: string, x: number, y: number) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

/** Every output decodes to the format and size its RenditionFile claims. */
async function expectDecodable(outDir: string, renditions: RenditionFile[]) {
  for (const r of renditions) {
    const meta = await sharp(path.join(outDir, r.relativePath)).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
      format: { 'image/webp': 'webp', 'image/avif': 'heif' }[r.mimeType] ?? 'jpeg',
      width: r.width,
      height: r.height,
    });
  }
}

const near = (actual: number[], expected: number[], tolerance = 12) =>
  expected.every((v, i) => Math.abs((actual[i] ?? -1000) - v) <= tolerance);

// ---- tests ----

describe('camera JPEG with EXIF orientation 6 and GPS', () => {
  let src: string;
  beforeAll(async () => {
    src = path.join(dir, 'camera.jpg');
    await cameraJpeg(src);
  });

  it('probes dimensions as stored, orientation, camera, capture time and location', async () => {
    const info = await probeImage(src, limits);
    expect(info).toMatchObject({
      kind: 'image',
      format: 'jpeg',
      width: 4000,
      height: 3000,
      orientation: 6,
      colorSpace: 'srgb',
      hasAlpha: false,
      frames: 1,
      cameraMake: 'Canon',
      cameraModel: 'EOS R5',
      capturedAt: '2023-07-14T08:20:30.000Z',
    });
    expect(Math.abs(info.gpsLatitude! - (52 + 31 / 60 + 12.34 / 3600))).toBeLessThan(1e-4);
    expect(Math.abs(info.gpsLongitude! + (13 + 24 / 60 + 56.78 / 3600))).toBeLessThan(1e-4);
    expect(Math.abs(info.gpsAltitude! - 34.5)).toBeLessThan(1e-4);
  });

  it('renders upright portrait renditions at exact sizes, without metadata, and a thumbhash', async () => {
    const outDir = path.join(dir, 'camera-out');
    const info = await probeImage(src, limits);
    const { renditions, placeholder } = await renderImage(src, outDir, info, limits);

    const avifs = renditions.filter((r) => r.mimeType === 'image/avif');
    expect(sizes(renditions.filter((r) => r.mimeType !== 'image/avif'))).toEqual([
      { name: 'thumb-256', mimeType: 'image/webp', width: 192, height: 256 },
      { name: 'thumb-1024', mimeType: 'image/webp', width: 768, height: 1024 },
      { name: 'preview-2048', mimeType: 'image/jpeg', width: 1536, height: 2048 },
    ]);
    // AVIF beside a WebP only where smaller, at the same (upright) size.
    for (const avif of avifs) {
      const webp = renditions.find((r) => `${r.name}-avif` === avif.name)!;
      expect([avif.width, avif.height]).toEqual([webp.width, webp.height]);
      const bytes = async (r: RenditionFile) => (await stat(path.join(outDir, r.relativePath))).size;
      expect(await bytes(avif)).toBeLessThan(await bytes(webp));
    }
    await expectDecodable(outDir, renditions);

    // Turned 90° clockwise: the stored top-left block is now top-right.
    const preview = path.join(outDir, 'preview-2048.jpg');
    expect(near(await pixel(preview, 1536 - 100, 100), [255, 0, 0])).toBe(true);
    expect(near(await pixel(preview, 100, 100), [128, 128, 128])).toBe(true);
    // Pixels already upright, and no EXIF (so no GPS) travels into what clients download.
    const previewMeta = await sharp(preview).metadata();
    expect(previewMeta.orientation).toBeUndefined();
    expect(previewMeta.exif).toBeUndefined();

    const decoded = thumbHashToRGBA(Buffer.from(placeholder, 'base64'));
    expect(decoded.w).toBeLessThanOrEqual(32);
    expect(decoded.h).toBeGreaterThan(decoded.w); // portrait
    expect(decoded.rgba.length).toBe(decoded.w * decoded.h * 4);
  });
});

describe('PNG with alpha', () => {
  it('is never upscaled; WebP keeps alpha, JPEG is flattened on white', async () => {
    const src = path.join(dir, 'alpha.png');
    const outDir = path.join(dir, 'alpha-out');
    await halfTransparentPng(src);
    const info = await probeImage(src, limits);
    expect(info).toMatchObject({ format: 'png', width: 300, height: 200, hasAlpha: true, frames: 1 });
    expect(info.orientation).toBeUndefined();
    expect(info.cameraMake).toBeUndefined();

    const { renditions } = await renderImage(src, outDir, info, limits);
    // Shrunk to fit 256; kept at the native 300×200 where the box is bigger.
    expect(sizes(renditions).map(({ width, height }) => [width, height])).toEqual([
      [256, 171],
      [300, 200],
      [300, 200],
    ]);
    await expectDecodable(outDir, renditions);
    expect((await sharp(path.join(outDir, 'thumb-256.webp')).metadata()).hasAlpha).toBe(true);
    const [, , , alpha] = await pixel(path.join(outDir, 'thumb-256.webp'), 250, 100);
    expect(alpha).toBe(0);
    const jpeg = path.join(outDir, 'preview-2048.jpg');
    expect((await sharp(jpeg).metadata()).hasAlpha).toBe(false);
    expect(near(await pixel(jpeg, 250, 100), [255, 255, 255])).toBe(true);
    expect(near(await pixel(jpeg, 50, 100), [0, 0, 255])).toBe(true);
  });
});

describe('animated GIF', () => {
  it('reports its frames and renders stills of the first one', async () => {
    const src = path.join(dir, 'animated.gif');
    const outDir = path.join(dir, 'animated-out');
    await animatedGif(src);
    const info = await probeImage(src, limits);
    expect(info).toMatchObject({ format: 'gif', width: 120, height: 80, frames: 3 });

    const { renditions } = await renderImage(src, outDir, info, limits);
    expect(renditions.map(({ width, height }) => [width, height])).toEqual([
      [120, 80],
      [120, 80],
      [120, 80],
    ]);
    await expectDecodable(outDir, renditions);
    for (const r of renditions) {
      const file = path.join(outDir, r.relativePath);
      expect((await sharp(file).metadata()).pages ?? 1).toBe(1);
      expect(near(await pixel(file, 60, 40), [255, 0, 0], 20)).toBe(true);
    }
  });
});

describe('HEVC HEIC, as phones write it', () => {
  it('is decoded through libheif (sharp has no HEVC decoder) and rendered like any other picture', async () => {
    // Left half red, right half blue, 1600×1200, through libheif's own encoder (x265).
    const jpg = path.join(dir, 'halves.jpg');
    const half = (colour: string) => ({
      create: { width: 800, height: 1200, channels: 3 as const, background: colour },
    });
    await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#ff0000' } })
      .composite([{ input: await sharp(half('#0000ff')).png().toBuffer(), left: 800, top: 0 }])
      .jpeg({ quality: 95 })
      .toFile(jpg);
    const heic = path.join(dir, 'halves.heic');
    await execFileP('heif-enc', ['-q', '80', '-o', heic, jpg]);
    // sharp alone reads its header but cannot decode it.
    expect((await sharp(heic).metadata()).compression).toBe('hevc');
    await expect(sharp(heic).raw().toBuffer()).rejects.toThrow(/HEVC/);

    const info = await probeImage(heic, limits);
    expect(info).toMatchObject({ format: 'heif', width: 1600, height: 1200 });
    const outDir = path.join(dir, 'out-heic');
    const { renditions, placeholder } = await renderImage(heic, outDir, info, limits);
    expect(sizes(renditions).filter((r) => r.mimeType !== 'image/avif')).toEqual([
      { name: 'thumb-256', mimeType: 'image/webp', width: 256, height: 192 },
      { name: 'thumb-1024', mimeType: 'image/webp', width: 1024, height: 768 },
      { name: 'preview-2048', mimeType: 'image/jpeg', width: 1600, height: 1200 },
    ]);
    await expectDecodable(outDir, renditions);
    const preview = path.join(outDir, 'preview-2048.jpg');
    expect(near(await pixel(preview, 200, 600), [255, 0, 0], 24)).toBe(true);
    expect(near(await pixel(preview, 1400, 600), [0, 0, 255], 24)).toBe(true);
    expect(placeholder.length).toBeGreaterThan(10);
    // Nothing of the intermediate picture is left behind, in the output or the temporary directory.
    expect((await readdir(outDir)).every((f) => /^(thumb|preview)-/.test(f))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.startsWith('.hevc-'))).toEqual([]);
  });

  it('fails a truncated HEIC with a reason, leaving nothing behind', async () => {
    const heic = path.join(dir, 'halves.heic');
    const cut = path.join(dir, 'cut.heic');
    const bytes = await readFile(heic);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const info = {
      kind: 'image' as const,
      format: 'heif',
      width: 1600,
      height: 1200,
      hasAlpha: false,
      frames: 1,
    };
    const failed = renderImage(cut, path.join(dir, 'out-cut'), info, limits);
    await expect(failed).rejects.toBeInstanceOf(MediaError);
    await expect(failed).rejects.toThrow(/heif image could not be decoded/);
    expect((await readdir(dir)).filter((f) => f.startsWith('.hevc-'))).toEqual([]);
  });
});

describe('decompression bomb', () => {
  let src: string;
  beforeAll(async () => {
    src = path.join(dir, 'bomb.png');
    expect(await pngBomb(src)).toBeLessThan(200_000);
  });

  it('is refused from the header, without decoding', async () => {
    const before = process.memoryUsage.rss();
    const error = await probeImage(src, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).message).toBe(
      'image is 30000×30000 (900000000 pixels), above the limit of 100000000 pixels',
    );
    // Decoding would need 900 MB.
    expect(process.memoryUsage.rss() - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('is refused by the renderer too, should it be handed one', async () => {
    const info = {
      kind: 'image',
      format: 'png',
      width: 30_000,
      height: 30_000,
      hasAlpha: false,
      frames: 1,
    } as const;
    await expect(renderImage(src, path.join(dir, 'bomb-out'), info, limits)).rejects.toThrow(MediaError);
  });
});

describe('broken input', () => {
  it('rejects a truncated JPEG', async () => {
    const whole = path.join(dir, 'whole.jpg');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: GREY } })
      .jpeg()
      .toFile(whole);
    const src = path.join(dir, 'truncated.jpg');
    await writeFile(src, (await readFile(whole)).subarray(0, 1000));
    // The header may survive the cut, so the probe can pass; the decode cannot.
    const attempt = probeImage(src, limits).then((info) =>
      renderImage(src, path.join(dir, 'trunc-out'), info, limits),
    );
    await expect(attempt).rejects.toThrow(/could not be decoded/);
    await expect(attempt).rejects.toBeInstanceOf(MediaError);
  });

  it('rejects random bytes at the probe', async () => {
    const src = path.join(dir, 'random.bin');
    await writeFile(src, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)));
    await expect(probeImage(src, limits)).rejects.toThrow(/^image could not be decoded: .+/);
    await expect(probeImage(src, limits)).rejects.toBeInstanceOf(MediaError);
  });

  it('treats a missing file as an infrastructure error, not bad media', async () => {
    const error = await probeImage(path.join(dir, 'absent.jpg'), limits).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MediaError);
    expect(error).toMatchObject({ code: 'ENOENT' });
  });
});
