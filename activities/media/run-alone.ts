import { ApplicationFailure, Context } from '@temporalio/activity';
import { GateBusy, type SuspectGate } from './suspect-gate';
import { keepBeating } from '../heartbeat';

/**
 * Runs a media activity through the worker's gate: an attempt the workflow marks as lost before (lostBefore, set by
 * workflows/stage-guard.ts) runs alone on this worker, heartbeating while the others finish; others arriving
 * meanwhile fail with a retryable WorkerBusy, which the server retries with its backoff (never counted as a loss).
 */
export function runAloneWhenSuspect<I extends object, R>(
  gate: SuspectGate,
  activity: (input: I) => Promise<R>,
): (input: I & { lostBefore?: number }) => Promise<R> {
  return async (input) => {
    const suspect = (input.lostBefore ?? 0) > 0;
    let release: () => void;
    try {
      release = await keepBeating(() => gate.enter(suspect, Context.current().cancellationSignal));
    } catch (err) {
      if (err instanceof GateBusy) throw ApplicationFailure.retryable(err.message, 'WorkerBusy');
      throw err;
    }
    try {
      return await activity(input);
    } finally {
      release();
    }
  };
}
