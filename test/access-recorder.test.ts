import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRecorder } from '../api/access-recorder';
import { AssetAccessRepository, type AccessCount } from '../infra/adapters/asset-access-repository';
import type { Db } from '../infra/db/database';
import { createLogger } from '../infra/logger';
import { freshDatabase } from './helpers/stack';

/** Batched access counts on a real Postgres: N reads are one upsert and one row with count N. */
describe('AccessRecorder', () => {
  let db: Db;
  let writes: AccessCount[][];
  let failNext = false;
  let recorder: AccessRecorder;
  let notified: string[][];
  let failNotify = false;

  const asset = async () => {
    const id = randomUUID();
    await db
      .insertInto('media_assets')
      .values({
        asset_id: id,
        owner_id: 1,
        bucket: 'b',
        object_key: `uploads/${id}`,
        filename: 'a.png',
        mime_type: 'image/png',
        size_bytes: 1,
        checksum_sha256: null,
        declared_checksum_sha256: null,
        status: 'ready',
        status_reason: null,
        upload_expires_at: new Date(),
      })
      .execute();
    return id;
  };
  const row = (id: string) =>
    db.selectFrom('asset_access').selectAll().where('asset_id', '=', id).executeTakeFirst();

  beforeAll(async () => {
    ({ db } = await freshDatabase());
    const repository = new AssetAccessRepository(db);
    writes = [];
    notified = [];
    // The real repository, watched: how many statements a flush costs is the point of the batching.
    recorder = new AccessRecorder(
      {
        add: async (batch) => {
          writes.push(batch);
          if (failNext) {
            failNext = false;
            throw new Error('database unavailable');
          }
          return repository.add(batch);
        },
      },
      createLogger('test', 'silent'),
      3600,
      async (reads) => {
        notified.push(reads.map((r) => r.assetId));
        if (failNotify) throw new Error('temporal unavailable');
      },
    );
  });
  afterAll(async () => db?.destroy());

  it('writes N reads of several assets as one upsert: one row per asset with its count', async () => {
    const [a, b] = [await asset(), await asset()];
    const before = new Date();
    for (let i = 0; i < 25; i++) recorder.record(a);
    for (let i = 0; i < 3; i++) recorder.record(b);
    expect(await row(a)).toBeUndefined();

    writes.length = 0;
    await recorder.flush();
    expect(writes).toHaveLength(1);
    expect(await row(a)).toMatchObject({ access_count: '25' });
    expect(await row(b)).toMatchObject({ access_count: '3' });
    expect((await row(a))!.last_access_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);

    await recorder.flush(); // nothing recorded since: no statement at all
    expect(writes).toHaveLength(1);

    recorder.record(a);
    recorder.record(a);
    await recorder.flush();
    expect(await row(a)).toMatchObject({ access_count: '27' });
    expect(await db.selectFrom('asset_access').select('asset_id').execute()).toHaveLength(2);
  });

  it('keeps the counts when a write fails and adds them at the next flush; stop() flushes', async () => {
    const a = await asset();
    for (let i = 0; i < 4; i++) recorder.record(a);
    failNext = true;
    await recorder.flush();
    expect(await row(a)).toBeUndefined();
    recorder.record(a);
    await recorder.stop();
    expect(await row(a)).toMatchObject({ access_count: '5' });
  });

  it('skips ids with no asset instead of failing everyone else’s counts', async () => {
    const a = await asset();
    recorder.record(randomUUID());
    recorder.record(a);
    await recorder.flush();
    expect(await row(a)).toMatchObject({ access_count: '1' });
  });

  it('tells the workflows of read assets once per flush, however many reads, and only after the write', async () => {
    const [a, b] = [await asset(), await asset()];
    notified.length = 0;
    for (let i = 0; i < 40; i++) recorder.record(a);
    recorder.record(b);
    failNext = true;
    await recorder.flush();
    expect(notified).toEqual([]);
    await recorder.flush();
    expect(notified).toEqual([[a, b]]);
    await recorder.flush();
    expect(notified).toHaveLength(1);

    // A signal that cannot be delivered costs nothing but the signal: the counts are written.
    failNotify = true;
    recorder.record(a);
    await expect(recorder.flush()).resolves.toBeUndefined();
    failNotify = false;
    expect(await row(a)).toMatchObject({ access_count: '41' });
  });
});
