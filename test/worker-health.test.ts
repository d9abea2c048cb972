import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  ASSETLINE_SEARCH_ATTRIBUTES,
  freePort,
  startAssetline,
  startTemporalDevServer,
  type AssetlineProcess,
  type TemporalDevServerHandle,
} from '../devstack';
import { startHealthServer, type HealthServer, type WorkerReadiness } from '../worker/health';
import { DELIVERY_SECRET, freshDatabase, freshStore, s3SettingsFor, uniqueName } from './helpers/stack';
import { mediaTaskQueue } from '../workflows/definitions';

interface Probe {
  status: number;
  retryAfter: string | null;
  body: WorkerReadiness & { status: string };
}

async function get(url: string): Promise<Probe> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Probe['body'],
  };
}

/** Polls until `accept` holds; the last answer is in the error otherwise. */
async function until<T>(what: string, probe: () => Promise<T>, accept: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (accept(value)) return value;
      last = value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('worker/main.ts health and metrics endpoints', () => {
  const dir = path.join(inject('stack').tmpDir, uniqueName('worker-health'));
  const taskQueue = uniqueName('health');
  let temporal: TemporalDevServerHandle;
  let temporalPort: number;
  let worker: AssetlineProcess;
  let healthUrl: string;
  let metricsUrl: string;

  const startTemporal = () =>
    startTemporalDevServer({
      port: temporalPort,
      searchAttributes: ASSETLINE_SEARCH_ATTRIBUTES,
      logFile: path.join(dir, 'temporal.log'),
    });

  beforeAll(async () => {
    temporalPort = await freePort();
    const [{ db, url: databaseUrl }, store, server] = await Promise.all([
      freshDatabase(),
      freshStore(),
      startTemporal(),
    ]);
    await db.destroy();
    temporal = server;
    const s3 = s3SettingsFor(store.bucket);
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    healthUrl = `http://127.0.0.1:${healthPort}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    worker = await startAssetline('worker', {
      env: {
        DATABASE_URL: databaseUrl,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.bucket,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        DELIVERY_SIGNING_SECRET: DELIVERY_SECRET,
        WORKFLOW_BUNDLE_PATH: inject('stack').workflowBundlePath,
        WORK_DIR: path.join(dir, 'work'),
        WORKER_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        MEDIA_CONCURRENCY: '1',
      },
      logFile: path.join(dir, 'worker.log'),
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await temporal?.stop();
  });

  it('is alive, and ready once both task queues are polled', async () => {
    expect((await get(`${healthUrl}/healthz`)).status).toBe(200);
    const ready = await until(
      'readyz',
      () => get(`${healthUrl}/readyz`),
      (p) => p.status === 200,
    );
    expect(ready.body).toMatchObject({ status: 'ready', ready: true, temporal: 'ok' });
    expect(ready.body.workers).toEqual([
      { taskQueue, state: 'RUNNING', workflowPoller: 'POLLING', activityPoller: 'POLLING' },
      {
        taskQueue: mediaTaskQueue(taskQueue),
        state: 'RUNNING',
        workflowPoller: 'none',
        activityPoller: 'POLLING',
      },
    ]);
    expect((await fetch(`${healthUrl}/nope`)).status).toBe(404);
  });

  it("serves the Temporal SDK's Prometheus metrics for its task queues", async () => {
    // Each queue's polls, counted per task queue (a counter appears with its first poll).
    const polls = [
      ['PollWorkflowTaskQueue', taskQueue],
      ['PollActivityTaskQueue', taskQueue],
      ['PollActivityTaskQueue', mediaTaskQueue(taskQueue)],
    ].map(
      ([operation, queue]) =>
        new RegExp(
          `^temporal_long_request\\{[^}]*operation="${operation}"[^}]*task_queue="${queue}"\\} [1-9]`,
          'm',
        ),
    );
    const text = await until(
      'metrics',
      async () => (await fetch(metricsUrl)).text(),
      (t) => polls.every((p) => p.test(t)),
    );
    const slots = text
      .split('\n')
      .filter((l) => l.startsWith('temporal_worker_task_slots_available{'))
      .filter((l) => l.includes(`task_queue="${taskQueue}"`) && l.includes('worker_type="ActivityWorker"'));
    expect(slots, text.slice(0, 2000)).toHaveLength(1);
    // createIoWorker: 50 activity slots, none taken.
    expect(Number(slots[0]!.split(' ').at(-1))).toBe(50);
  });

  it('is not ready while the Temporal server is away, and ready again when it is back', async () => {
    await temporal.stop();
    const down = await until(
      'readyz',
      () => get(`${healthUrl}/readyz`),
      (p) => p.status === 503,
    );
    expect(down.body.status).toBe('not ready');
    expect(down.body.temporal).not.toBe('ok');
    expect((await get(`${healthUrl}/healthz`)).status).toBe(200);

    temporal = await startTemporal();
    const up = await until(
      'readyz',
      () => get(`${healthUrl}/readyz`),
      (p) => p.status === 200,
    );
    expect(up.body.temporal).toBe('ok');
  });
});

describe('startHealthServer with a real Worker', () => {
  let connection: NativeConnection;
  let health: HealthServer;

  beforeAll(async () => {
    // Quiet the Rust core's logs (the shutdown below is expected).
    Runtime.install({
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: (m: string) => console.error(m),
      },
    });
    connection = await NativeConnection.connect({ address: inject('stack').temporalAddress });
  });

  afterAll(async () => {
    await health?.close();
    await connection?.close();
  });

  it('answers 503 from the moment the worker starts shutting down', async () => {
    const taskQueue = uniqueName('health-inproc');
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
      activities: { noop: async () => undefined },
    });
    const source = { connection, workers: [{ worker, pollsWorkflows: true }] };
    health = await startHealthServer(`127.0.0.1:${await freePort()}`, source);

    const before = await get(`${health.url}/readyz`);
    expect(before.status).toBe(503); // created, not yet running
    expect(before.body.workers[0]!.state).toBe('INITIALIZED');

    const running = worker.run();
    await until(
      'readyz',
      () => get(`${health.url}/readyz`),
      (p) => p.status === 200,
    );

    worker.shutdown();
    const stopping = await get(`${health.url}/readyz`);
    expect(stopping.status).toBe(503);
    expect(stopping.retryAfter).toBe('5');
    expect(['STOPPING', 'DRAINING', 'DRAINED', 'STOPPED']).toContain(stopping.body.workers[0]!.state);
    await running;
    const stopped = await get(`${health.url}/readyz`);
    expect(stopped.status).toBe(503);
    expect(stopped.body.workers[0]!.state).toBe('STOPPED');
    expect((await get(`${health.url}/healthz`)).status).toBe(200);
  });
});
