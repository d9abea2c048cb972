/**
 * Entry of the image decoder's child process (activities/media/tools/image-isolated.ts): renders one image and answers over
 * IPC. Whatever libvips does to this process (a crash, the memory cap) cannot reach the worker.
 */
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

process.once('message', (request: RenderRequest) => {
  void (async (): Promise<RenderAnswer> => {
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
  })().then((answer) => process.send!(answer, () => process.exit(0)));
});
