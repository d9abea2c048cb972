import { LruAssetCache, RedisAssetCache, type AssetCache } from '../infra/adapters/asset-cache';
import type { ConfigOf } from '../infra/config';
import type { Logger } from '../infra/logger';
import { AssetDocCache } from './asset-docs';
import type { AssetRecord } from './asset-view';
import { CacheInvalidator } from './cache-invalidator';

/** Redis when REDIS_URL is set (shared by every API instance), otherwise a bounded cache in this process. */
export async function assetCacheFromConfig(config: ConfigOf<'cache'>): Promise<AssetCache<AssetRecord>> {
  const ttlSeconds = config.ASSET_CACHE_TTL_SECONDS;
  return config.REDIS_URL
    ? RedisAssetCache.connect<AssetRecord>(config.REDIS_URL, { ttlSeconds })
    : new LruAssetCache<AssetRecord>({ ttlSeconds, maxEntries: config.ASSET_CACHE_MAX_ENTRIES });
}

/** The cache for GET /media/:id and its invalidator, listening before the first request is served. */
export async function startAssetDocCache(
  cache: AssetCache<AssetRecord>,
  databaseUrl: string,
  logger: Logger,
): Promise<{ docs: AssetDocCache; stop(): Promise<void> }> {
  const docs = new AssetDocCache(cache, logger);
  const invalidator = new CacheInvalidator(databaseUrl, docs, logger);
  await invalidator.start();
  return {
    docs,
    async stop() {
      await invalidator.stop();
      await cache.close();
    },
  };
}
