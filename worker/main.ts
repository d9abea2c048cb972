import { NativeConnection } from '@temporalio/worker';
import { WORKER_SECTIONS, loadConfigOrExit } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createDb, migrateToLatest } from '../shared/db/database';
import { AssetRepository } from '../shared/adapters/asset-repository';
import { S3ObjectStore } from '../shared/adapters/s3-object-store';
import { s3Settings } from '../shared/adapters/s3-settings';
import { connectTemporalClient, temporalSettings } from '../shared/temporal-connection';
import { createActivities } from '../activities';
import { createAssetWorker } from './create-worker';
import { ensureSearchAttributes } from './search-attributes';

const config = loadConfigOrExit(WORKER_SECTIONS);
const logger = createLogger('assetline-worker', config.LOG_LEVEL);

const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
await migrateToLatest(db);

const settings = temporalSettings(config);
const client = await connectTemporalClient(settings);
await ensureSearchAttributes(client.connection, settings.namespace, logger);
await client.connection.close();

const connection = await NativeConnection.connect({
  address: settings.address,
  tls: settings.tls || settings.apiKey !== undefined ? {} : false,
  ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
});
const worker = await createAssetWorker({
  connection,
  namespace: settings.namespace,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  activities: createActivities({
    assets: new AssetRepository(db),
    store: new S3ObjectStore(s3Settings(config)),
  }),
});
logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
// run() resolves after SIGINT/SIGTERM once in-flight tasks have finished (the SDK installs the handlers).
await worker.run();
await Promise.allSettled([db.destroy(), connection.close()]);
