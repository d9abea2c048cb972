import { Context } from '@temporalio/activity';
import type { WorkControl } from '../../shared/media/types';

/**
 * Progress for long media work: the latest percent goes out with a heartbeat at most every second, and a
 * heartbeat at least every 5 s even without progress, so cancellation (delivered with heartbeat responses) is seen
 * and the child process killed.
 */
export async function withProgress<T>(
  work: (control: WorkControl) => Promise<T>,
  stallMs?: number,
): Promise<T> {
  const ctx = Context.current();
  let percent = 0;
  let lastBeat = 0;
  const beat = () => {
    lastBeat = Date.now();
    ctx.heartbeat({ percent });
  };
  const timer = setInterval(beat, 5_000);
  try {
    return await work({
      signal: ctx.cancellationSignal,
      ...(stallMs ? { stallMs } : {}),
      onProgress: (p) => {
        percent = Math.max(percent, Math.min(100, Math.round(p)));
        if (Date.now() - lastBeat > 1_000) beat();
      },
    });
  } finally {
    clearInterval(timer);
  }
}
