import type { MediaFamily } from '../../shared/media-types';
import { probeImage } from '../../shared/media/image';
import { probeAv } from '../../shared/media/probe';
import { probeDocument } from '../../shared/media/document';
import type { MediaInfo } from '../../shared/media/types';
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
