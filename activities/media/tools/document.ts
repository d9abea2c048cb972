/**
 * PDFs with poppler-utils: `pdfinfo` for page count and size, `pdftoppm` for a PNG of the first page.
 */
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { MediaError, type DocumentInfo, type RenditionFile, type WorkControl } from './types';

const TIMEOUT_MS = 60_000;
const PAGE_LONGEST_SIDE = 1024;
const STDERR_LIMIT = 4_000;

export async function probeDocument(src: string): Promise<DocumentInfo> {
  const file = await existingFile(src);
  const { stdout } = await run('pdfinfo', [file], 'PDF could not be read');
  const pages = Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
  if (!Number.isInteger(pages) || pages < 1) throw new MediaError('PDF has no pages', { stdout });
  const size = /^Page size:\s+([\d.]+) x ([\d.]+) pts/m.exec(stdout);
  if (!size) return { kind: 'document', pages };
  // Report the page as shown, like the rendering: /Rotate 90 or 270 turns it on its side.
  const rotated = Number(/^Page rot:\s+(\d+)/m.exec(stdout)?.[1] ?? 0) % 180 === 90;
  const [width, height] = [Number(size[1]), Number(size[2])];
  return { kind: 'document', pages, width: rotated ? height : width, height: rotated ? width : height };
}

export async function renderDocument(
  src: string,
  outDir: string,
  control: WorkControl = {},
): Promise<{ renditions: RenditionFile[] }> {
  const file = await existingFile(src);
  const dir = path.resolve(outDir);
  await mkdir(dir, { recursive: true });
  control.onProgress?.(0);
  // Absolute paths start with '/', so neither can be taken for an option (pdftoppm has no `--`).
  const args = ['-png', '-f', '1', '-l', '1', '-scale-to', String(PAGE_LONGEST_SIDE), '-singlefile'];
  await run('pdftoppm', [...args, file, path.join(dir, 'page-1')], 'PDF page could not be rendered', control);
  const relativePath = 'page-1.png';
  let size: Metadata;
  try {
    size = await sharp(path.join(dir, relativePath)).metadata();
  } catch (err) {
    // pdftoppm can exit 0 on a document whose first page it could not draw.
    throw new MediaError('PDF page could not be rendered: no image was produced', { reason: String(err) });
  }
  control.onProgress?.(100);
  return {
    renditions: [
      { name: 'page-1', relativePath, mimeType: 'image/png', width: size.width, height: size.height },
    ],
  };
}

/** A missing input is an infrastructure problem (retryable), not a bad document. */
async function existingFile(src: string): Promise<string> {
  const file = path.resolve(src);
  await stat(file);
  return file;
}

/**
 * Runs a poppler tool. A non-zero exit or the time limit means the document is at fault (MediaError); an abort
 * kills the process and rejects with the signal's reason; failing to start the tool is a plain Error.
 */
function run(
  command: string,
  args: string[],
  failure: string,
  control: WorkControl = {},
): Promise<{ stdout: string }> {
  const { signal } = control;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk;
    });
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, TIMEOUT_MS);
    signal?.addEventListener('abort', kill, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code, killedBy) => {
      done();
      const reason = stderr.trim().slice(0, STDERR_LIMIT);
      if (signal?.aborted) reject(signal.reason);
      else if (timedOut)
        reject(new MediaError(`${failure}: ${command} took longer than ${TIMEOUT_MS / 1000} s`));
      else if (code !== 0) {
        const exit = code === null ? `killed by ${killedBy}` : `exit code ${code}`;
        reject(new MediaError(`${failure}: ${reason || `${command} ${exit}`}`, { command, code, reason }));
      } else resolve({ stdout });
    });
  });
}
