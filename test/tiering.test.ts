import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tier } from '../infra/adapters/tier-repository';
import { sha256OfStream } from '../activities/hashing/hash';
import { noisyPng } from './helpers/generate-media';
import { eventually, request } from './helpers/http';
import { SETTLED, sha256, uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

const SECOND_IN_DAYS = 1 / 86_400;

/** Hot → warm → cold on real buckets, driven by the asset workflow's timers; a read brings the blob back. */
describe('storage tiering', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPlatform({ hotDays: 3 * SECOND_IN_DAYS, coldDays: 6 * SECOND_IN_DAYS });
  });
  afterAll(async () => platform?.stop());

  const blobRow = (sha: string) =>
    platform.db.selectFrom('blobs').selectAll().where('sha256', '=', sha).executeTakeFirstOrThrow();

  /** Waits for the tier, then checks the bytes sit in that tier's bucket alone, intact. */
  async function expectTier(sha: string, tier: Tier): Promise<void> {
    const row = await eventually(
      `blob ${tier}`,
      () => blobRow(sha),
      (r) => r.tier === tier,
    );
    expect(row.bucket).toBe(platform.buckets.tier(tier).bucket);
    expect(row.tier_changed_at).toBeInstanceOf(Date);
    const stored = await sha256OfStream(await platform.buckets.tier(tier).read(row.object_key));
    expect(stored.sha256).toBe(sha);
    for (const other of (['hot', 'warm', 'cold'] as const).filter((t) => t !== tier)) {
      expect(await platform.buckets.tier(other).head(row.object_key)).toBeNull();
    }
  }

  async function fetchOriginal(assetId: string, token: string): Promise<Buffer> {
    const res = await fetch(`${platform.baseUrl}/media/${assetId}/content`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  it('an unread blob moves to warm, then cold, and is still delivered; a read brings it back to hot', async () => {
    const token = await platform.token('4242');
    const data = await noisyPng(64, 64);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'tiered.png');
    expect((await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 90_000)).status).toBe('ready');
    const sha = sha256(data);

    await expectTier(sha, 'warm');
    await expectTier(sha, 'cold');
    expect(await fetchOriginal(assetId, token)).toEqual(data);
    const view = await request('GET', `${platform.baseUrl}/media/${assetId}`, { token });
    expect(view.body).toMatchObject({ tier: 'cold', tierChangedAt: expect.any(String) });

    // The read reaches the workflow with the next access flush.
    await platform.accessRecorder.flush();
    await expectTier(sha, 'hot');
    expect(await fetchOriginal(assetId, token)).toEqual(data);

    const events = await platform.db
      .selectFrom('asset_events')
      .select(['reason', 'stage'])
      .where('asset_id', '=', assetId)
      .where('stage', '=', 'tier')
      .orderBy('occurred_at')
      .execute();
    expect(events.map((e) => e.reason)).toEqual([
      'moved from hot to warm: not read for 3 s',
      'moved from warm to cold: not read for 6 s',
      'moved from cold to hot: read while cold',
    ]);
  }, 120_000);
});
