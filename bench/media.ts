import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { clip as testClip } from '../test/helpers/generate-media';

const run = promisify(execFile);

/**
 * Benchmark media, generated: a 12 MP photo with detail in it (a flat grey frame would flatter the JPEG decoder)
 * and an 8 s 1080p clip with audio. Copies differ in a few bytes only (a JPEG comment, a container tag): the same
 * work per copy, but distinct SHA-256s, so deduplication cannot skip any of them.
 */
export async function photo(file: string): Promise<void> {
  const [width, height] = [4000, 3000];
  const detail = await sharp({
    create: {
      width: 1000,
      height: 750,
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  })
    .png()
    .toBuffer();
  await sharp(detail)
    .resize(width, height, { kernel: 'cubic' })
    .modulate({ saturation: 1.4 })
    .jpeg({ quality: 90 })
    .withExif({ IFD0: { Make: 'Assetline', Model: 'bench' } })
    .toFile(file);
}

export async function clip(file: string): Promise<void> {
  await testClip(file, {
    width: 1920,
    height: 1080,
    seconds: 8,
    fps: 30,
    audio: true,
    preset: 'veryfast',
    crf: 20,
  });
}

/** `count` copies of a JPEG, each with its own comment segment right after the start-of-image marker. */
export async function jpegCopies(source: string, dir: string, count: number): Promise<string[]> {
  const bytes = await fs.readFile(source);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const text = Buffer.from(`assetline bench copy ${i} ${Date.now()}`);
    const segment = Buffer.alloc(4);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(text.length + 2, 2);
    const file = path.join(dir, `${path.basename(source, '.jpg')}-${i}.jpg`);
    await fs.writeFile(file, Buffer.concat([bytes.subarray(0, 2), segment, text, bytes.subarray(2)]));
    files.push(file);
  }
  return files;
}

/** `count` copies of a clip, remuxed with a distinct title tag (stream copy: the encoded frames are identical). */
export async function clipCopies(source: string, dir: string, count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `${path.basename(source, '.mp4')}-${i}.mp4`);
    await run('ffmpeg', [
      '-y',
      '-v',
      'error',
      '-i',
      source,
      '-c',
      'copy',
      '-metadata',
      `title=copy ${i} ${Date.now()}`,
      file,
    ]);
    files.push(file);
  }
  return files;
}
