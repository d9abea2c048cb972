import type { WorkerConfig } from '../shared/config';
import type { Db } from '../shared/db/database';
import { createLogger } from '../shared/logger';
import { AccessRepository } from '../shared/adapters/access-repository';
import { AssetRepository } from '../shared/adapters/asset-repository';
import { cdnFromConfig } from '../shared/adapters/secure-link-cdn';
import { BlobRepository } from '../shared/adapters/blob-repository';
import { QuotaRepository } from '../shared/adapters/quota-repository';
import { SweepRepository } from '../shared/adapters/sweep-repository';
import { ClamdScanner } from '../shared/adapters/clamd-scanner';
import { S3ObjectStore } from '../shared/adapters/s3-object-store';
import { replicaS3Settings, s3Settings, tierS3Settings } from '../shared/adapters/s3-settings';
import { BucketRouter } from '../shared/adapters/bucket-router';
import { TierRepository } from '../shared/adapters/tier-repository';
import { FailoverObjectStore } from '../shared/adapters/failover-object-store';
import { IntegrityRepository } from '../shared/adapters/integrity-repository';
import { DeadLetterRepository } from '../shared/adapters/dead-letter-repository';
import { NoScanner, type Scanner } from '../shared/adapters/scanner';
import { Slots } from '../shared/slots';
import { LocalWorkspace } from '../shared/adapters/workspace';
import { WebhookClient } from '../shared/adapters/webhook-client';
import { WebhookRepository } from '../shared/adapters/webhook-repository';

/** The adapters a worker process needs, built once from the configuration. */
export function workerAdapters(config: WorkerConfig, db: Db) {
  const logger = createLogger('assetline-worker', config.LOG_LEVEL);
  const store = new S3ObjectStore(s3Settings(config));
  const replicaSettings = replicaS3Settings(config);
  const replica = replicaSettings ? new S3ObjectStore(replicaSettings) : undefined;
  const tierSettings = tierS3Settings(config);
  const buckets = new BucketRouter({
    hot: store,
    warm: new S3ObjectStore(tierSettings.warm),
    cold: new S3ObjectStore(tierSettings.cold),
  });
  const scanner: Scanner = config.CLAMD_HOST
    ? new ClamdScanner({
        host: config.CLAMD_HOST,
        port: config.CLAMD_PORT,
        maxStreamBytes: config.CLAMD_MAX_STREAM_BYTES,
      })
    : new NoScanner();
  return {
    /** The primary: the pipeline's I/O and the integrity scans, which must see the primary's own bytes. */
    store,
    replica,
    /** For the media activities' reads of blobs: the replica serves them while the primary is down. */
    readStore: replica
      ? new FailoverObjectStore(store, replica, (op, key, err) =>
          logger.warn(
            { op, key, err: (err as Error).message },
            'primary store failed; read from the replica',
          ),
        )
      : store,
    integrity: new IntegrityRepository(db),
    deadLetters: new DeadLetterRepository(db),
    /** The tiers' stores, by tier and by the bucket a blob row names. */
    buckets,
    tiers: new TierRepository(db),
    scanner,
    scanSlots: new Slots(config.SCAN_CONCURRENCY),
    assets: new AssetRepository(db),
    blobs: new BlobRepository(db),
    sweeps: new SweepRepository(db),
    quotas: new QuotaRepository(db, { maxBytes: config.QUOTA_MAX_BYTES, maxAssets: config.QUOTA_MAX_ASSETS }),
    webhooks: new WebhookRepository(db),
    webhookClient: new WebhookClient({ allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS }),
    workspace: new LocalWorkspace(config.WORK_DIR),
    acl: new AccessRepository(db),
    cdn: cdnFromConfig(config, logger),
    warmRenditions: config.CDN_WARM_RENDITIONS,
    limits: {
      maxImagePixels: config.MAX_IMAGE_PIXELS,
      decoderMemoryMb: config.DECODER_MEMORY_MB,
      stallSeconds: config.MEDIA_STALL_SECONDS,
    },
    testPoisonMarker: config.ASSETLINE_TEST_POISON_MARKER,
  };
}
