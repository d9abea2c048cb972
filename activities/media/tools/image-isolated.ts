/**
 * Image decoding for untrusted input, in a decoder child process (decoder-pool.ts): a native crash or an allocation
 * beyond the memory cap ends the child, never the worker. The cap is RLIMIT_DATA (set with util-linux's prlimit),
 * which counts the heap and private mappings where libvips keeps its pixels, unlike --max-old-space-size (the JS heap
 * only) or RLIMIT_AS (V8 reserves far more address space than it uses). libvips mostly reports a refused allocation
 * as an error ("out of memory"), which fails the image like any undecodable one; where it aborts instead, the child
 * dies.
 */
import path from 'node:path';
import type { RenderRequest } from './image-child';
import type { renderImage } from './image';
import type { DecoderPool } from './decoder-pool';
import { MediaError, MediaStalled, type ImageInfo } from './types';

export interface IsolationLimits {
  maxPixels: number;
  /** The child is killed when it has not answered within this long. */
  stallMs: number;
  signal?: AbortSignal | undefined;
  testPoisonMarker?: string | undefined;
}

type Rendered = Awaited<ReturnType<typeof renderImage>>;

/**
 * renderImage in a decoder child. A crash is tried once more in a fresh child (the machine may have been short of
 * memory, or an earlier image left the warm child damaged); crashing again, the image fails with "decoder crashed:
 * <signal>". An allocation refused in a child that served images before is tried once more in a fresh one too: what
 * the child kept from them counts against the cap. A child that does not answer within stallMs is killed:
 * MediaStalled, which the workflow counts like a lost worker.
 */
export async function renderImageIsolated(
  pool: DecoderPool,
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
  let fresh = false;
  for (;;) {
    const opts = { stallMs: limits.stallMs, signal: limits.signal, fresh };
    const outcome = await pool.run(request, opts);
    if ('stalled' in outcome) {
      throw new MediaStalled(`image decoder made no progress for ${limits.stallMs / 1000} s`);
    }
    if ('answer' in outcome) {
      const { answer } = outcome;
      if (answer.ok) return answer.result;
      if (!fresh && outcome.warm && /out of memory/i.test(answer.message)) {
        fresh = true;
        continue;
      }
      if (answer.media) throw new MediaError(answer.message, answer.details);
      throw new Error(answer.message);
    }
    crashes.push(outcome.crashed);
    fresh = true;
    if (crashes.length >= 2) {
      throw new MediaError(`decoder crashed: ${crashes.join(', then ')} (memory cap ${pool.memoryMb} MiB)`, {
        crashes,
        memoryMb: pool.memoryMb,
      });
    }
  }
}
