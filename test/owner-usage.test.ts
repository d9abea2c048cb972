import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../infra/db/database';
import { QuotaRepository } from '../infra/adapters/quota-repository';
import { freshDatabase } from './helpers/stack';

const OWNERS = ['71', '72', '73'];

describe('owner_usage, kept by triggers on media_assets', () => {
  let db: Db;
  let quotas: QuotaRepository;

  beforeAll(async () => {
    ({ db } = await freshDatabase());
    quotas = new QuotaRepository(db, { maxBytes: 10 ** 12, maxAssets: 10 ** 6 });
  });
  afterAll(async () => db?.destroy());

  /** The counters forUpload reads must equal the sum over the owner's assets, whatever happened to them. */
  async function expectCountersToMatchSums(): Promise<void> {
    for (const owner of OWNERS) {
      const summed = await quotas.usage(owner, { includePending: true });
      expect((await quotas.forUpload(owner)).usage, `owner ${owner}`).toEqual(summed);
    }
  }

  it('follows inserts, status and size changes and deletes, of one row or many at once', async () => {
    await sql`
      insert into media_assets (asset_id, owner_id, bucket, object_key, filename, mime_type, declared_mime_type,
                                size_bytes, status, status_reason, upload_expires_at)
      select gen_random_uuid(), 71 + i % 3, 'b', 'k/' || i, 'f', 'image/png', 'image/png', 100 * i,
             (array['pending', 'processing', 'ready', 'failed', 'quarantined', 'rejected', 'expired',
                    'deleted'])[1 + i % 8], 'seeded', now()
      from generate_series(1, 240) i`.execute(db);
    const first = await quotas.forUpload('71');
    expect(first.usage.assets).toBeGreaterThan(0);
    await expectCountersToMatchSums();

    // Out of the holding statuses, into them, within them, a size change, and deletes of both kinds of rows.
    await sql`update media_assets set status = 'deleted' where owner_id = 71 and status = 'ready'`.execute(
      db,
    );
    await sql`update media_assets set status = 'processing' where owner_id = 72 and status = 'rejected'`.execute(
      db,
    );
    await sql`update media_assets set status = 'ready' where owner_id = 73 and status = 'pending'`.execute(
      db,
    );
    await sql`update media_assets set size_bytes = size_bytes + 7 where owner_id = 73`.execute(db);
    await sql`delete from media_assets where owner_id = 72 and status in ('pending', 'expired')`.execute(db);
    await expectCountersToMatchSums();
    expect((await quotas.forUpload('71')).usage.assets).toBeLessThan(first.usage.assets);

    await sql`delete from media_assets where owner_id = 71`.execute(db);
    expect((await quotas.forUpload('71')).usage).toEqual({ assets: 0, bytes: 0 });
  });

  it('writes nothing for an update that leaves the sums alone', async () => {
    const before = await sql<{ xmin: string }>`select xmin from owner_usage where owner_id = 73`.execute(db);
    await sql`update media_assets set doc_version = doc_version + 1 where owner_id = 73`.execute(db);
    const after = await sql<{ xmin: string }>`select xmin from owner_usage where owner_id = 73`.execute(db);
    expect(after.rows).toEqual(before.rows);
    await expectCountersToMatchSums();
  });

  it('gives an owner without assets its limits and no usage', async () => {
    await quotas.setLimits('74', { maxAssets: 3 });
    await quotas.setRetentionDays('74', 9);
    expect(await quotas.forUpload('74')).toEqual({
      limits: { maxBytes: 10 ** 12, maxAssets: 3 },
      usage: { assets: 0, bytes: 0 },
      retentionDays: 9,
    });
  });
});
