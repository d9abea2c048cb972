import { API_SECTIONS, loadConfigOrExit } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createDb, migrateToLatest } from '../infra/db/database';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { BlobRepository } from '../infra/adapters/blob-repository';
import { ReleaseRepository } from '../infra/adapters/release-repository';
import { AccessRepository } from '../infra/adapters/access-repository';
import { RegionRepository } from '../infra/adapters/region-repository';
import { viewerCountryFromConfig } from './viewer-country';
import { QuotaRepository } from '../infra/adapters/quota-repository';
import { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { replicaS3Settings, s3Settings, tierS3Settings } from '../infra/adapters/s3-settings';
import { BucketRouter } from '../infra/adapters/bucket-router';
import { signalAccessed } from './access-signals';
import { FailoverObjectStore } from '../infra/adapters/failover-object-store';
import { WebhookClient } from '../infra/adapters/webhook-client';
import { WebhookRepository } from '../infra/adapters/webhook-repository';
import { connectTemporalClient, temporalSettings } from '../infra/temporal-connection';
import { WebhookEventPublisher } from '../infra/adapters/event-publisher';
import { AssetAccessRepository } from '../infra/adapters/asset-access-repository';
import { cdnFromConfig } from '../infra/adapters/secure-link-cdn';
import { AccessRecorder } from './access-recorder';
import { createApp } from './app';
import type { ApiDeps } from './deps';
import { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { WorkflowStarter } from './workflow-starter';
import { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import { MetadataRepository } from '../infra/adapters/metadata-repository';
import { SearchRepository } from '../infra/adapters/search-repository';
import { CatalogRepository } from '../infra/adapters/catalog-repository';
import { DeadLetterRepository } from '../infra/adapters/dead-letter-repository';
import { assetCacheFromConfig, startAssetDocCache } from './asset-cache-setup';

const config = loadConfigOrExit(API_SECTIONS);
const logger = createLogger('assetline-api', config.LOG_LEVEL);
const viewerCountry = viewerCountryFromConfig(config);

const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
await migrateToLatest(db);
const temporal = await connectTemporalClient(temporalSettings(config));
// The one door to Temporal: requests, the outbox's sweep and the access recorder all go through it.
const workflows = new WorkflowGateway(temporal, config.TEMPORAL_TASK_QUEUE);
const accessRecorder = new AccessRecorder(
  new AssetAccessRepository(db),
  logger,
  config.ACCESS_FLUSH_SECONDS,
  signalAccessed(workflows, logger),
);
accessRecorder.start();
const primaryStore = new S3ObjectStore(s3Settings(config));
const replicaSettings = replicaS3Settings(config);
// The origin's reads fail over to the replica; uploads and every write stay on the primary.
const store = replicaSettings
  ? new FailoverObjectStore(primaryStore, new S3ObjectStore(replicaSettings), (op, key, err) =>
      logger.warn({ op, key, err: (err as Error).message }, 'primary store failed; read from the replica'),
    )
  : primaryStore;
const tierSettings = tierS3Settings(config);
const buckets = new BucketRouter({
  hot: store,
  warm: new S3ObjectStore(tierSettings.warm),
  cold: new S3ObjectStore(tierSettings.cold),
});
const assetDocs = await startAssetDocCache(await assetCacheFromConfig(config), config.DATABASE_URL, logger);
const settings = {
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  jwtSecret: config.AUTH_JWT_SECRET,
  uploadTtlSeconds: config.UPLOAD_URL_TTL_SECONDS,
  maxUploadBytes: config.MAX_UPLOAD_BYTES,
  multipartThresholdBytes: config.MULTIPART_THRESHOLD_BYTES,
  multipartPartBytes: config.MULTIPART_PART_BYTES,
  trashDays: config.TRASH_DAYS,
  thumbnailsPerAsset: config.THUMBNAILS_PER_ASSET,
  defaultVisibility: config.DEFAULT_VISIBILITY,
  releaseWarmSeconds: config.RELEASE_WARM_LEAD_SECONDS,
  uploadGraceSeconds: config.UPLOAD_SESSION_GRACE_SECONDS,
  uploadSessionMaxAgeSeconds: config.UPLOAD_SESSION_MAX_AGE_SECONDS,
  hotDays: config.HOT_DAYS,
  coldDays: config.COLD_DAYS,
  jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES,
  maxConcurrentRequests: config.API_MAX_CONCURRENT_REQUESTS,
  maxQueuedRequests: config.API_MAX_QUEUED_REQUESTS,
  storageEventsSecret: config.STORAGE_EVENTS_SECRET,
  deliverySigningSecret: config.DELIVERY_SIGNING_SECRET,
  corsAllowedOrigins: config.CORS_ALLOWED_ORIGINS,
  console: {
    temporalUiUrl: config.CONSOLE_TEMPORAL_UI_URL,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
    origins: { delivery: config.DELIVERY_BASE_URL, uploads: config.S3_PUBLIC_ENDPOINT ?? config.S3_ENDPOINT },
  },
};
// Browsers PUT straight to the bucket: it must answer their preflights. An S3 server without bucket CORS leaves the
// API serving everyone else, so this is reported rather than fatal.
if (config.CORS_ALLOWED_ORIGINS.length > 0) {
  await primaryStore.allowBrowserUploads(config.CORS_ALLOWED_ORIGINS).catch((err: Error) => {
    logger.error({ err: err.message }, 'could not set the bucket CORS for CORS_ALLOWED_ORIGINS');
  });
}
const events = new WebhookEventPublisher(workflows, new WebhookRepository(db));
const workflowStarts = new WorkflowStartRepository(db);
// One starter: it starts what each upload URL owes right after the answer, and sweeps what is still owed after
// that (Temporal was away, an instance gone).
const starter = new WorkflowStarter(workflows, events, workflowStarts, settings, logger);
const deps: ApiDeps = {
  assets: new AssetRepository(db),
  blobs: new BlobRepository(db),
  acl: new AccessRepository(db),
  releases: new ReleaseRepository(db),
  regions: new RegionRepository(db),
  quotas: new QuotaRepository(db, { maxBytes: config.QUOTA_MAX_BYTES, maxAssets: config.QUOTA_MAX_ASSETS }),
  store,
  buckets,
  webhooks: new WebhookRepository(db),
  webhookClient: new WebhookClient({ allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS }),
  cdn: cdnFromConfig(config, logger),
  accessRecorder,
  metadata: new MetadataRepository(db),
  search: new SearchRepository(db),
  catalog: new CatalogRepository(db),
  assetDocs: assetDocs.docs,
  workflows,
  starter,
  events,
  workflowStarts,
  deadLetters: new DeadLetterRepository(db),
  viewerCountry,
  logger,
  settings,
};
const app = createApp(deps);
starter.startSweeping(config.WORKFLOW_START_SWEEP_SECONDS * 1000);

const server = app.listen(config.PORT, () => {
  logger.info({ port: config.PORT }, 'API listening');
});

const shutdown = () => {
  logger.info('shutting down');
  server.close(() => {
    // The last batch of access counts is written before the pool closes.
    void Promise.all([accessRecorder.stop(), starter.stop()])
      .then(() => Promise.allSettled([db.destroy(), temporal.connection.close(), assetDocs.stop()]))
      .then(() => process.exit(0));
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
