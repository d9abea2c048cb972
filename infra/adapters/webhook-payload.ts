import type { AssetStatus } from '../../domain/asset-status';
import type { WebhookEventRow } from './webhook-repository';

/** The JSON body of every webhook delivery: one asset_events row. */
export interface AssetTransitionPayload {
  /** Unique per transition and identical on every retry: receivers de-duplicate on it. */
  eventId: string;
  type: 'asset.transition';
  assetId: string;
  ownerId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  stage: string | null;
  reason: string;
  occurredAt: string;
}

export function transitionPayload(event: WebhookEventRow): AssetTransitionPayload {
  return {
    eventId: event.event_id,
    type: 'asset.transition',
    assetId: event.asset_id,
    ownerId: event.owner_id,
    from: event.from_status,
    to: event.to_status,
    stage: event.stage,
    reason: event.reason,
    occurredAt: new Date(event.occurred_at).toISOString(),
  };
}
