import type { MediaFamily } from '../../domain/media-types';
import { probeImage } from './tools/image';
import { probeAv } from './tools/probe';
import { probeDocument } from './tools/document';
import type { MediaInfo } from './tools/types';
import { classifyMediaErrors } from '../failures';
import type { BlobRef, MediaDeps } from './deps';
import { keepBeating } from '../heartbeat';

const PROGRESS = { details: { percent: 0 } };

/** Reads what the media is (dimensions, codecs, EXIF, duration…) and keeps it with the blob. */
export function extractMetadataActivity(deps: MediaDeps) {
  return async function extractMetadata(input: BlobRef & { family: MediaFamily }): Promise<MediaInfo> {
    return classifyMediaErrors(() =>
      keepBeating(async () => {
        await deps.workspace.prune();
        const src = await deps.workspace.source(deps.store, input.sha256, input.blobKey, input.sizeBytes);
        const info: MediaInfo =
          input.family === 'image'
            ? await probeImage(src, { maxPixels: deps.limits.maxImagePixels })
            : input.family === 'document'
              ? await probeDocument(src)
              : await probeAv(src);
        await deps.blobs.setMediaInfo(input.sha256, info as unknown as Record<string, unknown>);
        return info;
      }, PROGRESS),
    );
  };
}
