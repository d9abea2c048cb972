/**
 * Still images with sharp (libvips): probe from headers, then decode once into a bounded intermediate and derive
 * the WebP thumbnails, the JPEG preview and a ThumbHash placeholder from it.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exifr from 'exifr';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { avifWhereSmaller } from './image-avif';
import { decodableHevc } from './heif-hevc';
import { MediaError, MediaRejected, type ImageInfo, type RenditionFile } from './types';

// libvips' operation cache keeps decoded regions of past images alive; a worker sees each image once.
sharp.cache(false);

export interface ImageLimits {
  /** Largest width × height (of one frame) accepted; checked from the header before anything is decoded. */
  maxPixels: number;
}

interface RenditionSpec {
  name: string;
  longestSide: number;
  format: 'webp' | 'jpeg';
}

const RENDITIONS: readonly RenditionSpec[] = [
  { name: 'thumb-256', longestSide: 256, format: 'webp' },
  { name: 'thumb-1024', longestSide: 1024, format: 'webp' },
  { name: 'preview-2048', longestSide: 2048, format: 'jpeg' },
];
const LARGEST_SIDE = Math.max(...RENDITIONS.map((r) => r.longestSide));
const PLACEHOLDER_SIDE = 100; // thumbhash's maximum input size
const FILE_TYPES = {
  webp: { extension: 'webp', mimeType: 'image/webp' },
  jpeg: { extension: 'jpg', mimeType: 'image/jpeg' },
} as const;

export async function probeImage(src: string, opts: ImageLimits): Promise<ImageInfo> {
  await stat(src); // a missing file is an infrastructure problem, not a bad image
  let meta: Metadata;
  try {
    // Header only. sharp's own limit is off here so the guard below can say what the dimensions were.
    meta = await sharp(src, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw undecodable(err);
  }
  const pixels = meta.width * meta.height;
  if (pixels > opts.maxPixels) {
    throw new MediaRejected(
      `image is ${meta.width}×${meta.height} (${pixels} pixels), above the limit of ${opts.maxPixels} pixels`,
      { width: meta.width, height: meta.height, maxPixels: opts.maxPixels },
    );
  }
  return {
    kind: 'image',
    format: meta.format,
    width: meta.width,
    height: meta.height,
    orientation: meta.orientation,
    colorSpace: meta.space,
    hasAlpha: meta.hasAlpha,
    frames: meta.pages ?? 1,
    ...(await readExif(src, meta)),
  };
}

export async function renderImage(
  src: string,
  outDir: string,
  info: ImageInfo,
  opts: ImageLimits,
): Promise<{ renditions: RenditionFile[]; placeholder: string }> {
  // The only decode of the source: upright, sRGB, first frame, already shrunk to the largest rendition (libvips
  // uses shrink-on-load for JPEG/WebP), so everything after works on at most 2048×2048 pixels.
  let base: { data: Buffer; info: OutputInfo };
  // Beside the output directory, not in it: everything in it is uploaded.
  const hevc =
    info.format === 'heif' ? await decodableHevc(src, path.dirname(path.resolve(outDir))) : undefined;
  try {
    base = await sharp(hevc?.path ?? src, {
      limitInputPixels: opts.maxPixels,
      autoOrient: true,
      pages: 1,
      sequentialRead: true,
    })
      .resize(LARGEST_SIDE, LARGEST_SIDE, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw undecodable(err, info.format);
  } finally {
    await hevc?.release();
  }
  const { width, height, channels } = base.info;
  const decoded = () => sharp(base.data, { raw: { width, height, channels } });

  const encoded = await Promise.all(
    RENDITIONS.map(async (spec) => {
      const resized = decoded().resize(spec.longestSide, spec.longestSide, {
        fit: 'inside',
        withoutEnlargement: true,
      });
      const output =
        spec.format === 'webp'
          ? resized.webp({ quality: 80 })
          : resized.flatten({ background: '#ffffff' }).jpeg({ quality: 82, mozjpeg: false });
      return { spec, ...(await output.toBuffer({ resolveWithObject: true })) };
    }),
  );
  const placeholder = await thumbHash(decoded());

  await mkdir(outDir, { recursive: true });
  const renditions: RenditionFile[] = [];
  for (const { spec, data, info: out } of encoded) {
    const { extension, mimeType } = FILE_TYPES[spec.format];
    const relativePath = `${spec.name}.${extension}`;
    await writeFile(path.join(outDir, relativePath), data);
    renditions.push({ name: spec.name, relativePath, mimeType, width: out.width, height: out.height });
  }
  const webps = encoded.filter((e) => e.spec.format === 'webp');
  const sizes = webps.map((e) => ({ ...e.spec, bytes: e.data.length }));
  renditions.push(...(await avifWhereSmaller(decoded, sizes, outDir)));
  return { renditions, placeholder };
}

async function thumbHash(image: Sharp): Promise<string> {
  const { data, info } = await image
    .resize(PLACEHOLDER_SIDE, PLACEHOLDER_SIDE, { fit: 'inside', withoutEnlargement: true })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

function undecodable(err: unknown, format?: string): MediaError {
  const reason = err instanceof Error ? err.message : String(err);
  return new MediaError(`${format ? `${format} image` : 'image'} could not be decoded: ${reason}`, {
    reason,
  });
}

// ---- EXIF ----

type ExifFields = Pick<
  ImageInfo,
  'cameraMake' | 'cameraModel' | 'capturedAt' | 'gpsLatitude' | 'gpsLongitude' | 'gpsAltitude'
>;

const EXIF_TAGS = [
  'Make',
  'Model',
  'DateTimeOriginal',
  'OffsetTimeOriginal',
  'GPSLatitude',
  'GPSLatitudeRef',
  'GPSLongitude',
  'GPSLongitudeRef',
  'GPSAltitude',
  'GPSAltitudeRef',
];

/**
 * Camera, capture time and location. sharp hands over the EXIF block of JPEG, PNG, WebP and HEIF alike (as a TIFF
 * structure, with or without the JPEG "Exif\0\0" prefix), which exifr parses; TIFF files carry the tags in the file
 * itself. Damaged EXIF is ignored: it does not make the picture unusable.
 */
async function readExif(src: string, meta: Metadata): Promise<ExifFields> {
  const input = meta.exif ? withoutExifPrefix(meta.exif) : meta.format === 'tiff' ? src : undefined;
  if (!input) return {};
  let tags: Record<string, unknown> | undefined;
  try {
    tags = await exifr.parse(input, {
      pick: EXIF_TAGS,
      ifd1: false,
      interop: false,
      reviveValues: false,
      translateValues: false,
    });
  } catch {
    return {};
  }
  if (!tags) return {};
  return {
    cameraMake: text(tags.Make),
    cameraModel: text(tags.Model),
    capturedAt: captureTime(tags.DateTimeOriginal, tags.OffsetTimeOriginal),
    gpsLatitude: coordinate(tags.latitude, 90),
    gpsLongitude: coordinate(tags.longitude, 180),
    gpsAltitude: altitude(tags.GPSAltitude, tags.GPSAltitudeRef),
  };
}

function withoutExifPrefix(exif: Buffer): Buffer {
  return exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.replace(/\0+$/, '').trim();
  return trimmed || undefined;
}

/**
 * EXIF "YYYY:MM:DD HH:MM:SS" is camera-local time. With OffsetTimeOriginal the instant is exact; without it the
 * wall-clock time is reported as UTC, so the result never depends on the worker's time zone.
 */
function captureTime(value: unknown, offset: unknown): string | undefined {
  const m = typeof value === 'string' && /^(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)/.exec(value.trim());
  if (!m) return undefined;
  const zone = typeof offset === 'string' && /^[+-]\d\d:\d\d$/.test(offset.trim()) ? offset.trim() : 'Z';
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`);
  return Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1800 ? undefined : date.toISOString();
}

function coordinate(value: unknown, limit: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit ? value : undefined;
}

/** GPSAltitudeRef 1 means below sea level; exifr returns it as a number or a one-byte array. */
function altitude(value: unknown, ref: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const below = ref === 1 || (ref instanceof Uint8Array && ref[0] === 1);
  return below ? -value : value;
}
