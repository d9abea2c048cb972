import fs from 'node:fs/promises';
import path from 'node:path';
import { thumbnailObjectPath } from '../../domain/thumbnails';
import { serveObjectRanges } from '../../infra/adapters/range-server';
import type { ThumbnailRequest, ThumbnailOutcome } from '../../workflows/definitions';
import { classifyMediaErrors } from '../failures';
import { keepBeating } from '../heartbeat';
import { stallMs, type MediaDeps } from './deps';
import { frameAt } from './tools/frame-at';
import { MediaError, type AvInfo } from './tools/types';

const FRAME_FILE = 'frame.jpg';

/**
 * A JPEG frame of a ready video at a time, added to the blob's published renditions (at most `maxCached` of them).
 * ffmpeg seeks in the original through ranged reads of the store (a loopback HTTP server in front of it): a frame
 * from a long video costs its index and one GOP, not a download of the whole file.
 */
export function renderFrameActivity(deps: MediaDeps) {
  return async function renderFrame(req: ThumbnailRequest): Promise<ThumbnailOutcome> {
    return classifyMediaErrors(() =>
      keepBeating(async (beat) => {
        const blob = await deps.blobs.get(req.sha256);
        const prefix = blob?.rendition_prefix;
        if (!blob || blob.status !== 'ready' || !prefix) return { made: false, reason: 'gone' };
        const renditions = await deps.blobs.renditions(req.sha256);
        if (renditions.some((r) => r.name === req.name)) return { made: true, name: req.name };
        if (!deps.thumbnails) throw new Error('this worker has no thumbnail repository');
        if ((await deps.thumbnails.count(req.sha256)) >= req.maxCached) {
          return { made: false, reason: 'limit' };
        }
        const info = blob.media_info as unknown as AvInfo | null;
        if (info?.kind !== 'video' || !info.video) throw new MediaError('not a video', {});

        const original = deps.buckets?.bucket(blob.bucket) ?? deps.store;
        const ranges = await serveObjectRanges(original, blob.object_key);
        const dir = await deps.workspace.scratch();
        try {
          const control = { signal: beat.progress().signal, stallMs: stallMs(deps.limits) };
          const size = await frameAt(
            {
              input: ranges.url,
              dir,
              file: FRAME_FILE,
              timeSeconds: req.timeSeconds,
              width: req.width,
              displayWidth: info.video.displayWidth,
              displayHeight: info.video.displayHeight,
            },
            control,
          );
          const data = await fs.readFile(path.join(dir, FRAME_FILE));
          const key = `${prefix}${thumbnailObjectPath(req.name)}`;
          // Both copies before the row: a listed thumbnail reads from the replica too while the primary is down.
          await deps.store.write(key, data, { contentType: 'image/jpeg' });
          await deps.replica?.write(key, data, { contentType: 'image/jpeg' });
          const outcome = await deps.thumbnails.add(
            req.sha256,
            prefix,
            { name: req.name, objectKey: key, mimeType: 'image/jpeg', ...size, sizeBytes: data.length },
            req.maxCached,
          );
          if (outcome === 'limit' || outcome === 'gone') {
            await deps.store.delete(key);
            await deps.replica?.delete(key);
            return { made: false, reason: outcome };
          }
          return { made: true, name: req.name };
        } finally {
          await ranges.close();
          await deps.workspace.release(dir);
        }
      }),
    );
  };
}
