import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../infra/db/database';
import { AssetRepository, type TransitionRecord } from '../infra/adapters/asset-repository';
import {
  ASSET_CHANGED_CHANNEL,
  notifyAssetChanged,
  notifyBlobAssetsChanged,
} from '../infra/adapters/asset-changes';
import { freshDatabase } from './helpers/stack';

/**
 * A transition is the event row, the asset's status, its doc_version bump and the asset_changed notice, all or
 * nothing and once per event id; the notices are what evicts the API's cached documents.
 */
describe('recording a transition and announcing asset changes', () => {
  let db: Db;
  let assets: AssetRepository;
  let listener: pg.Client;
  const notices: string[] = [];

  beforeAll(async () => {
    let url: string;
    ({ db, url } = await freshDatabase());
    assets = new AssetRepository(db);
    listener = new pg.Client({ connectionString: url });
    await listener.connect();
    listener.on('notification', (n) => {
      if (n.channel === ASSET_CHANGED_CHANNEL && n.payload) notices.push(n.payload);
    });
    await listener.query(`LISTEN ${ASSET_CHANGED_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await db?.destroy();
  });

  async function newAsset(blob?: string): Promise<string> {
    const id = randomUUID();
    await sql`
      insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                                size_bytes, status, status_reason, upload_expires_at)
      values (${id}, 91, 'b', ${`k/${id}`}, 'f.jpg', 'image/jpeg', 'image/jpeg', 10, 'pending', 'created', now())
    `.execute(db);
    if (blob) {
      await sql`insert into blobs (sha256, bucket, object_key, size_bytes, mime_type, refcount, status, owner_asset_id)
                values (${blob}, 'b', ${`blobs/${blob}`}, 10, 'image/jpeg', 1, 'processing', ${id})
                on conflict do nothing`.execute(db);
      await sql`update media_assets set blob_sha256 = ${blob} where asset_id = ${id}`.execute(db);
    }
    return id;
  }

  async function row(id: string) {
    const { rows } = await sql<{
      status: string;
      status_reason: string;
      doc_version: string;
      checksum_sha256: string | null;
      failed_stage: string | null;
      failure_attempts: number;
    }>`select status, status_reason, doc_version, checksum_sha256, failed_stage, failure_attempts
         from media_assets where asset_id = ${id}`.execute(db);
    return { ...rows[0]!, doc_version: Number(rows[0]!.doc_version) };
  }

  const events = async (id: string) =>
    (
      await sql<{
        event_id: string;
        from_status: string | null;
        to_status: string;
        reason: string;
        details: unknown;
        stage: string | null;
      }>`
        select event_id, from_status, to_status, reason, details, stage from asset_events
         where asset_id = ${id} order by occurred_at, event_id`.execute(db)
    ).rows;

  /** Notices arrive asynchronously: a round trip on the listener's connection delivers what was sent before. */
  async function noticesFor(id: string): Promise<number> {
    await listener.query('select 1');
    return notices.filter((n) => n === id).length;
  }

  const transition = (assetId: string, t: Partial<TransitionRecord> = {}): TransitionRecord => ({
    assetId,
    eventId: `${assetId}/run/${randomUUID()}`,
    from: 'pending',
    to: 'processing',
    reason: 'upload completed',
    details: { source: 'api' },
    ...t,
  });

  it('writes the event, the status and one version bump, announces it once, and is idempotent by event id', async () => {
    const id = await newAsset();
    const before = await row(id);
    const t = transition(id, { checksumSha256: 'ab'.repeat(32), stage: 'verify' });

    expect(await assets.recordTransition(t)).toEqual({ found: true, subscribed: false });
    expect(await events(id)).toEqual([
      {
        event_id: t.eventId,
        from_status: 'pending',
        to_status: 'processing',
        reason: 'upload completed',
        details: { source: 'api' },
        stage: 'verify',
      },
    ]);
    const after = await row(id);
    expect(after).toMatchObject({
      status: 'processing',
      status_reason: 'upload completed',
      checksum_sha256: 'ab'.repeat(32),
      failed_stage: null,
      failure_attempts: 0,
    });
    expect(after.doc_version).toBe(before.doc_version + 1);
    expect(await noticesFor(id)).toBe(1);

    // A retried activity whose first attempt committed: nothing changes, nothing is announced again.
    expect(await assets.recordTransition({ ...t, reason: 'retried' })).toEqual({
      found: true,
      subscribed: false,
    });
    expect(await events(id)).toHaveLength(1);
    expect(await row(id)).toEqual(after);
    expect(await noticesFor(id)).toBe(1);
  });

  it("says whether the asset's owner has a webhook, so only those events get a fan-out", async () => {
    const id = await newAsset();
    expect(await assets.recordTransition(transition(id))).toEqual({ found: true, subscribed: false });
    await sql`insert into webhooks (webhook_id, owner_id, url, secret)
              values (${randomUUID()}, 91, 'https://hooks.example/a', 's')`.execute(db);
    try {
      const again = transition(id, { from: 'processing', reason: 'later' });
      expect(await assets.recordTransition(again)).toEqual({ found: true, subscribed: true });
      // A retry of the recorded event still answers it: the fan-out it may have missed is started then.
      expect(await assets.recordTransition(again)).toEqual({ found: true, subscribed: true });
    } finally {
      await sql`delete from webhooks where owner_id = 91`.execute(db);
    }
  });

  it('keeps the checksum when a later transition has none, and counts failures with their stage', async () => {
    const id = await newAsset();
    await assets.recordTransition(transition(id, { checksumSha256: 'cd'.repeat(32) }));
    const failing = { from: 'processing' as const, to: 'failed' as const, reason: 'render failed' };
    await assets.recordTransition(transition(id, { ...failing, stage: 'renditions' }));
    expect(await row(id)).toMatchObject({
      status: 'failed',
      status_reason: 'render failed',
      checksum_sha256: 'cd'.repeat(32),
      failed_stage: 'renditions',
      failure_attempts: 1,
    });
    await assets.recordTransition(transition(id, { from: 'failed', reason: 'retry requested' }));
    await assets.recordTransition(transition(id, { ...failing, stage: 'validate' }));
    expect(await row(id)).toMatchObject({ status: 'failed', failed_stage: 'validate', failure_attempts: 2 });
    expect((await events(id)).map((e) => e.to_status)).toEqual([
      'processing',
      'failed',
      'processing',
      'failed',
    ]);
    expect(await noticesFor(id)).toBe(4);
  });

  it('answers false for an asset whose row is gone, and writes and announces nothing', async () => {
    const id = randomUUID();
    expect(await assets.recordTransition(transition(id))).toEqual({ found: false, subscribed: false });
    expect(await events(id)).toEqual([]);
    expect(await noticesFor(id)).toBe(0);
  });

  it('serialises transitions of one asset sent at once: every event, every bump, every notice', async () => {
    const id = await newAsset();
    const before = await row(id);
    const all = Array.from({ length: 12 }, (_, i) => transition(id, { reason: `step ${i}` }));
    expect((await Promise.all(all.map((t) => assets.recordTransition(t)))).map((r) => r.found)).toEqual(
      all.map(() => true),
    );
    expect(await events(id)).toHaveLength(12);
    expect((await row(id)).doc_version).toBe(before.doc_version + 12);
    expect(await noticesFor(id)).toBe(12);
  });

  it('bumps and announces an asset, or each asset of a blob, and no other', async () => {
    const blob = randomUUID().replace(/-/g, '').padEnd(64, '0');
    const [a, b, other] = [await newAsset(blob), await newAsset(blob), await newAsset()];
    const versions = async () => Promise.all([a, b, other].map(async (id) => (await row(id)).doc_version));
    const start = await versions();

    await db.transaction().execute((tx) => notifyBlobAssetsChanged(tx, blob));
    expect(await versions()).toEqual([start[0]! + 1, start[1]! + 1, start[2]!]);
    expect([await noticesFor(a), await noticesFor(b), await noticesFor(other)]).toEqual([1, 1, 0]);

    await db.transaction().execute((tx) => notifyAssetChanged(tx, other));
    expect(await versions()).toEqual([start[0]! + 1, start[1]! + 1, start[2]! + 1]);
    expect(await noticesFor(other)).toBe(1);

    // Nothing is announced for a change that did not commit.
    await expect(
      db.transaction().execute(async (tx) => {
        await notifyAssetChanged(tx, a);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await noticesFor(a)).toBe(1);
    expect((await row(a)).doc_version).toBe(start[0]! + 1);
  });
});
