import { execFileSync } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeDocument, renderDocument } from '../activities/media/tools/document';
import { MediaError } from '../activities/media/tools/types';
import { onePagePdf } from './helpers/generate-media';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'assetline-document-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pixel(file: string, x: number, y: number) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

describe('one-page PDF', () => {
  let src: string;
  beforeAll(async () => {
    src = path.join(dir, 'letter.pdf');
    await writeFile(src, onePagePdf());
  });

  it('probes pages and first page size in points', async () => {
    expect(await probeDocument(src)).toEqual({ kind: 'document', pages: 1, width: 612, height: 792 });
  });

  it('renders page 1 as a PNG with its longest side 1024', async () => {
    const outDir = path.join(dir, 'letter-out');
    const progress: number[] = [];
    const { renditions } = await renderDocument(src, outDir, { onProgress: (p) => progress.push(p) });
    expect(renditions).toHaveLength(1);
    const [page] = renditions;
    expect(page).toMatchObject({
      name: 'page-1',
      relativePath: 'page-1.png',
      mimeType: 'image/png',
      height: 1024,
    });
    expect(Math.abs(page!.width! - (612 / 792) * 1024)).toBeLessThanOrEqual(1);
    expect(progress).toEqual([0, 100]);

    const file = path.join(outDir, page!.relativePath);
    const meta = await sharp(file).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', page!.width, page!.height]);
    const scale = 1024 / 792;
    expect(await pixel(file, Math.round(250 * scale), Math.round((792 - 400) * scale))).toEqual([0, 0, 255]);
    expect(await pixel(file, 20, 20)).toEqual([255, 255, 255]);
  });

  it('reports and renders a /Rotate 90 page as shown, in landscape', async () => {
    const rotated = path.join(dir, 'rotated.pdf');
    await writeFile(rotated, onePagePdf(' /Rotate 90'));
    expect(await probeDocument(rotated)).toMatchObject({ width: 792, height: 612 });
    const { renditions } = await renderDocument(rotated, path.join(dir, 'rotated-out'));
    expect(renditions[0]).toMatchObject({ width: 1024 });
    expect(renditions[0]!.height).toBeLessThan(1024);
  });

  it('does not start when the work is already cancelled', async () => {
    const outDir = path.join(dir, 'cancelled-out');
    const controller = new AbortController();
    controller.abort(new Error('asset deleted'));
    const error = await renderDocument(src, outDir, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'asset deleted' });
    expect(error).not.toBeInstanceOf(MediaError);
    await expect(access(path.join(outDir, 'page-1.png'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('kills pdftoppm when the work is cancelled while it runs', async () => {
    // Opening a FIFO with no writer blocks, so pdftoppm hangs until it is killed.
    const fifo = path.join(dir, 'hangs.pdf');
    execFileSync('mkfifo', [fifo]);
    const controller = new AbortController();
    const started = Date.now();
    const rendering = renderDocument(fifo, path.join(dir, 'hung-out'), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('asset deleted')), 300);
    await expect(rendering).rejects.toThrow('asset deleted');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('unreadable PDFs', () => {
  const corrupt = [
    ['garbage after a PDF header', Buffer.from('%PDF-1.4\n' + 'not a pdf at all\n'.repeat(50), 'latin1')],
    ['bytes that are no PDF at all', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31 + 7) % 256))],
  ] as const;

  it.each(corrupt)('%s: probe and render fail with MediaError', async (_name, bytes) => {
    const src = path.join(dir, `corrupt-${bytes.length}.pdf`);
    await writeFile(src, bytes);
    await expect(probeDocument(src)).rejects.toBeInstanceOf(MediaError);
    await expect(probeDocument(src)).rejects.toThrow(/^PDF could not be read: /);
    await expect(renderDocument(src, path.join(dir, 'corrupt-out'))).rejects.toBeInstanceOf(MediaError);
  });

  it('treats a missing file as an infrastructure error, not bad media', async () => {
    const error = await probeDocument(path.join(dir, 'absent.pdf')).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MediaError);
    expect(error).toMatchObject({ code: 'ENOENT' });
  });
});
