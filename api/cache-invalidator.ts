import pg from 'pg';
import { ASSET_CHANGED_CHANNEL } from '../infra/adapters/asset-changes';
import type { Logger } from '../infra/logger';
import type { AssetDocCache } from './asset-docs';

export const INVALIDATOR_APPLICATION_NAME = 'assetline-cache-invalidator';
const MAX_BACKOFF_MS = 5000;

/**
 * Drops cached asset records when their rows change. The worker writes transitions and the API serves reads, so
 * the news travels through Postgres: writers `pg_notify('asset_changed', id)` in their transaction, and this
 * LISTENs on a connection of its own (a pooled one would be handed to queries). While the connection is down the
 * cache is bypassed; once it is back the cache is cleared, since notifications sent meanwhile are lost.
 */
export class CacheInvalidator {
  private client: pg.Client | undefined;
  private stopped = false;
  private backoffMs = 100;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly docs: AssetDocCache,
    private readonly logger: Logger,
  ) {}

  /** Resolves once listening; the first connection must succeed, later drops are retried with backoff. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.docs.close();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: INVALIDATOR_APPLICATION_NAME,
      keepAlive: true,
    });
    client.on('notification', (n) => {
      if (n.channel === ASSET_CHANGED_CHANNEL && n.payload) void this.docs.invalidate(n.payload);
    });
    client.on('error', (err) => this.dropped(client, err));
    client.on('end', () => this.dropped(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${ASSET_CHANGED_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.backoffMs = 100;
    await this.docs.resume();
    // Dropped again while the cache was being cleared: resume must not outlive the connection it trusted.
    if (this.client !== client) this.docs.suspend();
  }

  private dropped(client: pg.Client, err?: Error): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    this.docs.suspend();
    this.logger.warn(
      { err },
      'asset cache invalidation connection lost; bypassing the cache and reconnecting',
    );
    void client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.retry = setTimeout(() => {
      this.connect().catch((err: unknown) => {
        this.logger.warn({ err }, 'asset cache invalidation reconnect failed');
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        if (!this.stopped) this.scheduleReconnect();
      });
    }, this.backoffMs);
    this.retry.unref();
  }
}
