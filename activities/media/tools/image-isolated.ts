/**
 * Image decoding for untrusted input, in a child process per image: a native crash or an allocation beyond the
 * memory cap ends the child, never the worker. The cap is RLIMIT_DATA (set with util-linux's prlimit), which counts
 * the heap and private mappings where libvips keeps its pixels, unlike --max-old-space-size (the JS heap only) or
 * RLIMIT_AS (V8 reserves far more address space than it uses). libvips mostly reports a refused allocation as an
 * error ("out of memory"), which fails the image like any undecodable one; where it aborts instead, the child dies.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { abortError } from './ffmpeg-run';
import type { RenderAnswer, RenderRequest } from './image-child';
import type { renderImage } from './image';
import { MediaError, MediaStalled, type ImageInfo } from './types';

const CHILD = fileURLToPath(new URL('./image-child.ts', import.meta.url));
/** Where node_modules is: `--import tsx` resolves from the child's working directory. */
const ROOT = path.resolve(path.dirname(CHILD), '../..');

export interface IsolationLimits {
  maxPixels: number;
  /** The child's data segment cap. */
  memoryMb: number;
  /** The child is killed when it has not answered within this long. */
  stallMs: number;
  signal?: AbortSignal | undefined;
  testPoisonMarker?: string | undefined;
}

type Rendered = Awaited<ReturnType<typeof renderImage>>;
type Outcome = { answer: RenderAnswer } | { crashed: string } | { stalled: true };

/**
 * renderImage in a child process. A crash is tried once more in a fresh child (the machine may have been short of
 * memory); crashing again, the image fails with "decoder crashed: <signal>". A child that does not answer within
 * stallMs is killed: MediaStalled, which the workflow counts like a lost worker.
 */
export async function renderImageIsolated(
  src: string,
  outDir: string,
  info: ImageInfo,
  limits: IsolationLimits,
): Promise<Rendered> {
  const request: RenderRequest = {
    src: path.resolve(src),
    outDir: path.resolve(outDir),
    info,
    maxPixels: limits.maxPixels,
    ...(limits.testPoisonMarker ? { testPoisonMarker: limits.testPoisonMarker } : {}),
  };
  const crashes: string[] = [];
  for (;;) {
    const outcome = await runChild(request, limits);
    if ('stalled' in outcome) {
      throw new MediaStalled(`image decoder made no progress for ${limits.stallMs / 1000} s`);
    }
    if ('answer' in outcome) {
      const { answer } = outcome;
      if (answer.ok) return answer.result;
      if (answer.media) throw new MediaError(answer.message, answer.details);
      throw new Error(answer.message);
    }
    crashes.push(outcome.crashed);
    if (crashes.length >= 2) {
      throw new MediaError(
        `decoder crashed: ${crashes.join(', then ')} (memory cap ${limits.memoryMb} MiB)`,
        { crashes, memoryMb: limits.memoryMb },
      );
    }
  }
}

function runChild(request: RenderRequest, limits: IsolationLimits): Promise<Outcome> {
  const { signal } = limits;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const child = spawn(
    'prlimit',
    [`--data=${limits.memoryMb * 1024 * 1024}`, '--', process.execPath, '--import', 'tsx', CHILD],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise<Outcome>((resolve, reject) => {
    let answer: RenderAnswer | undefined;
    let stalled = false;
    let aborted = false;
    const timer = setTimeout(() => {
      stalled = true;
      child.kill('SIGKILL');
    }, limits.stallMs);
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('message', (message: RenderAnswer) => {
      answer = message;
    });
    // Not spawned at all (prlimit missing): an infrastructure problem, retried, not the image's fault.
    child.once('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`image decoder could not start: ${err.message}`));
    });
    child.once('exit', (code, exitSignal) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (aborted) return reject(abortError(signal));
      if (answer) return resolve({ answer });
      if (stalled) return resolve({ stalled: true });
      const how = exitSignal ?? `exit code ${code}`;
      const last = stderr.trim().split('\n').at(-1);
      resolve({ crashed: exitSignal || !last ? how : `${how} (${last.slice(0, 200)})` });
    });
    child.send(request);
  });
}
