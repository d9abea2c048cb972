import type { AccessCount, AssetAccessRepository } from '../infra/adapters/asset-access-repository';
import type { Logger } from '../infra/logger';

/**
 * Counts the origin's successful reads per asset in memory and writes them as ONE upsert per interval: a player
 * fetching hundreds of segments must not mean hundreds of database writes (or workflow signals).
 */
export class AccessRecorder {
  private pending = new Map<string, { count: number; last: Date }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: Pick<AssetAccessRepository, 'add'>,
    private readonly logger: Logger,
    private readonly flushSeconds: number,
    /** Told, once per flush, which assets were read and when last (their workflows bring cold blobs back to hot). */
    private readonly onFlushed?: (reads: AccessCount[]) => Promise<void>,
  ) {}

  record(assetId: string): void {
    const entry = this.pending.get(assetId);
    if (entry) {
      entry.count += 1;
      entry.last = new Date();
    } else {
      this.pending.set(assetId, { count: 1, last: new Date() });
    }
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushSeconds * 1000);
    this.timer.unref();
  }

  /** Resolves once everything recorded before the call is written (flushes run one after another). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows: AccessCount[] = [...batch].map(([assetId, e]) => ({
      assetId,
      count: e.count,
      lastAccessAt: e.last,
    }));
    try {
      await this.repository.add(rows);
    } catch (err) {
      this.keep(rows, err);
      return;
    }
    await this.onFlushed?.(rows).catch((err: unknown) =>
      this.logger.warn({ err, assets: rows.length }, 'read assets not signalled'),
    );
  }

  /** Keeps the counts for the next flush: a database blip must not lose them. */
  private keep(rows: AccessCount[], err: unknown): void {
    for (const row of rows) {
      const entry = this.pending.get(row.assetId);
      if (entry) entry.count += row.count;
      else this.pending.set(row.assetId, { count: row.count, last: row.lastAccessAt });
    }
    this.logger.warn({ err, assets: rows.length }, 'access counts not written; retrying at the next flush');
  }
}
