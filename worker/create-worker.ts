import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { LifecycleActivities } from '../activities';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: LifecycleActivities;
  /** A pre-built bundle (tests build it once for all files); otherwise the worker bundles workflows/. */
  workflowBundle?: { codePath: string };
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createAssetWorker(setup: WorkerSetup): Promise<Worker> {
  const options: WorkerOptions = {
    connection: setup.connection,
    namespace: setup.namespace,
    taskQueue: setup.taskQueue,
    activities: setup.activities,
    maxConcurrentActivityTaskExecutions: setup.maxConcurrentActivityTaskExecutions ?? 20,
    ...(setup.workflowBundle ? { workflowBundle: setup.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  };
  return Worker.create(options);
}
