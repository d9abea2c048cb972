import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';

/** Tells subscribers (webhooks) about a recorded asset event. */
export interface EventPublisher {
  publish(eventId: string): Promise<void>;
}

/** The webhooks an event goes to (WebhookRepository.targetsOfEvent). */
export interface EventSubscribers {
  targetsOfEvent(eventId: string): Promise<string[]>;
}

/**
 * Starts the event's webhook fan-out workflow. The workflow id is derived from the event, so publishing twice (a
 * retried activity, a repeated API call) starts it once.
 */
export class TemporalEventPublisher implements EventPublisher {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly subscribers: EventSubscribers,
  ) {}

  async publish(eventId: string): Promise<void> {
    // Most owners have no webhook: a fan-out for nobody would cost Temporal and the worker a workflow run per event,
    // on the request path of every upload URL.
    if ((await this.subscribers.targetsOfEvent(eventId)).length === 0) return;
    try {
      await this.client.workflow.start('webhookFanout', {
        taskQueue: this.taskQueue,
        workflowId: `webhooks-${eventId}`,
        args: [eventId],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}
