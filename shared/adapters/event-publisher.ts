import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';

/** Tells subscribers (webhooks) about a recorded asset event. */
export interface EventPublisher {
  publish(eventId: string): Promise<void>;
}

/**
 * Starts the event's webhook fan-out workflow. The workflow id is derived from the event, so publishing twice (a
 * retried activity, a repeated API call) starts it once.
 */
export class TemporalEventPublisher implements EventPublisher {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async publish(eventId: string): Promise<void> {
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
