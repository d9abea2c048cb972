import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UsageError } from './exit.ts';

/** The types the API accepts, by extension; the server sniffs the bytes anyway and rejects a disagreement. */
const TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.heic': 'image/heic',
  '.heif': 'image/heif',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/opus',
  '.pdf': 'application/pdf',
};

export const contentTypeOf = (path: string): string | undefined => TYPES[extname(path).toLowerCase()];

export interface LocalFile {
  path: string;
  contentType: string;
  size: number;
  mtimeMs: number;
}

/**
 * The files to upload: named files as they are, folders walked recursively (sorted, so runs are repeatable). A
 * missing path or a named file of an unknown type is a usage error; inside a folder, unknown types are skipped.
 */
export async function collectFiles(paths: string[], skipped: (path: string) => void): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  const visit = async (path: string, named: boolean): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no such file or folder: ${path}`);
    if (info.isDirectory()) {
      const entries = (await readdir(path)).sort();
      for (const entry of entries) await visit(join(path, entry), false);
      return;
    }
    if (!info.isFile()) return;
    const contentType = contentTypeOf(path);
    if (!contentType) {
      if (named) throw new UsageError(`${path}: unknown type (extension ${extname(path) || 'none'})`);
      return skipped(path);
    }
    files.push({ path: resolve(path), contentType, size: info.size, mtimeMs: info.mtimeMs });
  };
  for (const path of paths) await visit(path, true);
  return files;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}
