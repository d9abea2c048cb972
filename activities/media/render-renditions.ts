import { randomUUID } from 'node:crypto';
import type { NewRendition } from '../../infra/adapters/blob-repository';
import { renderImageIsolated } from './tools/image-isolated';
import { tripTestPoison } from './tools/test-poison';
import { renderDocument } from './tools/document';
import { videoWithPreviews } from './tools/video-with-previews';
import { transcodeAudio } from './tools/audio';
import type { MediaInfo, RenditionFile } from './tools/types';
import { renditionAttemptPrefix } from '../../domain/object-keys';
import { classifyMediaErrors } from '../failures';
import { stallMs, type BlobRef, type MediaDeps } from './deps';
import { keepBeating } from '../heartbeat';
import { isStillKind } from '../../domain/still-renditions';

const PROGRESS = { details: { percent: 0 } };

export interface RenderResult {
  /** Where this attempt wrote its files; published (or discarded) by the workflow. */
  prefix: string;
  renditions: NewRendition[];
  placeholder?: string;
}

/** Thumbnails, previews, the HLS ladder, audio and page renders: whatever the media's kind calls for. */
export function renderRenditionsActivity(deps: MediaDeps) {
  return async function renderRenditions(input: BlobRef & { info: MediaInfo }): Promise<RenderResult> {
    // Heartbeats cover the whole attempt (download, render, upload), so a dead worker's attempt is noticed fast.
    return classifyMediaErrors(() =>
      keepBeating(async (beat) => {
        // ffmpeg and poppler are killed when they go silent this long (a hang the workflow counts as a loss).
        const control = { ...beat.progress(), stallMs: stallMs(deps.limits) };
        const src = await deps.workspace.source(deps.store, input.sha256, input.blobKey, input.sizeBytes);
        await tripTestPoison(deps.testPoisonMarker, src, 'kill-worker', () =>
          process.kill(process.pid, 'SIGKILL'),
        );
        const outDir = await deps.workspace.scratch();
        try {
          let files: RenditionFile[];
          let placeholder: string | undefined;
          const { info } = input;
          if (info.kind === 'image') {
            ({ renditions: files, placeholder } = await renderImageIsolated(
              deps.decoders,
              src,
              outDir,
              info,
              {
                maxPixels: deps.limits.maxImagePixels,
                stallMs: stallMs(deps.limits),
                signal: control.signal,
                testPoisonMarker: deps.testPoisonMarker,
              },
            ));
          } else if (info.kind === 'document') {
            files = (await renderDocument(src, outDir, control)).renditions;
          } else if (info.kind === 'video') {
            const video = await videoWithPreviews(src, outDir, info, control);
            files = video.renditions;
            // Why each rung exists and at what rate, beside the probed facts (GET /media/{id} → media.ladder).
            await deps.blobs.setMediaInfo(input.sha256, { ...info, ladder: video.ladder });
          } else {
            files = await transcodeAudio(src, outDir, info, control);
          }
          const prefix = renditionAttemptPrefix(input.sha256, randomUUID());
          const sizes = await deps.workspace.uploadDir(deps.store, outDir, prefix);
          // Validation re-reads audio and video outputs: from here when it runs on this worker (the rename leaves
          // the release below nothing to remove).
          if (info.kind === 'video' || info.kind === 'audio')
            await deps.workspace.keepOutputs(outDir, prefix);
          if (placeholder !== undefined)
            await deps.blobs.setMediaInfo(input.sha256, { ...info }, placeholder);
          // An image's or a page's renditions are checked by the workflow without a file (validation reads only
          // audio and video): this was the blob's last media stage on this worker, so its local copy goes now.
          if (isStillKind(info.kind)) await deps.workspace.dropSource(input.sha256);
          return {
            prefix,
            placeholder,
            renditions: files.map((f) => ({
              name: f.name,
              objectKey: `${prefix}${f.relativePath}`,
              mimeType: f.mimeType,
              width: f.width,
              height: f.height,
              bitRate: f.bitRate,
              durationSeconds: f.durationSeconds,
              sizeBytes: sizes.get(f.relativePath) ?? 0,
            })),
          };
        } finally {
          await deps.workspace.release(outDir);
        }
      }, PROGRESS),
    );
  };
}
