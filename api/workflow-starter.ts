import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import type { Logger } from '../infra/logger';
import type { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { lifecycleInput, type LifecycleSettings, type PendingAsset } from './lifecycle-input';

/** Starts at once beyond this are left to the sweep: a Temporal that stalls must not pile up calls in the API. */
const MAX_IN_FLIGHT = 64;
const SWEEP_BATCH = 50;

/**
 * Starts the workflows the outbox owes. The upload URL hands its asset over right after answering (`startSoon`);
 * the sweep takes whatever is still owed after that (Temporal was away, an API instance died) from any instance.
 * One per process: the cap counts the request path's starts only, so a sweep under way never crowds them out.
 */
export class WorkflowStarter {
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly workflows: Pick<WorkflowGateway, 'start'>,
    private readonly events: EventPublisher,
    private readonly owed: WorkflowStartRepository,
    private readonly lifecycle: LifecycleSettings,
    private readonly logger: Logger,
  ) {}

  /** Fire and forget: a failure leaves the row, which the sweep retries. */
  startSoon(asset: PendingAsset): void {
    if (this.inFlight >= MAX_IN_FLIGHT) return;
    this.inFlight += 1;
    void this.startOne(asset).finally(() => {
      this.inFlight -= 1;
    });
  }

  /** Starts every owed workflow that is due; returns how many were started. */
  async sweep(): Promise<number> {
    let started = 0;
    for (;;) {
      const batch = await this.owed.claimDue(SWEEP_BATCH);
      const results = await Promise.all(batch.map((asset) => this.startOne(asset)));
      started += results.filter(Boolean).length;
      if (batch.length < SWEEP_BATCH) return started;
    }
  }

  /** Sweeps every `everyMs` until stopped. */
  startSweeping(everyMs: number): void {
    const tick = () => {
      this.sweeping = this.sweep()
        .then((n) => {
          if (n > 0) this.logger.info({ started: n }, 'owed asset workflows started by the sweep');
        })
        .catch((err: unknown) =>
          this.logger.warn({ err: (err as Error).message }, 'sweep of owed workflow starts failed'),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, everyMs);
        });
    };
    this.timer = setTimeout(tick, everyMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  private async startOne(asset: PendingAsset & { status?: string }): Promise<boolean> {
    try {
      // Anything but pending has had its workflow (a completion that came first started it): only the workflow,
      // or a delete of one that finished, moves the row. Its first event is published all the same.
      if (asset.status === undefined || asset.status === 'pending')
        await this.workflows.start(lifecycleInput(asset, this.lifecycle));
      await this.events.publish(`${asset.asset_id}/created`);
      await this.owed.done(asset.asset_id);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      this.logger.warn(
        { assetId: asset.asset_id, err: message },
        'asset workflow not started yet; will retry',
      );
      await this.owed.failed(asset.asset_id, message).catch(() => undefined);
      return false;
    }
  }
}
