/**
 * `npx tsx bench/step-cost.ts [--workflows N] [--steps N] [--rounds N]`: what one Temporal step costs in CPU, with no
 * work in it, on the dev server the platform runs: a workflow run started and finished, a local activity, a remote
 * activity (with the eager dispatch the platform enables, and without). The worker runs in this process, as the
 * platform's worker hosts its workflows. N workflows at once run N steps each; a step's cost is the difference from
 * the same workflows with no steps, divided by their steps. The median of the rounds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { startTemporalDevServer } from '../devstack';
import { cpuByPart } from './cpu';
import { median } from './stats';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const WORKFLOWS = arg('workflows', 50);
const STEPS = arg('steps', 20);
const ROUNDS = arg('rounds', 3);

Runtime.install({ logger: new DefaultLogger('WARN') });
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetline-step-cost-'));
const workflowsPath = fileURLToPath(new URL('./step-cost/workflow.ts', import.meta.url));

/** This process (the worker and the client) and the dev server it started, by cpuByPart's names. */
const cpuNow = (): Cost => {
  const parts = cpuByPart({});
  return { worker: parts['load generator'] ?? 0, server: parts.temporal ?? 0 };
};

interface Cost {
  worker: number;
  server: number;
}

async function measure(eager: boolean): Promise<Record<string, Cost>> {
  const server = await startTemporalDevServer({
    searchAttributes: {},
    logFile: path.join(workDir, `temporal-${eager ? 'eager' : 'plain'}.log`),
    dynamicConfig: { 'system.enableActivityEagerExecution': eager },
  });
  const taskQueue = `steps-${randomUUID()}`;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue,
    workflowsPath,
    activities: { noop: async (i: number) => i },
  });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const batch = (count: number, kind: 'local' | 'remote') =>
    Promise.all(
      Array.from({ length: WORKFLOWS }, () =>
        client.workflow.execute('steps', { taskQueue, workflowId: randomUUID(), args: [count, kind] }),
      ),
    );
  const cost = async (count: number, kind: 'local' | 'remote'): Promise<Cost> => {
    const before = cpuNow();
    await batch(count, kind);
    const after = cpuNow();
    return { worker: after.worker - before.worker, server: after.server - before.server };
  };
  const rounds: Record<string, Cost>[] = [];
  try {
    await worker.runUntil(async () => {
      await batch(3, 'local'); // warm-up: the bundle, the caches, the JIT
      await batch(3, 'remote');
      for (let r = 0; r < ROUNDS; r++) {
        const bare = await cost(0, 'local');
        const local = await cost(STEPS, 'local');
        const remote = await cost(STEPS, 'remote');
        const per = (c: Cost) => ({
          worker: (c.worker - bare.worker) / (WORKFLOWS * STEPS),
          server: (c.server - bare.server) / (WORKFLOWS * STEPS),
        });
        rounds.push({
          workflow: { worker: bare.worker / WORKFLOWS, server: bare.server / WORKFLOWS },
          local: per(local),
          remote: per(remote),
        });
      }
    });
  } finally {
    await client.connection.close();
    await server.stop();
  }
  const out: Record<string, Cost> = {};
  for (const k of Object.keys(rounds[0]!)) {
    out[k] = {
      worker: Number(median(rounds.map((r) => r[k]!.worker)).toFixed(2)),
      server: Number(median(rounds.map((r) => r[k]!.server)).toFixed(2)),
    };
  }
  return out;
}

const eager = await measure(true);
const plain = await measure(false);
console.log(
  JSON.stringify(
    {
      workflows: WORKFLOWS,
      stepsEach: STEPS,
      rounds: ROUNDS,
      'CPU ms, a workflow run started and finished': eager.workflow,
      'CPU ms per local activity': eager.local,
      'CPU ms per remote activity, eager dispatch (as the platform runs)': eager.remote,
      'CPU ms per remote activity, no eager dispatch': plain.remote,
    },
    null,
    2,
  ),
);
fs.rmSync(workDir, { recursive: true, force: true });
