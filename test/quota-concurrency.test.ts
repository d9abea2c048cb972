import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { checkQuotaActivity } from '../activities/check-quota';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { QuotaRepository } from '../infra/adapters/quota-repository';
import { createDb, type Db } from '../infra/db/database';
import { request } from './helpers/http';
import { requestUpload } from './helpers/media';
import { freshDatabase, startPlatform, type TestPlatform } from './helpers/stack';

const REQUESTS = 200;
const ROOM = 10;
const SIZE = 1_000;

/** Room for 10, asked 200 times at once: the database decides, so exactly the room is given, by count and by bytes. */
describe('quota under concurrency', () => {
  describe('upload URLs (through the API)', () => {
    let platform: TestPlatform;
    beforeAll(async () => {
      platform = await startPlatform();
    });
    afterAll(async () => platform?.stop());

    it.each([
      ['count', { maxAssets: ROOM }],
      ['bytes', { maxBytes: ROOM * SIZE }],
    ])(
      '%s: 200 concurrent requests with room for 10 → 10 URLs, 190 problem+json 403s',
      async (_what, limits) => {
        const owner = String(6000 + Math.floor(Math.random() * 1000));
        await platform.quotas.setLimits(owner, limits);
        const token = await platform.token(owner);
        const answers = await Promise.all(
          Array.from({ length: REQUESTS }, (_, i) =>
            requestUpload(platform.baseUrl, token, {
              filename: `q${i}.png`,
              contentType: 'image/png',
              sizeBytes: SIZE,
            }),
          ),
        );
        const statuses = answers.map((a) => a.status);
        expect(statuses.filter((s) => s === 201)).toHaveLength(ROOM);
        const refused = answers.filter((a) => a.status !== 201);
        expect(refused.map((a) => a.status)).toEqual(Array(REQUESTS - ROOM).fill(403));
        for (const r of refused) {
          expect(r.headers.get('content-type')).toContain('application/problem+json');
          expect((r.body as unknown as { detail: string }).detail).toMatch(/^quota exceeded: /);
        }
        const rows = await platform.db
          .selectFrom('media_assets')
          .select(['size_bytes'])
          .where('owner_id', '=', owner)
          .execute();
        expect(rows).toHaveLength(ROOM);
        expect(rows.reduce((sum, r) => sum + Number(r.size_bytes), 0)).toBe(ROOM * SIZE);
        const usage = (await platform.quotas.forUpload(owner)).usage;
        expect(usage).toEqual({ assets: ROOM, bytes: ROOM * SIZE });
        // Their upload windows are not this test's subject.
        await Promise.all(
          answers
            .filter((a) => a.status === 201)
            .map((a) => request('DELETE', `${platform.baseUrl}/media/${a.body.assetId}/upload`, { token })),
        );
      },
    );
  });

  describe('completion (the checkQuota activity on real Postgres)', () => {
    let db: Db;
    let quotas: QuotaRepository;
    beforeAll(async () => {
      const fresh = await freshDatabase();
      await fresh.db.destroy();
      db = createDb(fresh.url, 40);
      quotas = new QuotaRepository(db, { maxBytes: 10 ** 12, maxAssets: 10 ** 6 });
    });
    afterAll(async () => db?.destroy());

    /** `n` uploads of the owner that completed and are being verified, as the workflow leaves them at the check. */
    async function completing(owner: string, n: number): Promise<string[]> {
      const ids = Array.from({ length: n }, () => randomUUID());
      await db
        .insertInto('media_assets')
        .values(
          ids.map((id) => ({
            asset_id: id,
            owner_id: owner,
            bucket: 'b',
            object_key: `uploads/${owner}/${id}`,
            filename: 'c.png',
            mime_type: 'image/png',
            size_bytes: String(SIZE),
            checksum_sha256: null,
            declared_checksum_sha256: null,
            status: 'processing' as const,
            status_reason: 'upload completed',
            upload_expires_at: new Date(Date.now() + 3_600_000),
          })),
        )
        .execute();
      return ids;
    }

    it.each([
      ['count', '7101', { maxAssets: ROOM }],
      ['bytes', '7102', { maxBytes: ROOM * SIZE }],
    ])(
      '%s: 200 concurrent completions with room for 10 → exactly 10 admitted',
      async (_what, owner, limits) => {
        await quotas.setLimits(owner, limits);
        const ids = await completing(owner, REQUESTS);
        // The assets repository only for the code before the fix, which read the asset itself.
        const deps = { quotas, assets: new AssetRepository(db) };
        const check = checkQuotaActivity(deps);
        const run = (assetId: string) =>
          new MockActivityEnvironment().run(check, { assetId, sizeBytes: SIZE }) as ReturnType<typeof check>;
        const results = await Promise.all(ids.map(run));
        const admitted = ids.filter((_, i) => results[i]!.ok);
        expect(admitted).toHaveLength(ROOM);
        for (const r of results.filter((x) => !x.ok)) {
          expect(r).toMatchObject({
            ok: false,
            reason: expect.stringMatching(/^quota exceeded: .*\(checked at completion\)$/),
          });
        }
        // A retried check of an admitted asset is admitted again; one that was refused stays refused.
        const again = await run(admitted[0]!);
        expect(again).toEqual({ ok: true });
        const refusedId = ids.find((id) => !admitted.includes(id))!;
        expect((await run(refusedId)).ok).toBe(false);
      },
    );
  });
});
