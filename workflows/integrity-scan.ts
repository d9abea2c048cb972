import { ActivityFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { IoActivities } from '../activities';

const bookkeeping = proxyActivities<IoActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
});

// Hashing a large blob takes a while; heartbeats show it is alive. A blob that keeps failing (storage down) is
// left for a later run rather than holding this one.
const checking = proxyActivities<IoActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 5 },
});

export interface IntegrityScanInput {
  /** Checking stops starting new blobs after this long; one batch is always checked, so every run progresses. */
  budgetSeconds: number;
  /** Blobs picked per query. */
  batchSize: number;
}

export interface IntegrityScanResult {
  checked: number;
  ok: number;
  repaired: number;
  corrupt: number;
  /** Blobs whose check failed (storage unreachable); the next run picks them first. */
  errors: number;
  /** Every ready blob has been checked since this run began. */
  complete: boolean;
}

/**
 * Re-hashes blobs, least recently checked first, within a time budget. That order is the cursor: the next run
 * (the schedule's) carries on where this one stopped, so budget-limited runs together cover every blob.
 */
export async function integrityScan(input: IntegrityScanInput): Promise<IntegrityScanResult> {
  const startedAt = Date.now();
  const deadline = startedAt + Math.max(0, input.budgetSeconds) * 1000;
  const batchSize = Math.max(1, Math.floor(input.batchSize));
  const scanId = workflowInfo().runId;
  const result: IntegrityScanResult = {
    checked: 0,
    ok: 0,
    repaired: 0,
    corrupt: 0,
    errors: 0,
    complete: false,
  };
  const failedChecks: string[] = [];
  do {
    const due = await bookkeeping.pickBlobsForIntegrity({
      limit: batchSize,
      checkedBefore: new Date(startedAt).toISOString(),
      exclude: failedChecks,
    });
    if (due.length === 0) {
      result.complete = true;
      break;
    }
    for (const sha256 of due) {
      try {
        const outcome = await checking.checkBlobIntegrity({ sha256, scanId });
        if (outcome.status === 'skipped') continue;
        result.checked += 1;
        if (outcome.status === 'ok') result.ok += 1;
        else if (outcome.status === 'repaired') result.repaired += 1;
        else result.corrupt += 1;
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('integrity check failed; left for the next run', { sha256, error: String(err.cause) });
        failedChecks.push(sha256);
        result.errors += 1;
      }
    }
  } while (Date.now() < deadline);
  return result;
}
