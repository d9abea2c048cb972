import { execFile } from 'node:child_process';
import { unlink, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createDeflate, crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Test media, generated on demand (sharp, ffmpeg's lavfi sources, hand-written PDF) so no binaries are committed. */

const run = promisify(execFile);
const GREY = { r: 128, g: 128, b: 128 };

/** 4000×3000 stored sideways (EXIF orientation 6), red block in the stored top-left corner, camera EXIF with GPS. */
export async function cameraJpeg(file: string) {
  const block = await sharp({ create: { width: 1000, height: 750, channels: 3, background: 'red' } })
    .png()
    .toBuffer();
  await sharp({ create: { width: 4000, height: 3000, channels: 3, background: GREY } })
    .composite([{ input: block, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .withExif({
      IFD0: { Make: 'Canon', Model: 'EOS R5' },
      IFD2: { DateTimeOriginal: '2023:07:14 10:20:30', OffsetTimeOriginal: '+02:00' },
      // sharp ≥0.33 (libvips ≥8.15) writes the GPS IFD from rational strings "num/den num/den num/den".
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '52/1 31/1 1234/100',
        GPSLongitudeRef: 'W',
        GPSLongitude: '13/1 24/1 5678/100',
        GPSAltitude: '345/10',
      },
    })
    .toFile(file);
}

/** 300×200 RGBA: opaque blue on the left half, fully transparent on the right. */
export async function halfTransparentPng(file: string) {
  const [width, height] = [300, 200];
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width / 2; x++) rgba.set([0, 0, 255, 255], (y * width + x) * 4);
  }
  await sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toFile(file);
}

/** Three 120×80 frames: red, green, blue. */
export async function animatedGif(file: string) {
  const [width, height] = [120, 80];
  const frames = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ].map((rgb) => Buffer.alloc(width * height * 3).map((_, i) => rgb[i % 3] ?? 0));
  await sharp(Buffer.concat(frames), { raw: { width, height: height * 3, channels: 3, pageHeight: height } })
    .gif({ delay: [100, 100, 100] })
    .toFile(file);
}

/** A valid 30000×30000 1-bit greyscale PNG of zeros: ~110 KB on disk, 900 MB once decoded to 8 bits. */
export async function pngBomb(file: string) {
  const side = 30_000;
  const deflate = createDeflate({ level: 9 });
  const compressed: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => compressed.push(chunk));
  const ended = new Promise((resolve) => deflate.on('end', resolve));
  const rows = Buffer.alloc((1 + side / 8) * 1000); // filter byte + packed row, all zero
  for (let y = 0; y < side; y += 1000) deflate.write(rows);
  deflate.end();
  await ended;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth; colour type 0 (grey), compression, filter and interlace 0
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.concat(compressed)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
  await writeFile(file, png);
  return png.length;
}

function pngChunk(type: string, data: Buffer) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/**
 * A one-page US Letter PDF (612×792 pt) with a blue rectangle from (100, 200) to (400, 600), origin bottom-left,
 * written by hand with a correct cross-reference table.
 */
export function onePagePdf(pageExtras = ''): Buffer {
  const content = '0 0 1 rg\n100 200 300 400 re\nf\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >>${pageExtras} >>`,
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

export interface ClipOptions {
  width: number;
  height: number;
  seconds: number;
  audio?: boolean;
  /** 'h264' in mp4 (default) or 'vp9' in webm */
  codec?: 'h264' | 'vp9';
  /** display rotation written as container metadata */
  rotate?: 90 | 180 | 270;
  fps?: number;
  /** x264 effort and quality: 'ultrafast' at its default CRF unless set (the benchmark wants camera-like files). */
  preset?: string;
  crf?: number;
}

/** A moving test pattern (not black, so poster selection has something to pick) with an optional sine tone. */
export async function clip(file: string, o: ClipOptions): Promise<void> {
  const fps = o.fps ?? 25;
  const args = [
    '-y',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${fps}:duration=${o.seconds}`,
  ];
  if (o.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`);
  if (o.codec === 'vp9') {
    args.push('-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '500k');
    if (o.audio) args.push('-c:a', 'libopus');
  } else {
    args.push('-c:v', 'libx264', '-preset', o.preset ?? 'ultrafast', '-pix_fmt', 'yuv420p');
    if (o.crf !== undefined) args.push('-crf', String(o.crf));
    if (o.audio) args.push('-c:a', 'aac');
  }
  if (!o.rotate) {
    await run('ffmpeg', [...args, '-shortest', file]);
    return;
  }
  // ffmpeg turns the rotate tag into a display matrix only when stream-copying, as a phone's file would have it.
  const upright = `${file}.upright.mp4`;
  await run('ffmpeg', [...args, '-shortest', upright]);
  await run('ffmpeg', [
    '-y',
    '-v',
    'error',
    '-i',
    upright,
    '-c',
    'copy',
    '-metadata:s:v:0',
    `rotate=${o.rotate}`,
    file,
  ]);
  await unlink(upright);
}

/** A tone in an audio-only container picked by the file's extension (.mp3, .wav, .m4a, .flac, .ogg). */
export async function tone(file: string, seconds: number): Promise<void> {
  await run('ffmpeg', [
    '-y',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=330:sample_rate=44100:duration=${seconds}`,
    '-ac',
    '2',
    file,
  ]);
}

/** A PNG of random pixels: incompressible (about width × height × 3 bytes) and unique, so never deduplicated. */
export async function noisyPng(width: number, height: number): Promise<Buffer> {
  const { randomBytes } = await import('node:crypto');
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/**
 * A valid one-page PDF carrying `extraBytes` of random data in an unused stream: a large upload that still passes
 * sniffing and renders quickly. Written in chunks; returns its SHA-256 and size.
 */
export async function largePdf(file: string, extraBytes: number): Promise<{ sha256: string; size: number }> {
  const { createHash, randomBytes } = await import('node:crypto');
  const { open } = await import('node:fs/promises');
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  let offset = 0;
  const write = async (data: Buffer | string) => {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    hash.update(buf);
    await handle.write(buf);
    offset += buf.length;
  };
  const content = '0 0 1 rg\n100 200 300 400 re\nf\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
  ];
  const offsets: number[] = [];
  await write('%PDF-1.4\n');
  for (const [i, body] of objects.entries()) {
    offsets.push(offset);
    await write(`${i + 1} 0 obj\n${body}\nendobj\n`);
  }
  offsets.push(offset);
  await write(`5 0 obj\n<< /Length ${extraBytes} >>\nstream\n`);
  for (let left = extraBytes; left > 0; left -= 4 * 1024 * 1024) {
    await write(randomBytes(Math.min(left, 4 * 1024 * 1024)));
  }
  await write('\nendstream\nendobj\n');
  const xref = offset;
  await write(`xref\n0 ${offsets.length + 1}\n0000000000 65535 f \n`);
  await write(offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join(''));
  await write(`trailer\n<< /Size ${offsets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  await handle.close();
  return { sha256: hash.digest('hex'), size: offset };
}
