import { ApplicationFailure } from '@temporalio/activity';
import type { WebhookClient } from '../infra/adapters/webhook-client';
import type { WebhookRepository } from '../infra/adapters/webhook-repository';
import { transitionPayload } from '../infra/adapters/webhook-payload';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, sign } from '../domain/webhooks/signature';
import { TargetRefused } from '../domain/webhooks/target-policy';

export interface WebhookDeps {
  webhooks: WebhookRepository;
  webhookClient: WebhookClient;
}

export interface DeliveryRef {
  webhookId: string;
  eventId: string;
}

export type DeliveryResult =
  | { status: 'delivered'; attempts: number }
  /** Already delivered or failed by an earlier run, or the webhook was deleted meanwhile. */
  | { status: 'skipped' };

/** Failure types of deliveries that end for good. */
const WEBHOOK_GONE = 'WebhookGone';
const WEBHOOK_TARGET_REFUSED = 'WebhookTargetRefused';

const deliveryId = (ref: DeliveryRef) => `${ref.eventId}/${ref.webhookId}`;
const MAX_ERROR_LENGTH = 500;

export function listWebhookTargetsActivity(deps: WebhookDeps) {
  return async function listWebhookTargets(input: { eventId: string }): Promise<{ webhookId: string }[]> {
    const ids = await deps.webhooks.targetsOfEvent(input.eventId);
    return ids.map((webhookId) => ({ webhookId }));
  };
}

/**
 * One attempt to deliver one event to one webhook. A non-2xx answer or a network error throws, so Temporal retries
 * with backoff; 410 Gone, or a target that now resolves to a private address, fails for good.
 */
export function deliverWebhookActivity(deps: WebhookDeps) {
  return async function deliverWebhook(ref: DeliveryRef): Promise<DeliveryResult> {
    const [webhook, event] = await Promise.all([
      deps.webhooks.find(ref.webhookId),
      deps.webhooks.findEvent(ref.eventId),
    ]);
    if (!webhook) return { status: 'skipped' };
    if (!event) throw ApplicationFailure.nonRetryable(`no event ${ref.eventId}`, 'UnknownEvent');
    const id = deliveryId(ref);
    const attempts = await deps.webhooks.beginAttempt(id, ref.webhookId, ref.eventId);
    if (attempts === undefined) return { status: 'skipped' };

    // The body is the same on every attempt; the timestamp is not, so each attempt passes a receiver's replay window.
    const body = JSON.stringify(transitionPayload(event));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Assetline-Webhooks/1',
      [EVENT_ID_HEADER]: ref.eventId,
      [SIGNATURE_HEADER]: sign(webhook.secret, body, Math.floor(Date.now() / 1000)),
    };

    let status: number;
    try {
      ({ status } = await deps.webhookClient.post(webhook.url, headers, body));
    } catch (err) {
      const error = String((err as Error).message ?? err).slice(0, MAX_ERROR_LENGTH);
      const refused = err instanceof TargetRefused;
      await deps.webhooks.recordAttempt(id, {
        status: refused ? 'failed' : 'pending',
        statusCode: null,
        error,
      });
      if (refused) throw ApplicationFailure.nonRetryable(error, WEBHOOK_TARGET_REFUSED);
      throw ApplicationFailure.retryable(error, 'WebhookUnreachable');
    }

    if (status >= 200 && status < 300) {
      await deps.webhooks.recordAttempt(id, { status: 'delivered', statusCode: status, error: null });
      return { status: 'delivered', attempts };
    }
    const error = `receiver answered ${status}`;
    if (status === 410) {
      await deps.webhooks.recordAttempt(id, { status: 'failed', statusCode: status, error });
      throw ApplicationFailure.nonRetryable(`${error} (Gone): not retried`, WEBHOOK_GONE);
    }
    await deps.webhooks.recordAttempt(id, { status: 'pending', statusCode: status, error });
    throw ApplicationFailure.retryable(error, 'WebhookRejected');
  };
}

/** After the workflow stops retrying: a delivery still pending becomes failed, with the reason. */
export function abandonWebhookDeliveryActivity(deps: WebhookDeps) {
  return async function abandonWebhookDelivery(input: DeliveryRef & { reason: string }): Promise<void> {
    // A deleted webhook took its deliveries with it; there is nothing to mark.
    if (!(await deps.webhooks.find(input.webhookId))) return;
    await deps.webhooks.giveUp(deliveryId(input), input.webhookId, input.eventId, input.reason);
  };
}
