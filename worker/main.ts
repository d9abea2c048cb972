import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { WORKER_SECTIONS, loadConfigOrExit } from '../infra/config';
import { createLogger } from '../infra/logger';
import { createDb, migrateToLatest } from '../infra/db/database';
import { connectTemporalClient, temporalSettings } from '../infra/temporal-connection';
import { createIoActivities, createMediaActivities } from '../activities';
import { createIoWorker, createMediaWorker } from './create-worker';
import { ensureSearchAttributes } from './search-attributes';
import { ensureSchedules } from './schedules';
import { workerAdapters } from './adapters';
import { WebhookEventPublisher } from '../infra/adapters/event-publisher';
import { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { WebhookRepository } from '../infra/adapters/webhook-repository';
import { startHealthServer, type WorkerHealthSource } from './health';

const config = loadConfigOrExit(WORKER_SECTIONS);
if (config.WORKER_METRICS_ADDRESS) {
  // Must precede every connection: the SDK's runtime is installed once per process.
  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: config.WORKER_METRICS_ADDRESS } } },
  });
}
const logger = createLogger('assetline-worker', config.LOG_LEVEL);
// Up before the slow start (migrations, schedules): alive at once, ready only once every task queue is polled.
const health: WorkerHealthSource = { workers: [] };
const healthServer = config.WORKER_HEALTH_ADDRESS
  ? await startHealthServer(config.WORKER_HEALTH_ADDRESS, health)
  : undefined;

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
if (config.WORKER_ROLES.includes('io')) {
  const worker = await createIoWorker(setup, createIoActivities(adapters));
  workers.push(worker);
  health.workers.push({ worker, pollsWorkflows: true });
}
if (config.WORKER_ROLES.includes('media')) {
  // What a predecessor killed mid-render left on this disk goes before new work arrives.
  await adapters.workspace.prune();
  const worker = await createMediaWorker(
    setup,
    createMediaActivities({ ...adapters, store: adapters.readStore }),
    config.MEDIA_CONCURRENCY,
  );
  workers.push(worker);
  health.workers.push({ worker, pollsWorkflows: false });
}
health.connection = connection;
logger.info(
  {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    roles: config.WORKER_ROLES,
    scanner: adapters.scanner.name,
    health: healthServer?.url,
  },
  'worker running',
);
// run() resolves after SIGINT/SIGTERM once in-flight tasks have finished (the SDK installs the handlers); /readyz
// answers 503 from the signal on, as the Workers leave RUNNING.
await Promise.all(workers.map((w) => w.run()));
await Promise.allSettled([
  adapters.decoders.close(),
  adapters.scanExclusion?.close(),
  db.destroy(),
  connection.close(),
  client.connection.close(),
  healthServer?.close(),
]);
