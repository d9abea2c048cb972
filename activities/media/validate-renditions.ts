import type { NewRendition } from '../../infra/adapters/blob-repository';
import { validateAudio, validateVideo } from './tools/validate';
import { checkPreviews, mergeReports } from './tools/preview-checks';
import type { MediaInfo, RenditionFile, ValidationReport } from './tools/types';
import { classifyMediaErrors } from '../failures';
import { stallMs, type BlobRef, type MediaDeps } from './deps';
import { keepBeating } from '../heartbeat';
import { checkStillRenditions } from '../../domain/still-renditions';

const PROGRESS = { details: { percent: 0 } };

/**
 * Checks the published candidates against the source: every output readable, durations, resolutions and codecs
 * as planned, and the top rung's SSIM. Images and pages are checked when rendered (sharp decodes them back).
 */
export function validateRenditionsActivity(deps: MediaDeps) {
  return async function validateRenditions(
    input: BlobRef & { info: MediaInfo; prefix: string; renditions: NewRendition[] },
  ): Promise<ValidationReport> {
    const report = await classifyMediaErrors(() =>
      keepBeating(async (beat) => {
        const { info } = input;
        // Runs recorded before the workflow checked these itself still ask here.
        if (info.kind !== 'video' && info.kind !== 'audio') return checkStillRenditions(input.renditions);
        const src = await deps.workspace.source(deps.store, input.sha256, input.blobKey, input.sizeBytes);
        const kept = await deps.workspace.keptOutputs(input.prefix);
        const dir = kept ?? (await deps.workspace.scratch());
        try {
          if (!kept) await deps.workspace.downloadPrefix(deps.store, input.prefix, dir);
          const files: RenditionFile[] = input.renditions.map((r) => ({
            name: r.name,
            relativePath: r.objectKey.slice(input.prefix.length),
            mimeType: r.mimeType,
            ...(r.width !== undefined ? { width: r.width } : {}),
            ...(r.height !== undefined ? { height: r.height } : {}),
            ...(r.bitRate !== undefined ? { bitRate: r.bitRate } : {}),
            ...(r.durationSeconds !== undefined ? { durationSeconds: r.durationSeconds } : {}),
          }));
          if (info.kind === 'audio') return await validateAudio(src, dir, info, files);
          const control = { signal: beat.signal, stallMs: stallMs(deps.limits) };
          const ladder = await validateVideo(src, dir, info, files, { control });
          return mergeReports(ladder, await checkPreviews(dir, info, files));
        } finally {
          await deps.workspace.release(dir);
        }
      }, PROGRESS),
    );
    // The last media stage of the blob (a failed check waits for an operator's retry): its local copy goes.
    await deps.workspace.dropSource(input.sha256);
    return report;
  };
}
