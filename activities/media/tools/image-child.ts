/**
 * Entry of an image decoder child process (activities/media/tools/decoder-pool.ts): renders the images it is sent,
 * one at a time, and answers each over IPC. Whatever libvips does to this process (a crash, the memory cap) cannot
 * reach the worker. The child ends with its IPC channel: when the pool closes it, or the worker dies.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { tripTestPoison } from './test-poison';
import { renderImage } from './image';
import { MediaError, type ImageInfo } from './types';

export interface RenderRequest {
  src: string;
  outDir: string;
  info: ImageInfo;
  maxPixels: number;
  /** The test-only trigger, from the worker's configuration. */
  testPoisonMarker?: string;
}

export type RenderAnswer =
  | { ok: true; result: Awaited<ReturnType<typeof renderImage>> }
  | { ok: false; media: boolean; message: string; details: Record<string, unknown> };

/** The answer, and this child's resident memory after the image (the pool retires children that grow). */
export interface RenderReply {
  answer: RenderAnswer;
  rssBytes: number;
}

// The pool runs one image per child and as many children as the worker has media slots, so parallelism comes from
// the children: each gets its share of the cores (argv[2], usually 1) rather than libvips' default of one thread per
// core in every child, which would oversubscribe the machine by the pool's size. image.ts turns libvips' operation
// cache off: each image is seen once, and what the cache kept would only count against the memory cap.
sharp.concurrency(Math.max(1, Number(process.argv[2]) || 1));

/** The exit code saying the cap could not be set: decoder-pool.ts reports it as an infrastructure problem. */
const NO_CAP_EXIT = 70;

// The cap (argv[3] MiB) is set on this process once Node and sharp are loaded, on top of the data segment they hold
// then: Node 24 alone reserves ~600 MiB of it at start (VmData), mostly never touched, so a cap set before exec
// (`prlimit -- node`) below that kills Node before it runs, and one above it would leave libvips little or too
// much. What the cap bounds is what decoding adds.
try {
  const status = readFileSync('/proc/self/status', 'utf8');
  const dataKb = Number(/^VmData:\s+(\d+) kB/m.exec(status)?.[1]);
  const bytes = dataKb * 1024 + Number(process.argv[3]) * 1024 * 1024;
  if (!Number.isFinite(bytes)) throw new Error('no VmData in /proc/self/status');
  execFileSync('prlimit', ['--pid', String(process.pid), `--data=${bytes}`], { stdio: 'ignore' });
} catch (err) {
  process.stderr.write(`decoder memory cap not set: ${(err as Error).message}\n`);
  process.exit(NO_CAP_EXIT);
}

async function render(request: RenderRequest): Promise<RenderAnswer> {
  try {
    await tripTestPoison(request.testPoisonMarker, request.src, 'crash-decoder', () =>
      process.kill(process.pid, 'SIGSEGV'),
    );
    const result = await renderImage(request.src, request.outDir, request.info, {
      maxPixels: request.maxPixels,
    });
    return { ok: true, result };
  } catch (err) {
    const media = err instanceof MediaError;
    return {
      ok: false,
      media,
      message: err instanceof Error ? err.message : String(err),
      details: media ? err.details : {},
    };
  }
}

process.on('message', (request: RenderRequest) => {
  void render(request).then((answer) => {
    const reply: RenderReply = { answer, rssBytes: process.memoryUsage.rss() };
    process.send!(reply);
  });
});
process.on('disconnect', () => process.exit(0));
