import { log } from '@temporalio/activity';
import type { AssetRepository, TransitionRecord } from '../infra/adapters/asset-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';

/**
 * Writes the transition, then announces it to the owner's webhooks, if any. Publishing after the commit,
 * idempotently, means a retry after a crash in between still announces it, and nothing is announced that was not
 * recorded.
 */
export function recordTransitionActivity(deps: { assets: AssetRepository; events: EventPublisher }) {
  return async function recordTransition(t: TransitionRecord): Promise<void> {
    const recorded = await deps.assets.recordTransition(t);
    if (!recorded.found) {
      log.warn('no such asset: transition not recorded', { assetId: t.assetId, to: t.to });
      return;
    }
    if (recorded.subscribed) await deps.events.publish(t.eventId);
  };
}
