import fs from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { OrphanSweepInput, SweepReport } from '../../workflows/orphan-sweep';

/** Where test/replay.test.ts finds the histories earlier versions of the workflows recorded. */
export const HISTORIES_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'histories');

/** A test's name as a file name: lower case, runs of anything else as one dash, at most `max` characters. */
export const historySlug = (name: string, max = 60) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, max);

/**
 * With RECORD_HISTORIES=<version label>, saves a run's history as <label>/<stem>[-<index>].binpb for
 * test/replay.test.ts: later code must replay it, or runs under way would break on deploy. Without it, nothing.
 */
export async function recordHistory(handle: WorkflowHandle, stem: string, index = 0): Promise<void> {
  const label = process.env.RECORD_HISTORIES;
  if (!label) return;
  const history = proto.temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish();
  await fs.mkdir(path.join(HISTORIES_DIR, label), { recursive: true });
  await fs.writeFile(path.join(HISTORIES_DIR, label, `${stem}${index ? `-${index}` : ''}.binpb`), history);
}

/**
 * Runs of the orphan sweep on the platform's task queue, each with its history recorded as `<name>-<n>`: grace 0 and
 * pages of 2 unless the run says otherwise, so every page boundary is crossed.
 */
export function orphanSweeps(
  platform: { temporal: Client; taskQueue: string },
  name: string,
  defaults: Partial<OrphanSweepInput>,
): (input?: Partial<OrphanSweepInput>) => Promise<SweepReport> {
  let runs = 0;
  return async (input = {}) => {
    const handle = await platform.temporal.workflow.start('orphanSweep', {
      taskQueue: platform.taskQueue,
      workflowId: `${name}-${randomUUID()}`,
      args: [{ graceSeconds: 0, multipartOlderThanSeconds: 0, pageSize: 2, ...defaults, ...input }],
    });
    const report = (await handle.result()) as SweepReport;
    await recordHistory(handle, name, ++runs);
    return report;
  };
}
