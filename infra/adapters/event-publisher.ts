/** Tells subscribers (webhooks) about a recorded asset event. */
export interface EventPublisher {
  publish(eventId: string): Promise<void>;
}

/** The webhooks an event goes to (WebhookRepository.targetsOfEvent). */
export interface EventSubscribers {
  targetsOfEvent(eventId: string): Promise<string[]>;
}

/** Starts an event's fan-out workflow, once per event (WorkflowGateway.startWebhookFanout). */
export interface WebhookFanouts {
  startWebhookFanout(eventId: string): Promise<void>;
}

/** Publishes an event by starting its webhook fan-out, when anyone subscribes to it. */
export class WebhookEventPublisher implements EventPublisher {
  constructor(
    private readonly fanouts: WebhookFanouts,
    private readonly subscribers: EventSubscribers,
  ) {}

  async publish(eventId: string): Promise<void> {
    // Most owners have no webhook: a fan-out for nobody would cost Temporal and the worker a workflow run per event,
    // on the request path of every upload URL.
    if ((await this.subscribers.targetsOfEvent(eventId)).length === 0) return;
    await this.fanouts.startWebhookFanout(eventId);
  }
}
