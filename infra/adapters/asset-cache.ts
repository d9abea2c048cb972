import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';

/**
 * Hot asset documents by asset id. Entries are JSON, expire after a TTL (a safety net: invalidation is what keeps
 * them right) and may vanish at any time; callers fall back to the database.
 */
export interface AssetCache<Doc = unknown> {
  get(assetId: string): Promise<Doc | undefined>;
  set(assetId: string, doc: Doc): Promise<void>;
  delete(assetId: string): Promise<void>;
  /** Drops every entry: after a gap in invalidation nothing cached can be trusted. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface AssetCacheSettings {
  ttlSeconds: number;
}

/** In this process, bounded by entry count; each API instance has its own. */
export class LruAssetCache<Doc = unknown> implements AssetCache<Doc> {
  // Stored as JSON so a caller cannot mutate a cached document, and both implementations answer alike.
  private readonly entries: LRUCache<string, string>;

  constructor(settings: AssetCacheSettings & { maxEntries: number }) {
    this.entries = new LRUCache({ max: settings.maxEntries, ttl: settings.ttlSeconds * 1000 });
  }

  async get(assetId: string): Promise<Doc | undefined> {
    const json = this.entries.get(assetId);
    return json === undefined ? undefined : (JSON.parse(json) as Doc);
  }

  async set(assetId: string, doc: Doc): Promise<void> {
    this.entries.set(assetId, JSON.stringify(doc));
  }

  async delete(assetId: string): Promise<void> {
    this.entries.delete(assetId);
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Shared by every API instance; Redis' own eviction policy bounds it. */
export class RedisAssetCache<Doc = unknown> implements AssetCache<Doc> {
  private constructor(
    private readonly redis: Redis,
    private readonly settings: AssetCacheSettings & { keyPrefix: string },
  ) {}

  static async connect<Doc>(
    url: string,
    settings: AssetCacheSettings & { keyPrefix?: string },
  ): Promise<RedisAssetCache<Doc>> {
    // Fail fast while Redis is away: a miss costs a database read, a hanging command costs the request.
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000 });
    redis.on('error', () => undefined); // reconnects by itself; commands report their own failures
    await redis.connect();
    return new RedisAssetCache<Doc>(redis, { keyPrefix: 'assetline:asset:', ...settings });
  }

  key(assetId: string): string {
    return this.settings.keyPrefix + assetId;
  }

  async get(assetId: string): Promise<Doc | undefined> {
    const json = await this.redis.get(this.key(assetId));
    return json === null ? undefined : (JSON.parse(json) as Doc);
  }

  async set(assetId: string, doc: Doc): Promise<void> {
    await this.redis.set(this.key(assetId), JSON.stringify(doc), 'EX', this.settings.ttlSeconds);
  }

  async delete(assetId: string): Promise<void> {
    await this.redis.unlink(this.key(assetId));
  }

  async clear(): Promise<void> {
    const keys = this.redis.scanStream({ match: `${this.settings.keyPrefix}*`, count: 500 });
    for await (const batch of keys as AsyncIterable<string[]>) {
      if (batch.length > 0) await this.redis.unlink(...batch);
    }
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
