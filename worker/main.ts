import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { WORKER_SECTIONS, loadConfigOrExit } from '../shared/config';
import { createLogger } from '../shared/logger';
import { createDb, migrateToLatest } from '../shared/db/database';
import { connectTemporalClient, temporalSettings } from '../shared/temporal-connection';
import { createIoActivities, createMediaActivities } from '../activities';
import { createIoWorker, createMediaWorker } from './create-worker';
import { ensureSearchAttributes } from './search-attributes';
import { ensureSchedules } from './schedules';
import { workerAdapters } from './adapters';
import { WebhookEventPublisher } from '../shared/adapters/event-publisher';
import { WorkflowGateway } from '../shared/adapters/workflow-gateway';
import { WebhookRepository } from '../shared/adapters/webhook-repository';

const config = loadConfigOrExit(WORKER_SECTIONS);
if (config.WORKER_METRICS_ADDRESS) {
  // Must precede every connection: the SDK's runtime is installed once per process.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: config.WORKER_METRICS_ADDRESS } } },
  });
}
const logger = createLogger('assetline-worker', config.LOG_LEVEL);

const db = createDb(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
await migrateToLatest(db);

const settings = temporalSettings(config);
const client = await connectTemporalClient(settings);
await ensureSearchAttributes(client.connection, settings.namespace, logger);
await ensureSchedules(client, config.TEMPORAL_TASK_QUEUE, logger, config);

const connection = await NativeConnection.connect({
  address: settings.address,
  tls: settings.tls || settings.apiKey !== undefined ? {} : false,
  ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
});
const adapters = {
  ...workerAdapters(config, db),
  events: new WebhookEventPublisher(
    new WorkflowGateway(client, config.TEMPORAL_TASK_QUEUE),
    new WebhookRepository(db),
  ),
};
const setup = {
  connection,
  namespace: settings.namespace,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
};
const workers: Worker[] = [];
if (config.WORKER_ROLES.includes('io'))
  workers.push(await createIoWorker(setup, createIoActivities(adapters)));
if (config.WORKER_ROLES.includes('media')) {
  // What a predecessor killed mid-render left on this disk goes before new work arrives.
  await adapters.workspace.prune();
  workers.push(
    await createMediaWorker(
      setup,
      createMediaActivities({ ...adapters, store: adapters.readStore }),
      config.MEDIA_CONCURRENCY,
    ),
  );
}
logger.info(
  { taskQueue: config.TEMPORAL_TASK_QUEUE, roles: config.WORKER_ROLES, scanner: adapters.scanner.name },
  'worker running',
);
// run() resolves after SIGINT/SIGTERM once in-flight tasks have finished (the SDK installs the handlers).
await Promise.all(workers.map((w) => w.run()));
await Promise.allSettled([db.destroy(), connection.close(), client.connection.close()]);
