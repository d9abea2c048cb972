import { Context } from '@temporalio/activity';

/**
 * Runs `work` while telling Temporal every few seconds that this worker is alive and on it. With a short heartbeat
 * timeout, a worker killed under the activity (or a task lost while the Temporal server restarted) is retried within
 * that timeout, however long the work itself may legitimately take.
 */
export async function keepBeating<T>(work: () => Promise<T>, everyMs = 5_000): Promise<T> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
