import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { ffmpeg } from './ffmpeg';

/**
 * Files of every allowed type as real encoders write them (libvips, libtiff's tiffcp, Pillow, ffmpeg, libheif's
 * heif-enc), in the layouts sniffing must read past its first bytes for. The Debian tools come from
 * scripts/provision.sh. Noise keeps them large, so an IFD at the end lies well past the first 64 KiB block.
 */
const run = promisify(execFile);

// Debian's Pillow lives with Debian's python; a python earlier on PATH (pyenv) may not have it.
const PYTHON = '/usr/bin/python3';

const noise = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp(randomBytes(width * height * channels), { raw: { width, height, channels } });

export interface LayoutFile {
  name: string;
  file: string;
  declared: string;
  /** What sniffing must say. */
  mime: string;
  family: 'image' | 'video' | 'audio' | 'document';
}

/** The offset a TIFF's first IFD starts at, and the byte order. */
export function tiffLayout(data: Buffer): { bigEndian: boolean; ifdOffset: number } {
  const bigEndian = data.toString('latin1', 0, 2) === 'MM';
  return { bigEndian, ifdOffset: bigEndian ? data.readUInt32BE(4) : data.readUInt32LE(4) };
}

/** The top-level boxes of an ISO-BMFF file (MP4, MOV, M4A, HEIC), in file order. */
export function topLevelBoxes(data: Buffer): string[] {
  const boxes: string[] = [];
  for (let at = 0; at + 8 <= data.length;) {
    let size = data.readUInt32BE(at);
    boxes.push(data.toString('latin1', at + 4, at + 8));
    if (size === 1) size = Number(data.readBigUInt64BE(at + 8));
    if (size < 8) break;
    at += size;
  }
  return boxes;
}

/** Writes every layout into dir; returns them in a fixed order. */
export async function encodeLayouts(dir: string): Promise<LayoutFile[]> {
  const at = (name: string) => path.join(dir, name);
  const image = (name: string, mime: string, declared = mime): LayoutFile => ({
    name,
    file: at(name),
    declared,
    mime,
    family: 'image',
  });
  const av = (name: string, mime: string, family: 'video' | 'audio', declared = mime): LayoutFile => ({
    name,
    file: at(name),
    declared,
    mime,
    family,
  });

  // Images: sharp/libvips for the web formats, and sources for the other encoders.
  await noise(320, 240).png({ compressionLevel: 1 }).toFile(at('noise.png'));
  await noise(240, 180).toColourspace('rgb16').png({ compressionLevel: 1 }).toFile(at('noise16.png'));
  await noise(320, 240).jpeg({ quality: 90 }).toFile(at('plain.jpg'));
  await noise(320, 240).webp().toFile(at('noise.webp'));
  await noise(120, 80).gif().toFile(at('noise.gif'));
  await noise(128, 96).avif({ effort: 0 }).toFile(at('noise.avif'));
  // libvips (sharp) and libtiff write the IFD after the image data; Pillow writes it first.
  await noise(320, 240).tiff({ compression: 'none' }).toFile(at('vips-le.tif'));
  await run('tiffcp', ['-c', 'none', at('vips-le.tif'), at('libtiff-le.tif')]);
  await run('tiffcp', ['-B', '-c', 'none', at('vips-le.tif'), at('libtiff-be.tif')]);
  await ffmpeg('-i', at('noise16.png'), '-pix_fmt', 'rgb48le', at('ffmpeg-16bit-le.tif'));
  await run('tiffcp', ['-B', at('ffmpeg-16bit-le.tif'), at('libtiff-16bit-be.tif')]);
  await run(PYTHON, [
    '-c',
    'import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2])',
    at('noise.png'),
    at('pillow-ifd-first.tif'),
  ]);
  await run('heif-enc', ['-q', '60', '-o', at('libheif.heic'), at('plain.jpg')]);
  // A camera-like JPEG whose EXIF APP1 segment alone is ~60 KB.
  await noise(320, 240)
    .jpeg()
    .withExif({ IFD0: { ImageDescription: 'x'.repeat(60_000), Make: 'Assetline' } })
    .toFile(at('big-exif.jpg'));

  // Video: ffmpeg's muxers, moov after the media data (its default) and moved first (faststart).
  const video = ['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10:duration=1'];
  const sine = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1'];
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const vp9 = ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8'];
  await ffmpeg(...video, ...sine, ...h264, '-c:a', 'aac', '-shortest', '-f', 'mp4', at('moov-end.mp4'));
  await ffmpeg('-i', at('moov-end.mp4'), '-c', 'copy', '-movflags', '+faststart', at('faststart.mp4'));
  await ffmpeg(...video, ...sine, ...h264, '-c:a', 'aac', '-shortest', '-f', 'mov', at('moov-end.mov'));
  await ffmpeg('-i', at('moov-end.mov'), '-c', 'copy', '-movflags', '+faststart', at('faststart.mov'));
  await ffmpeg(...video, ...sine, ...vp9, '-c:a', 'libopus', '-shortest', '-f', 'webm', at('clip.webm'));
  await ffmpeg(...video, ...sine, ...h264, '-c:a', 'flac', '-shortest', '-f', 'matroska', at('clip.mkv'));

  // Audio, plainly and with a cover picture (~230 KB of noise) ahead of or among the samples.
  await ffmpeg(...sine, '-c:a', 'libmp3lame', at('plain.mp3'));
  await ffmpeg(...sine, '-c:a', 'aac', '-f', 'ipod', at('plain.m4a'));
  await ffmpeg(...sine, '-c:a', 'aac', '-f', 'adts', at('plain.aac'));
  await ffmpeg(...sine, '-c:a', 'pcm_s16le', at('plain.wav'));
  await ffmpeg(...sine, '-c:a', 'flac', at('plain.flac'));
  await ffmpeg(...sine, '-c:a', 'libvorbis', '-f', 'ogg', at('vorbis.ogg'));
  await ffmpeg(...sine, '-c:a', 'libopus', '-f', 'ogg', at('opus.ogg'));
  await ffmpeg(...sine, '-c:a', 'libopus', '-f', 'opus', at('plain.opus'));
  const cover = ['-i', at('noise.png'), '-map', '0', '-map', '1', '-disposition:v', 'attached_pic'];
  await ffmpeg('-i', at('plain.mp3'), ...cover, '-c', 'copy', '-id3v2_version', '3', at('cover.mp3'));
  await ffmpeg('-i', at('plain.flac'), ...cover, '-c', 'copy', at('cover.flac'));
  await ffmpeg('-i', at('plain.m4a'), ...cover, '-c', 'copy', '-f', 'ipod', at('cover.m4a'));

  return [
    image('plain.jpg', 'image/jpeg'),
    image('big-exif.jpg', 'image/jpeg'),
    image('noise.png', 'image/png'),
    image('noise16.png', 'image/png'),
    image('noise.webp', 'image/webp'),
    image('noise.gif', 'image/gif'),
    image('noise.avif', 'image/avif'),
    image('libheif.heic', 'image/heic'),
    image('vips-le.tif', 'image/tiff'),
    image('libtiff-le.tif', 'image/tiff'),
    image('libtiff-be.tif', 'image/tiff'),
    image('ffmpeg-16bit-le.tif', 'image/tiff'),
    image('libtiff-16bit-be.tif', 'image/tiff'),
    image('pillow-ifd-first.tif', 'image/tiff'),
    av('moov-end.mp4', 'video/mp4', 'video'),
    av('faststart.mp4', 'video/mp4', 'video'),
    av('moov-end.mov', 'video/quicktime', 'video'),
    av('faststart.mov', 'video/quicktime', 'video'),
    av('clip.webm', 'video/webm', 'video'),
    av('clip.mkv', 'video/x-matroska', 'video'),
    av('plain.mp3', 'audio/mpeg', 'audio'),
    av('cover.mp3', 'audio/mpeg', 'audio'),
    av('plain.m4a', 'audio/mp4', 'audio'),
    av('cover.m4a', 'audio/mp4', 'audio'),
    av('plain.aac', 'audio/aac', 'audio'),
    av('plain.wav', 'audio/wav', 'audio'),
    av('plain.flac', 'audio/flac', 'audio'),
    av('cover.flac', 'audio/flac', 'audio'),
    av('vorbis.ogg', 'audio/ogg', 'audio'),
    av('opus.ogg', 'audio/ogg', 'audio', 'audio/ogg'),
    av('plain.opus', 'audio/ogg', 'audio', 'audio/opus'),
  ];
}

/** An ID3v2 tag header (10 bytes) announcing `size` bytes of tag body (syncsafe). */
export function id3Header(size: number): Buffer {
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0]);
  for (let i = 0; i < 4; i++) header[9 - i] = (size >> (7 * i)) & 0x7f;
  return header;
}

/** The ID3v2 tag at the head of an MP3 (header and body), as its encoder wrote it. */
export async function id3TagOf(file: string): Promise<Buffer> {
  const data = await readFile(file);
  let size = 0;
  for (let i = 6; i < 10; i++) size = (size << 7) | (data[i]! & 0x7f);
  return data.subarray(0, 10 + size);
}

export async function writeBytes(file: string, ...parts: Buffer[]): Promise<string> {
  await writeFile(file, Buffer.concat(parts));
  return file;
}
