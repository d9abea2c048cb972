import { ActivityFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { IoActivities } from '../activities';

const bookkeeping = proxyActivities<IoActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

// A receiver that is down is retried with backoff for a day; after that the delivery is marked failed. The
// activity's own request timeout (10 s) is well inside startToClose, so a hung receiver costs one attempt.
const delivery = proxyActivities<IoActivities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m' },
});

export interface FanoutResult {
  delivered: number;
  skipped: number;
  failed: number;
}

/** Delivers one asset event to every webhook of the asset's owner, each on its own retry schedule. */
export async function webhookFanout(eventId: string): Promise<FanoutResult> {
  const targets = await bookkeeping.listWebhookTargets({ eventId });
  const outcomes = await Promise.all(
    targets.map(async ({ webhookId }) => {
      try {
        const result = await delivery.deliverWebhook({ webhookId, eventId });
        return result.status;
      } catch (err) {
        // Out of time, the failure carries the last attempt's error, which the delivery row already shows.
        const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
        const outOfTime =
          (err instanceof ActivityFailure && err.retryState === RetryState.TIMEOUT) ||
          cause instanceof TimeoutFailure;
        const reason = outOfTime
          ? 'gave up: no successful delivery within 24 h'
          : `gave up: ${cause instanceof Error ? cause.message : String(cause)}`;
        await bookkeeping.abandonWebhookDelivery({ webhookId, eventId, reason });
        return 'failed' as const;
      }
    }),
  );
  return {
    delivered: outcomes.filter((o) => o === 'delivered').length,
    skipped: outcomes.filter((o) => o === 'skipped').length,
    failed: outcomes.filter((o) => o === 'failed').length,
  };
}
