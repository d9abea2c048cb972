import type { Client } from '@temporalio/client';
import type { AccessRepository } from '../shared/adapters/access-repository';
import type { AssetRepository } from '../shared/adapters/asset-repository';
import type { BlobRepository } from '../shared/adapters/blob-repository';
import type { ObjectStore } from '../shared/adapters/object-store';
import type { Logger } from '../shared/logger';

/** What the API needs, injected so tests build the same app on their own servers. */
export interface ApiDeps {
  assets: AssetRepository;
  blobs: BlobRepository;
  acl: AccessRepository;
  store: ObjectStore;
  temporal: Client;
  logger: Logger;
  settings: {
    taskQueue: string;
    jwtSecret: string;
    uploadTtlSeconds: number;
    maxUploadBytes: number;
    jsonBodyLimitBytes: number;
    storageEventsSecret?: string | undefined;
  };
}
