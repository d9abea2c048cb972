import { API_SECTIONS, loadConfigOrExit } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createDb, migrateToLatest } from '../shared/db/database';
import { AssetRepository } from '../shared/adapters/asset-repository';
import { BlobRepository } from '../shared/adapters/blob-repository';
import { AccessRepository } from '../shared/adapters/access-repository';
import { S3ObjectStore } from '../shared/adapters/s3-object-store';
import { s3Settings } from '../shared/adapters/s3-settings';
import { connectTemporalClient, temporalSettings } from '../shared/temporal-connection';
import { createApp } from './app';

const config = loadConfigOrExit(API_SECTIONS);
const logger = createLogger('assetline-api', config.LOG_LEVEL);

const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
await migrateToLatest(db);
const temporal = await connectTemporalClient(temporalSettings(config));
const app = createApp({
  assets: new AssetRepository(db),
  blobs: new BlobRepository(db),
  acl: new AccessRepository(db),
  store: new S3ObjectStore(s3Settings(config)),
  temporal,
  logger,
  settings: {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    jwtSecret: config.AUTH_JWT_SECRET,
    uploadTtlSeconds: config.UPLOAD_URL_TTL_SECONDS,
    maxUploadBytes: config.MAX_UPLOAD_BYTES,
    jsonBodyLimitBytes: config.JSON_BODY_LIMIT_BYTES,
    storageEventsSecret: config.STORAGE_EVENTS_SECRET,
  },
});

const server = app.listen(config.PORT, () => {
  logger.info({ port: config.PORT }, 'API listening');
});

const shutdown = () => {
  logger.info('shutting down');
  server.close(() => {
    void Promise.allSettled([db.destroy(), temporal.connection.close()]).then(() => process.exit(0));
  });
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
