import type { EventPublisher } from '../infra/adapters/event-publisher';
import type { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import type { Logger } from '../infra/logger';
import { firstWake, type WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { lifecycleInput, type LifecycleSettings, type PendingAsset } from './lifecycle-input';

/** Starts at once beyond this are left to the sweep: a Temporal that stalls must not pile up calls in the API. */
const MAX_IN_FLIGHT = 64;
const SWEEP_BATCH = 50;
/**
 * A deferred start is made this long before the workflow's first instant, with the rest as Temporal's start delay:
 * the instant is then kept by Temporal's timer, not by the sweep's interval.
 */
const START_AHEAD_MS = 30_000;

/**
 * Starts the workflows the outbox owes, when they have work. The upload URL hands its asset over right after
 * answering (`startSoon`), which publishes the asset's first event and defers the start to the first instant the
 * workflow has work of its own (the URL's expiry, or a scheduled release before it): an upload URL costs Temporal
 * nothing, and a completion, delete or renewal that comes first starts the workflow itself (signal-with-start). The
 * sweep takes whatever is due (a deferred start, or one left by an API instance that died or by Temporal away) from
 * any instance. One per process: the cap counts the request path's hand-overs only, so a sweep under way never
 * crowds them out.
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

  /** Takes every owed start that is due (starting, deferring or settling it); returns how many it took. */
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
          if (n > 0) this.logger.info({ taken: n }, 'owed asset workflow starts taken by the sweep');
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

  private async startOne(
    asset: PendingAsset & { status?: string; created_published?: boolean },
  ): Promise<boolean> {
    const publish = async () => {
      if (!asset.created_published) await this.events.publish(`${asset.asset_id}/created`);
    };
    try {
      // Anything but pending has had its workflow (a completion that came first started it): only the workflow,
      // or a delete of one that finished, moves the row.
      if (asset.status === undefined || asset.status === 'pending') {
        const input = lifecycleInput(asset, this.lifecycle);
        const wake = new Date(firstWake(input)).getTime();
        // Until then the workflow would only wait: it is started when due, unless something wakes it first.
        if (wake - Date.now() > START_AHEAD_MS) {
          await publish();
          await this.owed.defer(asset.asset_id, new Date(wake - START_AHEAD_MS));
          return true;
        }
        // Started first: a start that fails leaves the event unpublished, for the retry to publish once.
        await this.workflows.start(input);
      }
      await publish();
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
