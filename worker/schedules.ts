import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { WorkerConfig } from '../infra/config';
import type { Logger } from '../infra/logger';
import type { OrphanSweepInput } from '../workflows/orphan-sweep';
import { WORKFLOW_TYPES } from '../workflows/definitions';

/** A recurring workflow run by a Temporal Schedule. */
export interface ScheduleSpec {
  scheduleId: string;
  workflowType: string;
  every: Duration;
  args: unknown[];
}

/** The configuration the schedules read; a new job adds its variables here. */
export type ScheduleConfig = Pick<
  WorkerConfig,
  | 'INTEGRITY_SCAN_INTERVAL'
  | 'INTEGRITY_SCAN_BUDGET_SECONDS'
  | 'ORPHAN_SWEEP_INTERVAL'
  | 'ORPHAN_GRACE_SECONDS'
  | 'UPLOAD_URL_TTL_SECONDS'
>;

export const SCHEDULE_DEFAULTS: ScheduleConfig = {
  INTEGRITY_SCAN_INTERVAL: '6h',
  INTEGRITY_SCAN_BUDGET_SECONDS: 600,
  ORPHAN_SWEEP_INTERVAL: '1h',
  ORPHAN_GRACE_SECONDS: 3600,
  UPLOAD_URL_TTL_SECONDS: 900,
};

/** Every schedule the platform keeps; a new periodic job adds one entry here. */
export function scheduleSpecs(config: ScheduleConfig): ScheduleSpec[] {
  return [
    {
      scheduleId: 'assetline-integrity-scan',
      workflowType: WORKFLOW_TYPES.integrityScan,
      every: config.INTEGRITY_SCAN_INTERVAL as Duration,
      args: [{ budgetSeconds: config.INTEGRITY_SCAN_BUDGET_SECONDS, batchSize: 50 }],
    },
    {
      scheduleId: 'assetline-orphan-sweep',
      workflowType: WORKFLOW_TYPES.orphanSweep,
      every: config.ORPHAN_SWEEP_INTERVAL as Duration,
      args: [
        {
          graceSeconds: config.ORPHAN_GRACE_SECONDS,
          // A multipart upload can legitimately stay open as long as its URLs are valid.
          multipartOlderThanSeconds: config.UPLOAD_URL_TTL_SECONDS + config.ORPHAN_GRACE_SECONDS,
        } satisfies OrphanSweepInput,
      ],
    },
  ];
}

/**
 * Creates each schedule, or brings an existing one up to date, so every worker start leaves them matching the
 * configuration; workers starting together are fine (one creates, the others update).
 */
export async function ensureSchedules(
  client: Client,
  taskQueue: string,
  logger: Logger,
  config: ScheduleConfig = SCHEDULE_DEFAULTS,
): Promise<void> {
  for (const spec of scheduleSpecs(config)) {
    const options = {
      spec: { intervals: [{ every: spec.every }] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: spec.workflowType,
        args: spec.args,
        taskQueue,
        workflowId: spec.scheduleId,
      },
      // A run still going when the next is due (a huge backlog) is not doubled: they share one cursor.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    };
    try {
      await client.schedule.create({ scheduleId: spec.scheduleId, ...options });
      logger.info({ scheduleId: spec.scheduleId, every: spec.every }, 'created schedule');
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(spec.scheduleId).update((previous) => ({ ...previous, ...options }));
    }
  }
}
