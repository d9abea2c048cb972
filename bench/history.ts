import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';

export interface ActivityRun {
  type: string;
  /** Scheduled → started: how long the task waited for a worker. */
  queuedMs: number;
  /** Started → completed: the activity's own work. */
  runMs: number;
  scheduledAt: number;
}

type Marker = {
  markerName?: string | null;
  details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null;
};
const seconds = (t: { seconds?: number | string; nanos?: number } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : undefined;

/**
 * A local activity's run from the marker its workflow task recorded (Core's marker data: the type, when it was first
 * scheduled and when it completed, retries included), named `<type> (local)`.
 */
function localActivityRun(marker: Marker | null | undefined): ActivityRun | undefined {
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const raw = marker.details?.data?.payloads?.[0]?.data;
  if (!raw) return undefined;
  const data = JSON.parse(Buffer.from(raw).toString('utf8')) as {
    activity_type: string;
    complete_time?: { seconds?: number | string; nanos?: number };
    original_schedule_time?: { seconds?: number | string; nanos?: number };
  };
  const from = seconds(data.original_schedule_time);
  const to = seconds(data.complete_time);
  if (from === undefined || to === undefined) return undefined;
  return { type: `${data.activity_type} (local)`, queuedMs: 0, runMs: to - from, scheduledAt: from };
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
      const local = localActivityRun(event.markerRecordedEventAttributes);
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
 * Where a run's time went: each activity type's own work (local ones included, bookkeeping too), and everything else
 * (scheduling, workflow tasks).
 */
export function breakdown(runs: ActivityRun[], totalMs: number): Record<string, number> {
  const byType: Record<string, number> = {};
  for (const r of runs) byType[r.type] = (byType[r.type] ?? 0) + r.runMs;
  const work = Object.values(byType).reduce((a, b) => a + b, 0);
  return { ...byType, activities: runs.length, orchestrationMs: totalMs - work };
}
