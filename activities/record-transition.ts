import { log } from '@temporalio/activity';
import type { AssetRepository, TransitionRecord } from '../infra/adapters/asset-repository';
import type { EventPublisher } from '../infra/adapters/event-publisher';

/**
 * Writes the transition, then announces it. Publishing after the commit, idempotently, means a retry after a crash
 * in between still announces it, and nothing is announced that was not recorded.
 */
export function recordTransitionActivity(deps: { assets: AssetRepository; events: EventPublisher }) {
  return async function recordTransition(t: TransitionRecord): Promise<void> {
    if (!(await deps.assets.recordTransition(t))) {
      log.warn('no such asset: transition not recorded', { assetId: t.assetId, to: t.to });
      return;
    }
    await deps.events.publish(t.eventId);
  };
}
