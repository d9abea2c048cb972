import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';

export interface ActivityRun {
  type: string;
  /** Scheduled → started: how long the task waited for a worker. */
  queuedMs: number;
  /** Started → completed: the activity's own work. */
  runMs: number;
  scheduledAt: number;
  /** A local activity (see localActivityRun). */
  local?: boolean;
}

type Marker = { markerName?: string | null };

/**
 * A local activity, from the marker its workflow task recorded. Its own duration is not there (the marker's times are
 * the workflow's clock), so it counts, with runMs 0, as part of the orchestration.
 */
function localActivityRun(marker: Marker | null | undefined, at: number): ActivityRun | undefined {
  if (marker?.markerName !== 'core_local_activity') return undefined;
  return { type: 'local', local: true, queuedMs: 0, runMs: 0, scheduledAt: at };
}

/** Every completed activity of a workflow run, remote and local, in order, from its history. */
export async function activityRuns(temporalAddress: string, workflowId: string): Promise<ActivityRun[]> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, { type: string; at: number }>();
    const started = new Map<string, number>();
    const runs: ActivityRun[] = [];
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      const at = tsToMs(event.eventTime!);
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled.set(id, { type, at });
      const s = event.activityTaskStartedEventAttributes;
      if (s) started.set(String(s.scheduledEventId), at);
      const local = localActivityRun(event.markerRecordedEventAttributes, at);
      if (local) runs.push(local);
      const c = event.activityTaskCompletedEventAttributes;
      const sched = c && scheduled.get(String(c.scheduledEventId));
      const start = c && started.get(String(c.scheduledEventId));
      if (sched && start !== undefined && start !== null) {
        runs.push({ type: sched.type, queuedMs: start - sched.at, runMs: at - start, scheduledAt: sched.at });
      }
    }
    return runs;
  } finally {
    await connection.close();
  }
}

/**
 * Where a run's time went: each remote activity type's own work, and everything else (scheduling, workflow tasks,
 * and the local activities: bookkeeping, and small content's hashing, scan, publishing and CDN registration).
 */
export function breakdown(runs: ActivityRun[], totalMs: number): Record<string, number> {
  const byType: Record<string, number> = {};
  const remote = runs.filter((r) => !r.local);
  for (const r of remote) byType[r.type] = (byType[r.type] ?? 0) + r.runMs;
  const work = Object.values(byType).reduce((a, b) => a + b, 0);
  return {
    ...byType,
    activities: remote.length,
    localActivities: runs.length - remote.length,
    orchestrationMs: totalMs - work,
  };
}
