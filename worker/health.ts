import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NativeConnection, Worker } from '@temporalio/worker';

/** One Worker of this process and the polls it must keep open (a media worker runs no workflows). */
export interface PollingWorker {
  worker: Worker;
  pollsWorkflows: boolean;
}

export interface WorkerReadiness {
  ready: boolean;
  /** 'ok', or why the last call through the workers' connection failed. */
  temporal: string;
  workers: { taskQueue: string; state: string; workflowPoller: string; activityPoller: string }[];
}

/** What the worker is at the moment: filled in as start-up gets that far. */
export interface WorkerHealthSource {
  connection?: NativeConnection;
  workers: PollingWorker[];
}

const TEMPORAL_CHECK_MS = 2000;

/**
 * Ready when a call through the workers' own connection succeeds and every Worker is RUNNING with its pollers
 * polling. The pollers alone would not do: while the server is away the SDK keeps retrying its polls and still
 * reports them POLLING.
 */
export async function workerReadiness(source: WorkerHealthSource): Promise<WorkerReadiness> {
  let temporal = 'not connected yet';
  const { connection } = source;
  if (connection) {
    try {
      await connection.withDeadline(Date.now() + TEMPORAL_CHECK_MS, () =>
        connection.workflowService.getSystemInfo({}),
      );
      temporal = 'ok';
    } catch (err) {
      temporal = (err as Error).message;
    }
  }
  const workers = source.workers.map(({ worker, pollsWorkflows }) => {
    const status = worker.getStatus();
    return {
      taskQueue: worker.options.taskQueue,
      state: status.runState,
      workflowPoller: pollsWorkflows ? status.workflowPollerState : 'none',
      activityPoller: status.activityPollerState,
      ok:
        status.runState === 'RUNNING' &&
        status.activityPollerState === 'POLLING' &&
        (!pollsWorkflows || status.workflowPollerState === 'POLLING'),
    };
  });
  const polling = workers.length > 0 && workers.every((w) => w.ok);
  return {
    ready: temporal === 'ok' && polling,
    temporal,
    workers: workers.map(({ ok: _ok, ...w }) => w),
  };
}

export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /healthz`: the process answers (liveness). `GET /readyz`: 200 or 503 with Retry-After and the reasons
 * (readiness, see workerReadiness). `address` is host:port; an empty host listens on every interface.
 */
export async function startHealthServer(address: string, source: WorkerHealthSource): Promise<HealthServer> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator) || undefined;
  const port = Number(address.slice(separator + 1));
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    const route = new URL(req.url ?? '/', 'http://worker').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, { status: 'method not allowed' }, { allow: 'GET, HEAD' });
    } else if (route === '/healthz') {
      send(200, { status: 'ok' });
    } else if (route === '/readyz') {
      workerReadiness(source).then(
        (r) =>
          r.ready
            ? send(200, { status: 'ready', ...r })
            : send(503, { status: 'not ready', ...r }, { 'retry-after': '5' }),
        (err: Error) => send(503, { status: 'not ready', error: err.message }, { 'retry-after': '5' }),
      );
    } else {
      send(404, { status: 'not found' });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
