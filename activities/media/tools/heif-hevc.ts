import { execFile } from 'node:child_process';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { lastLines } from './probe';
import { MediaError } from './types';

const run = promisify(execFile);

/** An HEVC picture takes libheif well under a second; one that takes this long is not going to finish. */
const CONVERT_TIME_LIMIT_MS = 120_000;

/**
 * sharp's prebuilt libvips reads HEIF headers but decodes only AV1 (AVIF): HEVC needs a decoder it is not built with.
 * Phones write HEVC HEIC, so such a file is decoded by libheif's own converter (Debian's libheif-examples, with
 * libde265) into an upright JPEG (quality 95; PNG when it has alpha), which the renderer then reads as any other.
 * It runs as a child of the caller, so the decoder child's memory cap holds for it too. Undefined when the file is
 * not HEVC HEIF: sharp reads it directly. The picture is written in a directory of its own under `scratchParent`.
 */
export async function decodableHevc(
  src: string,
  scratchParent: string,
): Promise<{ path: string; release(): Promise<void> } | undefined> {
  const meta = await sharp(src, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  if (meta?.format !== 'heif' || meta.compression !== 'hevc') return undefined;
  const dir = await mkdtemp(path.join(scratchParent, '.hevc-'));
  const release = () => rm(dir, { recursive: true, force: true });
  const extension = meta.hasAlpha ? 'png' : 'jpg';
  const out = path.join(dir, `picture.${extension}`);
  try {
    await run('heif-convert', ['--quiet', '-q', '95', src, out], {
      timeout: CONVERT_TIME_LIMIT_MS,
      killSignal: 'SIGKILL',
    });
  } catch (err) {
    await release();
    const e = err as { killed?: boolean; stderr?: string; message?: string };
    if (e.killed) throw new MediaError(`HEIC image did not decode within ${CONVERT_TIME_LIMIT_MS / 1000} s`);
    throw new MediaError(`heif image could not be decoded: ${lastLines(e.stderr ?? '') || e.message}`);
  }
  // A file of several pictures is written one file per picture (picture-1.jpg, ...): the first is the primary.
  const written = await access(out).then(
    () => out,
    async () => {
      const files = (await readdir(dir)).filter((f) => f.endsWith(`.${extension}`)).sort();
      return files[0] && path.join(dir, files[0]);
    },
  );
  if (!written) {
    await release();
    throw new MediaError('heif image could not be decoded: libheif wrote no picture');
  }
  return { path: written, release };
}
