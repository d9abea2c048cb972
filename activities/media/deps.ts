import type { BlobRepository } from '../../infra/adapters/blob-repository';
import type { BucketRouter } from '../../infra/adapters/bucket-router';
import type { ThumbnailRepository } from '../../infra/adapters/thumbnail-repository';
import type { ObjectStore } from '../../infra/adapters/object-store';
import type { LocalWorkspace } from '../../infra/adapters/workspace';
import type { DecoderPool } from './tools/decoder-pool';

export interface MediaDeps {
  store: ObjectStore;
  blobs: BlobRepository;
  workspace: LocalWorkspace;
  limits: MediaLimits;
  /** The image decoder children (DECODER_MEMORY_MB caps each); the worker closes it when it stops. */
  decoders: DecoderPool;
  /** Thumbnails at a time, cached as renditions (renderFrame); absent, a worker cannot make them. */
  thumbnails?: ThumbnailRepository | undefined;
  /** REPLICA_S3_BUCKET's store: a thumbnail at a time is copied there, as published renditions are. */
  replica?: ObjectStore | undefined;
  /** The tiers' stores: a thumbnail reads the original wherever tiering has moved it. */
  buckets?: BucketRouter | undefined;
  /** Test-only trigger (ASSETLINE_TEST_POISON_MARKER): see activities/media/tools/test-poison.ts. */
  testPoisonMarker?: string | undefined;
}

export interface MediaLimits {
  maxImagePixels: number;
  /** MEDIA_STALL_SECONDS: a child process silent this long is killed (default 120). */
  stallSeconds?: number;
}

export const stallMs = (limits: MediaLimits) => (limits.stallSeconds ?? 120) * 1000;

/** Identifies a stored blob for the media stages, which each fetch it into the worker's workspace. */
export interface BlobRef {
  sha256: string;
  blobKey: string;
  sizeBytes: number;
}
