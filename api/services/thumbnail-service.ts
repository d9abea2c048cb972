import type { BlobRepository } from '../../infra/adapters/blob-repository';
import type { WorkflowGateway } from '../../infra/adapters/workflow-gateway';
import { DEFAULT_THUMBNAIL_WIDTH, isThumbnailName, thumbnailName } from '../../domain/thumbnails';
import { AuthorisedAsset } from './access-control';
import type { AssetReads } from './asset-reads';
import { conflict, invalid, ServiceError } from './errors';

/** THUMBNAILS_PER_ASSET's default: distinct cached times (and widths) per asset. */
export const DEFAULT_THUMBNAILS_PER_ASSET = 20;

interface VideoFacts {
  kind?: string;
  durationSeconds?: number;
  video?: { displayWidth: number; displayHeight: number };
}

/**
 * A frame of a ready video at a requested time: served from its cached rendition when it exists, otherwise made by a
 * short workflow on the media queue (never in the API process) and cached, at most `maxCached` per asset. Beyond
 * that bound a new time is refused (429): a cached frame costs storage for the asset's life, so the bound is what
 * keeps a client from filling the bucket one millisecond at a time.
 */
export class ThumbnailService {
  constructor(
    private readonly deps: {
      blobs: BlobRepository;
      workflows: WorkflowGateway;
      reads: AssetReads;
      maxCached?: number | undefined;
    },
  ) {}

  /** Where the JPEG is delivered (the edge, like any rendition). */
  async deliveryUrl(
    target: AuthorisedAsset,
    q: { time: number; width?: number | undefined },
    viewerCountry?: string,
  ): Promise<string> {
    const asset = AuthorisedAsset.row(target);
    if (asset.status !== 'ready') {
      throw conflict(`asset is ${asset.status}; thumbnails are made of ready videos only`);
    }
    const blob = asset.blob_sha256 ? await this.deps.blobs.get(asset.blob_sha256) : undefined;
    const info = (blob?.media_info ?? null) as VideoFacts | null;
    if (!blob || info?.kind !== 'video' || !info.video || info.durationSeconds === undefined) {
      throw conflict(
        `asset is ${asset.mime_type}, not a video: thumbnails at a time are made of videos only`,
      );
    }
    const duration = info.durationSeconds;
    if (q.time > duration) {
      const message = `must be within the video's duration, 0 to ${duration} seconds`;
      throw invalid(`invalid query: time ${message}`, { errors: [{ field: 'time', message }] });
    }
    // The same refusals as any delivery (embargo, regional rights) before any frame is made for this caller.
    await this.deps.reads.deliveryUrl(target, undefined, viewerCountry);

    const width = Math.min(q.width ?? DEFAULT_THUMBNAIL_WIDTH, evenDown(info.video.displayWidth));
    const name = thumbnailName(q.time, width);
    const names = (await this.deps.blobs.renditions(blob.sha256)).map((r) => r.name);
    if (!names.includes(name)) {
      const maxCached = this.deps.maxCached ?? DEFAULT_THUMBNAILS_PER_ASSET;
      if (names.filter(isThumbnailName).length >= maxCached) throw tooMany(maxCached);
      const outcome = await this.deps.workflows.frameThumbnail({
        sha256: blob.sha256,
        name,
        timeSeconds: Math.round(q.time * 1000) / 1000,
        width,
        maxCached,
      });
      if (!outcome.made && outcome.reason === 'limit') throw tooMany(maxCached);
      if (!outcome.made && outcome.reason === 'gone') {
        throw conflict('the asset changed while its thumbnail was made; ask again');
      }
      if (!outcome.made && outcome.reason === 'failed') {
        throw conflict(`no frame could be made at ${q.time} s: ${outcome.detail}`);
      }
    }
    return this.deps.reads.deliveryUrl(target, name, viewerCountry);
  }
}

function tooMany(max: number): ServiceError {
  return new ServiceError(
    'too-many',
    `this asset already has ${max} cached thumbnails, the most it may hold; ask for one of their times and widths`,
    { maxCached: max },
  );
}

const evenDown = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
