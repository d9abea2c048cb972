import type { AssetStatus } from '../../domain/asset-status';
import type { AssetEventType } from '../../domain/visibility';
import type { WebhookEventRow } from './webhook-repository';

/**
 * The JSON body of every webhook delivery: one asset_events row. `asset.transition` is a status change (from, to);
 * `asset.published` and `asset.unpublished` are visibility changes, with the status unchanged (from = to) and
 * `visibility` naming the change.
 */
export interface AssetTransitionPayload {
  /** Unique per transition and identical on every retry: receivers de-duplicate on it. */
  eventId: string;
  type: AssetEventType;
  assetId: string;
  ownerId: string;
  from: AssetStatus | null;
  to: AssetStatus;
  stage: string | null;
  reason: string;
  occurredAt: string;
  /** asset.published / asset.unpublished only: the visibility before and after. */
  visibility?: { from: string; to: string };
}

export function transitionPayload(event: WebhookEventRow): AssetTransitionPayload {
  return {
    eventId: event.event_id,
    type: event.event_type,
    assetId: event.asset_id,
    ownerId: event.owner_id,
    from: event.from_status,
    to: event.to_status,
    stage: event.stage,
    reason: event.reason,
    occurredAt: new Date(event.occurred_at).toISOString(),
    ...(event.event_type === 'asset.transition'
      ? {}
      : { visibility: event.details as AssetTransitionPayload['visibility'] & object }),
  };
}
