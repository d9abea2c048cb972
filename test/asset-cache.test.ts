import path from 'node:path';
import { sql } from 'kysely';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedis, type RedisHandle } from '../devstack/redis';
import { LruAssetCache, RedisAssetCache, type AssetCache } from '../infra/adapters/asset-cache';
import type { AssetRecord } from '../api/asset-view';
import { INVALIDATOR_APPLICATION_NAME } from '../api/cache-invalidator';
import { eventually, request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { putBytes, requestUpload, waitForStatus } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/** Counts what the API asks of the cache, so a test can tell a hit from a database read. */
class CountingCache implements AssetCache<AssetRecord> {
  hits = 0;
  constructor(readonly inner: AssetCache<AssetRecord>) {}
  async get(id: string) {
    const doc = await this.inner.get(id);
    if (doc) this.hits += 1;
    return doc;
  }
  set = (id: string, doc: AssetRecord) => this.inner.set(id, doc);
  delete = (id: string) => this.inner.delete(id);
  clear = () => this.inner.clear();
  close = () => this.inner.close();
}

// Later statuses never go back: an answer ranked below the row it followed was stale.
const RANK: Record<string, number> = { pending: 0, processing: 1, ready: 2, deleted: 3 };

describe.each(['lru', 'redis'] as const)('GET /media/:id through the %s asset cache', (kind) => {
  let platform: TestPlatform;
  let redis: RedisHandle | undefined;
  let redisClient: Redis | undefined;
  let cache: CountingCache;
  let token: string;

  beforeAll(async () => {
    let inner: AssetCache<AssetRecord>;
    if (kind === 'redis') {
      redis = await startRedis({ dataDir: path.join(inject('stack').tmpDir, uniqueName('redis')) });
      redisClient = new Redis(redis.url);
      inner = await RedisAssetCache.connect<AssetRecord>(redis.url, { ttlSeconds: 60 });
    } else {
      inner = new LruAssetCache<AssetRecord>({ ttlSeconds: 60, maxEntries: 100 });
    }
    cache = new CountingCache(inner);
    platform = await startPlatform({ assetCache: cache });
    token = await platform.token('8181');
  });
  afterAll(async () => {
    await platform?.stop();
    redisClient?.disconnect();
    await redis?.stop();
  });

  const get = async (assetId: string) =>
    (await request<AssetRecord>('GET', `${platform.baseUrl}/media/${assetId}`, { token })).body;
  const row = (assetId: string) =>
    platform.db
      .selectFrom('media_assets')
      .select(['status', 'filename'])
      .select((eb) =>
        eb
          .selectFrom('asset_events')
          .select(eb.fn.countAll<string>().as('n'))
          .whereRef('asset_events.asset_id', '=', 'media_assets.asset_id')
          .as('events'),
      )
      .where('asset_id', '=', assetId)
      .executeTakeFirstOrThrow();
  const rename = (assetId: string, filename: string) =>
    platform.db.updateTable('media_assets').set({ filename }).where('asset_id', '=', assetId).execute();

  /** GETs right after every read of the row until `until`, and never sees less than the row showed. */
  async function neverBehind(assetId: string, until: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const db = await row(assetId);
      const api = await get(assetId);
      expect(RANK[api.status], `${api.status} after the row said ${db.status}`).toBeGreaterThanOrEqual(
        RANK[db.status]!,
      );
      expect(api.events.length).toBeGreaterThanOrEqual(Number(db.events));
      if (db.status === until) return;
      if (Date.now() > deadline) throw new Error(`asset stuck at ${db.status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function readyAsset(): Promise<string> {
    const png = await noisyPng(64, 48);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'cached.png',
      contentType: 'image/png',
      sizeBytes: png.length,
    });
    expect(await putBytes(ticket.body, png)).toBe(200);
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready'], 60_000);
    return ticket.body.assetId;
  }

  it('never serves a status or event list older than the row, from upload to ready to deleted', async () => {
    const png = await noisyPng(96, 64);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'lifecycle.png',
      contentType: 'image/png',
      sizeBytes: png.length,
    });
    const { assetId } = ticket.body;
    expect((await get(assetId)).status).toBe('pending');
    expect((await get(assetId)).status).toBe('pending');
    const hitsBefore = cache.hits;
    expect(hitsBefore).toBeGreaterThan(0);

    expect(await putBytes(ticket.body, png)).toBe(200);
    await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, { token });
    await neverBehind(assetId, 'ready');
    // The publish announced the renditions too: the ready record lists them.
    expect((await get(assetId)).renditions.map((r) => r.name)).toContain('thumb-256');

    expect((await request('DELETE', `${platform.baseUrl}/media/${assetId}`, { token })).status).toBe(202);
    await neverBehind(assetId, 'deleted');
    expect((await get(assetId)).status).toBe('deleted');
    // Not a cache that was merely bypassed: reads between the changes were hits.
    expect(cache.hits).toBeGreaterThan(hitsBefore);
  });

  it('serves the new status the moment its change commits, before any notification arrives', async () => {
    const assetId = await readyAsset();
    expect((await get(assetId)).status).toBe('ready');
    expect((await get(assetId)).status).toBe('ready');
    // A committed change whose NOTIFY has not been delivered (here: never sent): only the stamp moved.
    await platform.db
      .updateTable('media_assets')
      .set({ status: 'failed', doc_version: sql<number>`doc_version + 1` })
      .where('asset_id', '=', assetId)
      .execute();
    expect((await get(assetId)).status).toBe('failed');
  });

  it('answers a second read from the cache without reading the record, until a change is announced', async () => {
    const assetId = await readyAsset();
    expect((await get(assetId)).filename).toBe('cached.png');
    if (redisClient) {
      const ttl = await redisClient.ttl(`assetline:asset:${assetId}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
    }
    // Behind the cache's back: had the second GET read the row, it would show the new name.
    await rename(assetId, 'renamed-quietly.png');
    expect((await get(assetId)).filename).toBe('cached.png');

    await sql`select pg_notify('asset_changed', ${assetId})`.execute(platform.db);
    await eventually(
      'the announced change',
      () => get(assetId),
      (a) => a.filename === 'renamed-quietly.png',
      5000,
    );
    if (redisClient) expect(await redisClient.exists(`assetline:asset:${assetId}`)).toBe(1);
  });

  it("shows the caller's metadata change on its very next read", async () => {
    const assetId = await readyAsset();
    expect((await get(assetId)).metadata).toEqual({});
    const patched = await request('PATCH', `${platform.baseUrl}/media/${assetId}/metadata`, {
      token,
      body: { set: { album: 'holidays' } },
    });
    expect(patched.status).toBe(200);
    expect((await get(assetId)).metadata).toEqual({ album: 'holidays' });
  });

  it('starts empty after its invalidation connection drops and comes back', async () => {
    const assetId = await readyAsset();
    await get(assetId);
    const listener = () =>
      sql<{ pid: number }>`select pid from pg_stat_activity
        where application_name = ${INVALIDATOR_APPLICATION_NAME} and datname = current_database()
          and query like 'LISTEN%'`.execute(platform.db);
    const [before] = (await listener()).rows;
    expect(before).toBeDefined();
    await sql`select pg_terminate_backend(${before!.pid})`.execute(platform.db);
    // Changed while nobody listened: the notification for this would have been lost.
    await rename(assetId, 'changed-while-deaf.png');
    await eventually(
      'the invalidator to listen again',
      async () => (await listener()).rows,
      (rows) => rows.length === 1 && rows[0]!.pid !== before!.pid,
      10_000,
    );
    // Well inside the 60 s TTL: only a cleared cache explains the new name.
    await eventually(
      'a fresh read',
      () => get(assetId),
      (a) => a.filename === 'changed-while-deaf.png',
      5000,
    );

    await get(assetId);
    await rename(assetId, 'announced.png');
    await sql`select pg_notify('asset_changed', ${assetId})`.execute(platform.db);
    await eventually(
      'the new connection to invalidate',
      () => get(assetId),
      (a) => a.filename === 'announced.png',
      5000,
    );
  });
});

describe('LruAssetCache', () => {
  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const lru = new LruAssetCache<{ n: number }>({ ttlSeconds: 60, maxEntries: 2 });
    await lru.set('a', { n: 1 });
    await lru.set('b', { n: 2 });
    await lru.get('a');
    await lru.set('c', { n: 3 });
    expect(await lru.get('b')).toBeUndefined();
    expect(await lru.get('a')).toEqual({ n: 1 });
    expect(lru.size).toBe(2);
  });
});
