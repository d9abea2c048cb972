import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sniffStoredObject } from '../activities/sniff-content';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { SNIFF_BUDGET } from '../activities/media/tools/content-policy';
import { onePagePdf } from './helpers/generate-media';
import {
  encodeLayouts,
  id3Header,
  id3TagOf,
  tiffLayout,
  topLevelBoxes,
  writeBytes,
  type LayoutFile,
} from './helpers/encoder-layouts';
import { SETTLED, uploadFile, waitForStatus } from './helpers/media';
import { freshStore, startPlatform, uniqueName } from './helpers/stack';

/**
 * Sniffing against the real S3 server, over files real encoders wrote in each common layout. Every allowed type
 * must be accepted with the platform's name for it, reading past the first block only where the format needs it.
 */
describe('sniffing reads stored objects where the parser looks', () => {
  let store: S3ObjectStore;
  let dir: string;
  let layouts: LayoutFile[];
  const figures: string[] = [];

  beforeAll(async () => {
    dir = path.join(inject('stack').tmpDir, uniqueName('sniff'));
    await fs.mkdir(dir, { recursive: true });
    store = await freshStore();
    layouts = await encodeLayouts(dir);
    await fs.writeFile(path.join(dir, 'one-page.pdf'), onePagePdf());
    layouts.push({
      name: 'one-page.pdf',
      file: path.join(dir, 'one-page.pdf'),
      declared: 'application/pdf',
      mime: 'application/pdf',
      family: 'document',
    });
  }, 120_000);
  afterAll(() => {
    if (process.env.SNIFF_FIGURES) console.log(figures.join('\n'));
    store?.destroy();
  });

  async function sniff(file: string, declared: string) {
    const key = `uploads/${uniqueName('sniff')}`;
    await store.write(key, await fs.readFile(file));
    return sniffStoredObject(store, key, declared);
  }

  it('the files have the layouts they are meant to test', async () => {
    const read = (name: string) => fs.readFile(path.join(dir, name));
    const block = SNIFF_BUDGET.blockBytes;
    for (const name of ['vips-le.tif', 'libtiff-le.tif', 'libtiff-be.tif', 'ffmpeg-16bit-le.tif']) {
      const data = await read(name);
      // The IFD sits after the pixels, past the first block (and past the 4100 bytes sniffing once read).
      expect(tiffLayout(data).ifdOffset, name).toBeGreaterThan(block);
    }
    expect(tiffLayout(await read('libtiff-be.tif')).bigEndian).toBe(true);
    expect(tiffLayout(await read('libtiff-16bit-be.tif'))).toMatchObject({ bigEndian: true });
    expect(tiffLayout(await read('libtiff-16bit-be.tif')).ifdOffset).toBeGreaterThan(block);
    expect(tiffLayout(await read('vips-le.tif')).bigEndian).toBe(false);
    expect(tiffLayout(await read('pillow-ifd-first.tif')).ifdOffset).toBe(8);
    for (const name of ['moov-end.mp4', 'moov-end.mov']) {
      const boxes = topLevelBoxes(await read(name));
      expect(boxes.indexOf('mdat'), name).toBeLessThan(boxes.indexOf('moov'));
    }
    for (const name of ['faststart.mp4', 'faststart.mov']) {
      const boxes = topLevelBoxes(await read(name));
      expect(boxes.indexOf('moov'), name).toBeLessThan(boxes.indexOf('mdat'));
    }
    expect(topLevelBoxes(await read('libheif.heic'))[0]).toBe('ftyp');
    expect((await read('libheif.heic')).toString('latin1', 8, 12)).toBe('heic');
    // The cover makes the ID3 tag larger than a block: what follows it is only found by reading on.
    expect((await id3TagOf(path.join(dir, 'cover.mp3'))).length).toBeGreaterThan(block);
    // sharp writes EXIF as one APP1 segment right after SOI.
    const jpeg = await read('big-exif.jpg');
    expect(jpeg.readUInt16BE(4)).toBeGreaterThan(60_000);
  });

  it('accepts every allowed type in every layout, named as the platform names it', async () => {
    for (const layout of layouts) {
      const { verdict, reads, bytesRead } = await sniff(layout.file, layout.declared);
      expect(verdict, layout.name).toEqual({ ok: true, mimeType: layout.mime, family: layout.family });
      expect(reads, layout.name).toBeLessThanOrEqual(3);
      const size = (await fs.stat(layout.file)).size;
      figures.push(`${layout.name}\t${size}\t${reads}\t${bytesRead}`);
    }
  });

  it('reads a TIFF with its IFD at the end in two ranged reads, not the whole file', async () => {
    const file = path.join(dir, 'libtiff-16bit-be.tif');
    const { verdict, reads, bytesRead } = await sniff(file, 'image/tiff');
    expect(verdict).toMatchObject({ ok: true, mimeType: 'image/tiff' });
    expect(reads).toBe(2);
    expect(bytesRead).toBeLessThan((await fs.stat(file)).size / 2);
  });

  it('still rejects a disguised file, also behind a real ID3 tag larger than the first block', async () => {
    const elf = (await fs.readFile(process.execPath)).subarray(0, 200_000);
    const tag = await id3TagOf(path.join(dir, 'cover.mp3'));
    const behindTag = await writeBytes(path.join(dir, 'tagged-elf.mp3'), tag, elf);
    // Only the first bytes (what sniffing used to read) would see an ID3 tag and guess MP3.
    const tagged = await sniff(behindTag, 'audio/mpeg');
    expect(tagged).toMatchObject({ verdict: { ok: false, detected: 'application/x-elf' } });
    figures.push(
      `tagged-elf.mp3 (tag ${tag.length})\t${tag.length + elf.length}\t${tagged.reads}\t${tagged.bytesRead}`,
    );
    const plain = await writeBytes(path.join(dir, 'elf.tif'), elf);
    expect((await sniff(plain, 'image/tiff')).verdict).toMatchObject({
      ok: false,
      detected: 'application/x-elf',
    });
    const png = await fs.readFile(path.join(dir, 'noise.png'));
    const asVideo = await writeBytes(path.join(dir, 'png.mov'), png);
    expect((await sniff(asVideo, 'video/quicktime')).verdict).toEqual({
      ok: false,
      reason: 'detected image/png (image) but video/quicktime (video) was declared',
      detected: 'image/png',
    });
  });

  it('stops a file that keeps sending the parser elsewhere at the read budget, and rejects it', async () => {
    // 40 ID3 tags in a row, each larger than a block: each one costs the parser another ranged read.
    const body = Buffer.alloc(SNIFF_BUDGET.blockBytes + 1000);
    const tags = Array.from({ length: 40 }, () => [id3Header(body.length), body]).flat();
    const chained = await writeBytes(path.join(dir, 'chained-id3.mp3'), ...tags);
    const { verdict, reads, bytesRead } = await sniff(chained, 'audio/mpeg');
    expect(verdict).toEqual({
      ok: false,
      reason: `the content type could not be recognised: reading the object would exceed ${SNIFF_BUDGET.maxReads} ranged reads`,
      detected: null,
    });
    expect(reads).toBe(SNIFF_BUDGET.maxReads);
    figures.push(`chained-id3.mp3\t${(await fs.stat(chained)).size}\t${reads}\t${bytesRead}`);
    expect(bytesRead).toBeLessThanOrEqual(SNIFF_BUDGET.maxBytes);
  });

  it('rejects an empty object and an unknown one with the plain reason', async () => {
    const empty = await writeBytes(path.join(dir, 'empty.jpg'));
    const reason = 'the content type could not be recognised from the bytes';
    expect((await sniff(empty, 'image/jpeg')).verdict).toEqual({ ok: false, reason, detected: null });
    const zeros = await writeBytes(path.join(dir, 'zeros.jpg'), Buffer.alloc(300_000));
    expect((await sniff(zeros, 'image/jpeg')).verdict).toEqual({ ok: false, reason, detected: null });
  });

  it('a big-endian 16-bit TIFF with its IFD at the end and a phone-style HEVC HEIC go through the pipeline to ready', async () => {
    const tiff = layouts.find((l) => l.name === 'libtiff-16bit-be.tif')!;
    const heic = layouts.find((l) => l.name === 'libheif.heic')!;
    const platform = await startPlatform();
    try {
      const token = await platform.token('8001');
      // Declared loosely, as a scanner's upload might be: the sniffed type replaces it within the family.
      const data = await fs.readFile(tiff.file);
      const id = await uploadFile(platform.baseUrl, token, data, 'image/heic', 'scan.tif');
      const heicId = await uploadFile(
        platform.baseUrl,
        token,
        await fs.readFile(heic.file),
        'image/heic',
        'IMG_0001.HEIC',
      );
      const asset = await waitForStatus(platform.baseUrl, token, id, SETTLED, 120_000);
      expect(asset).toMatchObject({ status: 'ready', contentType: 'image/tiff' });
      expect((asset.renditions as { name: string }[]).map((r) => r.name)).toContain('thumb-256');
      // sharp cannot decode HEVC; libheif's converter does it for the renderer.
      const photo = await waitForStatus(platform.baseUrl, token, heicId, SETTLED, 120_000);
      expect(photo).toMatchObject({ status: 'ready', contentType: 'image/heic' });
      const thumb = (photo.renditions as { name: string; width: number; height: number }[]).find(
        (r) => r.name === 'thumb-256',
      );
      expect(thumb && Math.max(thumb.width, thumb.height)).toBe(256);
    } finally {
      await platform.stop();
    }
  }, 180_000);
});
