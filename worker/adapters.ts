import type { WorkerConfig } from '../shared/config';
import type { Db } from '../shared/db/database';
import { AssetRepository } from '../shared/adapters/asset-repository';
import { BlobRepository } from '../shared/adapters/blob-repository';
import { ClamdScanner } from '../shared/adapters/clamd-scanner';
import { S3ObjectStore } from '../shared/adapters/s3-object-store';
import { s3Settings } from '../shared/adapters/s3-settings';
import { NoScanner, type Scanner } from '../shared/adapters/scanner';
import { LocalWorkspace } from '../shared/adapters/workspace';

/** The adapters a worker process needs, built once from the configuration. */
export function workerAdapters(config: WorkerConfig, db: Db) {
  const store = new S3ObjectStore(s3Settings(config));
  const scanner: Scanner = config.CLAMD_HOST
    ? new ClamdScanner({
        host: config.CLAMD_HOST,
        port: config.CLAMD_PORT,
        maxStreamBytes: config.CLAMD_MAX_STREAM_BYTES,
      })
    : new NoScanner();
  return {
    store,
    scanner,
    assets: new AssetRepository(db),
    blobs: new BlobRepository(db),
    workspace: new LocalWorkspace(config.WORK_DIR),
    limits: { maxImagePixels: config.MAX_IMAGE_PIXELS },
  };
}
