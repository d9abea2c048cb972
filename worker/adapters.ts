import type { WorkerConfig } from '../infra/config';
import { createDb, type Db } from '../infra/db/database';
import { createLogger } from '../infra/logger';
import { ReleaseRepository } from '../infra/adapters/release-repository';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { cdnFromConfig } from '../infra/adapters/secure-link-cdn';
import { BlobRepository } from '../infra/adapters/blob-repository';
import { QuotaRepository } from '../infra/adapters/quota-repository';
import { SweepRepository } from '../infra/adapters/sweep-repository';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { replicaS3Settings, s3Settings, tierS3Settings } from '../infra/adapters/s3-settings';
import { BucketRouter } from '../infra/adapters/bucket-router';
import { TierRepository } from '../infra/adapters/tier-repository';
import { FailoverObjectStore } from '../infra/adapters/failover-object-store';
import { IntegrityRepository } from '../infra/adapters/integrity-repository';
import { DeadLetterRepository } from '../infra/adapters/dead-letter-repository';
import { NoScanner, type Scanner } from '../infra/adapters/scanner';
import { Slots } from '../activities/slots';
import { ScanExclusion } from '../infra/adapters/scan-exclusion';
import { DecoderPool } from '../activities/media/tools/decoder-pool';
import { LocalWorkspace } from '../infra/adapters/workspace';
import { ThumbnailRepository } from '../infra/adapters/thumbnail-repository';
import { WebhookClient } from '../infra/adapters/webhook-client';
import { WebhookRepository } from '../infra/adapters/webhook-repository';

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
    /** Without a scanner there is nothing to keep a suspect apart from. */
    scanExclusion: config.CLAMD_HOST
      ? new ScanExclusion(createDb(config.DATABASE_URL, config.SCAN_CONCURRENCY))
      : undefined,
    assets: new AssetRepository(db),
    blobs: new BlobRepository(db),
    thumbnails: new ThumbnailRepository(db),
    releases: new ReleaseRepository(db),
    sweeps: new SweepRepository(db),
    quotas: new QuotaRepository(db, { maxBytes: config.QUOTA_MAX_BYTES, maxAssets: config.QUOTA_MAX_ASSETS }),
    webhooks: new WebhookRepository(db),
    webhookClient: new WebhookClient({ allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS }),
    workspace: new LocalWorkspace(config.WORK_DIR),
    cdn: cdnFromConfig(config, logger),
    warmRenditions: config.CDN_WARM_RENDITIONS,
    limits: {
      maxImagePixels: config.MAX_IMAGE_PIXELS,
      stallSeconds: config.MEDIA_STALL_SECONDS,
    },
    /** Started on the first image, one child per media slot at most; closed when the worker stops. */
    decoders: new DecoderPool({ size: config.MEDIA_CONCURRENCY, memoryMb: config.DECODER_MEMORY_MB }),
    testPoisonMarker: config.ASSETLINE_TEST_POISON_MARKER,
  };
}
