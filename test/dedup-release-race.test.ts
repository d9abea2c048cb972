import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { MockActivityEnvironment } from '@temporalio/testing';
import { claimBlobActivity } from '../activities/claim-blob';
import { releaseBlobActivity } from '../activities/release-blob';
import { publishRenditionsActivity } from '../activities/publish-renditions';
import { failMissingBlobsActivity, sweepOrphanObjectsActivity } from '../activities/orphan-sweep';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { BlobRepository } from '../infra/adapters/blob-repository';
import { IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { SweepRepository } from '../infra/adapters/sweep-repository';
import { createDb, type Db } from '../infra/db/database';
import {
  blobKey,
  renditionAttemptPrefix,
  renditionsRoot,
  SWEPT_PREFIXES,
  uploadKey,
} from '../domain/object-keys';
import { Barrier } from './helpers/barrier';
import { freshDatabase, freshStore } from './helpers/stack';

interface Upload {
  assetId: string;
  key: string;
  sha: string;
  size: number;
}

/** The real store, with the first delete of `key` held at the barrier: the hook that forces an interleaving. */
function holdingDeleteOf(store: ObjectStore, key: string, barrier: Barrier): ObjectStore {
  const held = Object.create(store) as ObjectStore;
  held.delete = async (k) => {
    if (k === key && !barrier.used) await barrier.pass();
    return store.delete(k);
  };
  return held;
}

/**
 * Dedup's release against a claim of the same bytes, on real Postgres and S3 through the activities. Each
 * interleaving is forced by a barrier in the store adapter, never by timing; then a bounded stress run.
 */
describe('dedup: releasing a blob while the same bytes are claimed', () => {
  let db: Db;
  let store: S3ObjectStore;
  let blobs: BlobRepository;
  let integrity: IntegrityRepository;
  const OWNER = '77';

  beforeAll(async () => {
    const fresh = await freshDatabase();
    await fresh.db.destroy();
    // Concurrent claims wait on the row lock, each holding a connection.
    db = createDb(fresh.url, 40);
    store = await freshStore();
    blobs = new BlobRepository(db);
    integrity = new IntegrityRepository(db);
  });
  afterAll(async () => {
    await db?.destroy();
    store?.destroy();
  });

  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
    new MockActivityEnvironment().run(fn, ...args) as Promise<R>;

  /** An asset whose upload of `data` arrived: its row (processing) and its upload object. */
  async function uploaded(data: Buffer): Promise<Upload> {
    const assetId = randomUUID();
    const key = uploadKey(OWNER, assetId);
    const sha = createHash('sha256').update(data).digest('hex');
    await db
      .insertInto('media_assets')
      .values({
        asset_id: assetId,
        owner_id: OWNER,
        bucket: store.bucket,
        object_key: key,
        filename: 'same.bin',
        mime_type: 'application/octet-stream',
        size_bytes: String(data.length),
        checksum_sha256: sha,
        declared_checksum_sha256: null,
        status: 'processing',
        status_reason: null,
        upload_expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    await store.write(key, data);
    return { assetId, key, sha, size: data.length };
  }

  const claim = (a: Upload, via: ObjectStore = store) =>
    run(claimBlobActivity({ store: via, blobs, integrity }), {
      assetId: a.assetId,
      sha256: a.sha,
      sizeBytes: a.size,
      mimeType: 'application/octet-stream',
      uploadKey: a.key,
    });
  const release = (assetId: string, sha: string, via: ObjectStore = store) =>
    run(releaseBlobActivity({ store: via, blobs }), { assetId, sha256: sha });
  /** The owner's render attempt written and published: one object under the attempt's prefix. */
  async function publish(sha: string, attempt: string): Promise<string> {
    const prefix = renditionAttemptPrefix(sha, attempt);
    const key = `${prefix}thumb.webp`;
    await store.write(key, attempt);
    await run(publishRenditionsActivity({ store, blobs }), {
      sha256: sha,
      prefix,
      renditions: [{ name: 'thumb-256', objectKey: key, mimeType: 'image/webp', sizeBytes: attempt.length }],
    });
    return key;
  }
  async function bytesAt(key: string): Promise<Buffer | null> {
    if (!(await store.head(key))) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  const blobRow = (sha: string) =>
    db.selectFrom('blobs').selectAll().where('sha256', '=', sha).executeTakeFirst();

  /** Resolves once `work` has settled or some backend of this database waits on a row lock. */
  async function settledOrWaitingOnLock(work: Promise<unknown>): Promise<'settled' | 'waiting'> {
    let settled = false;
    void work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (;;) {
      if (settled) return 'settled';
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
      if (rows[0]!.n > 0) return 'waiting';
      // A condition polled, not a guessed delay: the outcome does not depend on how long this takes.
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A ready blob of fresh content held by one asset, with a published rendition. */
  async function readyBlob(): Promise<{ data: Buffer; a: Upload; rendition: string }> {
    const data = randomBytes(32 * 1024);
    const a = await uploaded(data);
    expect((await claim(a)).role).toBe('owner');
    const rendition = await publish(a.sha, `a-${randomUUID()}`);
    return { data, a, rendition };
  }

  it('a claim arriving while the release deletes the bytes gets its own copy; nothing of the new owner goes', async () => {
    const { data, a, rendition } = await readyBlob();
    const barrier = new Barrier();
    const releasing = release(a.assetId, a.sha, holdingDeleteOf(store, blobKey(a.sha), barrier));
    await barrier.reached;

    const b = await uploaded(data);
    const claiming = claim(b);
    // Today's code lets the claim finish here; with the fix it waits on the blob row until the bytes are gone.
    await settledOrWaitingOnLock(claiming);
    barrier.open();
    await releasing;
    const claimed = await claiming;

    expect(claimed.role).toBe('owner');
    expect(await bytesAt(blobKey(a.sha))).toEqual(data);
    expect(await blobRow(a.sha)).toMatchObject({
      refcount: 1,
      owner_asset_id: b.assetId,
      status: 'processing',
    });
    expect(await store.head(b.key)).toBeNull();
    expect(await store.head(rendition)).toBeNull();
  });

  it('a claim between the release’s decision and its deletion finishes the deletion, then copies; a late retry of the release removes nothing', async () => {
    const { data, a, rendition } = await readyBlob();
    // The release's first step only, as when its worker dies right after it.
    expect((await blobs.release(a.assetId, a.sha)).removed).not.toBeNull();

    const b = await uploaded(data);
    expect((await claim(b)).role).toBe('owner');
    expect(await store.head(rendition)).toBeNull();
    const fresh = await publish(b.sha, `b-${randomUUID()}`);

    // The interrupted release is retried after the new owner published: the new bytes and renditions stay.
    await release(a.assetId, a.sha);
    expect(await bytesAt(blobKey(a.sha))).toEqual(data);
    expect(await bytesAt(fresh)).not.toBeNull();
    expect(await blobRow(a.sha)).toMatchObject({ refcount: 1, owner_asset_id: b.assetId, status: 'ready' });
  });

  it('a release arriving during a duplicate’s claim only drops its reference', async () => {
    const { data, a, rendition } = await readyBlob();
    const b = await uploaded(data);
    const barrier = new Barrier();
    // The duplicate is held after its reference is taken, deleting its own upload.
    const claiming = claim(b, holdingDeleteOf(store, b.key, barrier));
    await barrier.reached;
    expect(await release(a.assetId, a.sha)).toEqual({ removed: false });
    barrier.open();

    expect((await claiming).role).toBe('duplicate');
    expect(await bytesAt(blobKey(a.sha))).toEqual(data);
    expect(await bytesAt(rendition)).not.toBeNull();
    expect(await blobRow(a.sha)).toMatchObject({ refcount: 1, status: 'ready' });
  });

  it('two claims of new bytes at once: one owner, one duplicate, one copy', async () => {
    const data = randomBytes(16 * 1024);
    const [a, b] = await Promise.all([uploaded(data), uploaded(data)]);
    const roles = (await Promise.all([claim(a), claim(b)])).map((r) => r.role).sort();
    expect(roles).toEqual(['duplicate', 'owner']);
    expect(await bytesAt(blobKey(a.sha))).toEqual(data);
    expect(await blobRow(a.sha)).toMatchObject({ refcount: 2 });
    expect([await store.head(a.key), await store.head(b.key)]).toEqual([null, null]);
  });

  it('stress: 30 cycles of deleting the holders while the same bytes are uploaded again lose no bytes and orphan nothing', async () => {
    const data = randomBytes(64 * 1024);
    const sha = createHash('sha256').update(data).digest('hex');
    const CYCLES = 30;
    // Each owner after the first stored the content again after its blob was released: the race's window.
    let owners = 0;
    const lostAfter: number[] = [];
    let holders: Upload[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const next = await Promise.all([uploaded(data), uploaded(data)]);
      // The holders' deletes and the new uploads' claims, all at once.
      const [, roles] = await Promise.all([
        Promise.all(holders.map((h) => release(h.assetId, sha))),
        Promise.all(next.map(async (a) => (await claim(a)).role)),
      ]);
      for (const [i, role] of roles.entries()) {
        if (role !== 'owner') continue;
        owners += 1;
        await publish(sha, next[i]!.assetId);
      }
      if (!(await bytesAt(blobKey(sha)))?.equals(data)) lostAfter.push(cycle);
      holders = next;
    }
    const kept = holders.map((h) => h.assetId);
    await db.updateTable('media_assets').set({ status: 'ready' }).where('asset_id', 'in', kept).execute();

    if (process.env.SHOW_FIGURES) console.log(`stress: ${owners} owners over ${CYCLES} cycles`);
    expect(lostAfter).toEqual([]);
    expect(owners).toBeGreaterThan(1);
    const holding = await db
      .selectFrom('media_assets')
      .select('asset_id')
      .where('blob_sha256', '=', sha)
      .execute();
    expect(holding.map((h) => h.asset_id).sort()).toEqual([...kept].sort());
    expect(await blobRow(sha)).toMatchObject({ refcount: kept.length, status: 'ready' });
    expect(await bytesAt(blobKey(sha))).toEqual(data);
    const renditions = await blobs.renditions(sha);
    expect(renditions).toHaveLength(1);
    expect(await bytesAt(renditions[0]!.object_key)).not.toBeNull();

    // Nothing left over: the orphan sweep finds no object that no row accounts for, and no ready blob without bytes.
    const deps = {
      store,
      sweeps: new SweepRepository(db),
      assets: new AssetRepository(db),
      blobs,
      events: { publish: async () => undefined },
    };
    let orphans = 0;
    for (const prefix of SWEPT_PREFIXES) {
      const page = await run(sweepOrphanObjectsActivity(deps), {
        prefix,
        cursor: null,
        graceSeconds: 0,
        pageSize: 1000,
      });
      orphans += page.deleted;
    }
    expect(orphans).toBe(0);
    const missing = await run(failMissingBlobsActivity(deps), {
      sweepId: 'stress',
      cursor: null,
      pageSize: 1000,
    });
    expect(missing.missing).toEqual([]);
    expect(await store.list(renditionsRoot(sha))).toEqual([renditions[0]!.object_key]);
  }, 120_000);
});
