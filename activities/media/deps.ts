import type { BlobRepository } from '../../shared/adapters/blob-repository';
import type { ObjectStore } from '../../shared/adapters/object-store';
import type { LocalWorkspace } from '../../shared/adapters/workspace';

export interface MediaDeps {
  store: ObjectStore;
  blobs: BlobRepository;
  workspace: LocalWorkspace;
  limits: { maxImagePixels: number };
}

/** Identifies a stored blob for the media stages, which each fetch it into the worker's workspace. */
export interface BlobRef {
  sha256: string;
  blobKey: string;
  sizeBytes: number;
}
