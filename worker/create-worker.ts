import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { IoActivities, MediaActivities } from '../activities';
import { mediaTaskQueue } from '../workflows/definitions';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A pre-built bundle (tests build it once for all files); otherwise the worker bundles workflows/. */
  workflowBundle?: { codePath: string };
}

/** Workflows and light I/O activities: many at once, they mostly wait. */
export async function createIoWorker(setup: WorkerSetup, activities: IoActivities): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities,
    maxConcurrentActivityTaskExecutions: 50,
    // Hashing, scanning and tier moves have a 20 s heartbeat timeout; beats sent at most every 16 s (the default
    // for that timeout) would leave little margin on a busy machine.
    maxHeartbeatThrottleInterval: '5s',
    defaultHeartbeatThrottleInterval: '5s',
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}

/** sharp, ffmpeg and poppler: as many at once as the machine has cores for, on a queue of their own. */
export async function createMediaWorker(
  setup: WorkerSetup,
  activities: MediaActivities,
  concurrency: number,
): Promise<Worker> {
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: mediaTaskQueue(setup.taskQueue),
    activities,
    maxConcurrentActivityTaskExecutions: concurrency,
    // Cancellation reaches an activity with a heartbeat's answer; beating often lets a delete kill ffmpeg promptly.
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
  });
}
