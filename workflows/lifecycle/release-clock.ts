import { condition, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { PublishAtAttribute, VisibilityAttribute, type ReleaseSchedule } from '../definitions';
import { release } from './activities';
import { gate } from './gates';
import type { RunState } from './run-state';

export const RELEASE_CLOCK_PATCH = 'release-clock';

/**
 * Scheduled release, beside the rest of the asset's life: the database holds the asset's visibility and schedule
 * (the API writes them), this clock only keeps the time. It sleeps on durable timers until the next instant (a warm-up
 * of the edge before publishAt, publishAt, unpublishAt) and then has the activity apply what is due; a change of
 * schedule (releaseScheduled) re-arms it. Timers survive restarts of workers and of Temporal alike, and a timer that
 * fires late still releases, once.
 */
export function startReleaseClock(run: RunState): void {
  // Runs recorded before the clock existed have no release to keep.
  if (!gate(RELEASE_CLOCK_PATCH)) return;
  void keepReleaseTime(run);
}

/** Operators find scheduled releases with `PublishAt > "…"` or `Visibility = "draft"` in the Temporal UI. */
async function keepReleaseTime(run: RunState): Promise<void> {
  const { requests } = run;
  const warmMs = (run.input.releaseWarmSeconds ?? 0) * 1000;
  let warmed: string | null = null;
  // PublishAt is only ever removed once it was set: an unset attribute needs no removal.
  let marked: string | null = null;
  const mark = (s: ReleaseSchedule) => {
    upsertSearchAttributes([
      { key: VisibilityAttribute, value: s.visibility },
      ...(s.publishAt || marked
        ? [{ key: PublishAtAttribute, value: s.publishAt ? new Date(s.publishAt) : null }]
        : []),
    ]);
    marked = s.publishAt;
  };
  if (run.release) mark(run.release);
  for (;;) {
    const schedule = run.release;
    const next = schedule && nextInstant(schedule, warmMs, warmed);
    const changed = next
      ? await condition(() => requests.release !== undefined, Math.max(1, next.at - Date.now()))
      : (await condition(() => requests.release !== undefined), true);
    if (changed) {
      run.release = requests.release!;
      requests.release = undefined;
      mark(run.release);
      continue;
    }
    if (!schedule || !next) continue;
    if (next.kind === 'warm') {
      await release.warm({ assetId: run.input.assetId });
      warmed = schedule.publishAt;
      continue;
    }
    const after = await release.advance({ assetId: run.input.assetId, due: new Date(next.at).toISOString() });
    if (!after) return;
    // The row changed under us (the owner's edit, whose signal is on its way) or the worker's clock is behind the
    // server's timer: nothing was due yet. Look again shortly rather than spin.
    if (sameSchedule(after, schedule)) await sleep('1s');
    run.release = after;
    mark(after);
  }
}

interface Instant {
  kind: 'warm' | 'due';
  at: number;
}

function nextInstant(s: ReleaseSchedule, warmMs: number, warmed: string | null): Instant | undefined {
  const instants: Instant[] = [];
  if (s.publishAt) {
    const publishAt = Date.parse(s.publishAt);
    // A lead time that has already begun warms at once; one whose release has come is not warmed at all.
    if (warmMs > 0 && warmed !== s.publishAt && publishAt > Date.now()) {
      instants.push({ kind: 'warm', at: publishAt - warmMs });
    }
    instants.push({ kind: 'due', at: publishAt });
  }
  if (s.unpublishAt) instants.push({ kind: 'due', at: Date.parse(s.unpublishAt) });
  return instants.sort((a, b) => a.at - b.at)[0];
}

const sameSchedule = (a: ReleaseSchedule, b: ReleaseSchedule) =>
  a.visibility === b.visibility && a.publishAt === b.publishAt && a.unpublishAt === b.unpublishAt;
