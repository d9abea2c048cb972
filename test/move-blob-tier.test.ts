import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { moveBlobTierActivity } from '../activities/move-blob-tier';
import { TierRepository } from '../infra/adapters/tier-repository';
import { sha256OfStream } from '../activities/hashing/hash';
import { noisyPng } from './helpers/generate-media';
import { SETTLED, sha256, uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

/** The move itself on real Postgres and S3: the blob-level decision, the pointer switch and retries. */
describe('moveBlobTier', () => {
  let platform: TestPlatform;
  let move: ReturnType<typeof moveBlobTierActivity>;
  const env = new MockActivityEnvironment();

  beforeAll(async () => {
    platform = await startPlatform();
    move = moveBlobTierActivity({ tiers: new TierRepository(platform.db), buckets: platform.buckets });
  });
  afterAll(async () => platform?.stop());
  const run = (input: Parameters<typeof move>[0]) => env.run(move, input);

  const blobRow = (sha: string) =>
    platform.db.selectFrom('blobs').selectAll().where('sha256', '=', sha).executeTakeFirstOrThrow();

  /** A second asset on the same blob, as dedup makes one, read `secondsAgo`. */
  async function duplicateReadAgo(sha: string, secondsAgo: number): Promise<void> {
    const id = randomUUID();
    await platform.db
      .insertInto('media_assets')
      .values({
        asset_id: id,
        owner_id: 99,
        bucket: platform.store.bucket,
        object_key: `uploads/99/${id}`,
        filename: 'copy.png',
        mime_type: 'image/png',
        size_bytes: 1,
        checksum_sha256: sha,
        declared_checksum_sha256: null,
        status: 'ready',
        status_reason: null,
        upload_expires_at: new Date(),
        blob_sha256: sha,
      })
      .execute();
    await platform.db
      .insertInto('asset_access')
      .values({ asset_id: id, last_access_at: new Date(Date.now() - secondsAgo * 1000), access_count: '1' })
      .execute();
  }

  it('moves down only when no asset on the blob was read within the window; a retry changes nothing', async () => {
    const token = await platform.token('5151');
    const data = await noisyPng(48, 48);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'shared.png');
    expect((await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 90_000)).status).toBe('ready');
    const sha = sha256(data);
    const { object_key: key } = await blobRow(sha);

    // The uploader never read it, but a duplicate was read 10 minutes ago: a one-hour window keeps it hot.
    await duplicateReadAgo(sha, 600);
    expect(await run({ sha256: sha, to: 'warm', idleSeconds: 3600 })).toEqual({
      moved: false,
      tier: 'hot',
    });
    expect(await blobRow(sha)).toMatchObject({ tier: 'hot', bucket: platform.store.bucket });
    expect(await platform.buckets.tier('warm').head(key)).toBeNull();

    // A five-minute window has passed for everyone: it moves.
    expect(await run({ sha256: sha, to: 'warm', idleSeconds: 300 })).toEqual({
      moved: true,
      tier: 'warm',
    });
    expect(await blobRow(sha)).toMatchObject({ tier: 'warm', bucket: platform.buckets.tier('warm').bucket });
    expect(await platform.store.head(key)).toBeNull();

    // A retry after the switch (the first attempt's result lost) leaves the one copy where it is.
    expect(await run({ sha256: sha, to: 'warm', idleSeconds: 300 })).toEqual({
      moved: false,
      tier: 'warm',
    });
    const copy = await sha256OfStream(await platform.buckets.tier('warm').read(key));
    expect(copy.sha256).toBe(sha);

    // Back to hot needs no idle window.
    expect(await run({ sha256: sha, to: 'hot', idleSeconds: 0 })).toEqual({
      moved: true,
      tier: 'hot',
    });
    expect((await sha256OfStream(await platform.store.read(key))).sha256).toBe(sha);
    expect(await platform.buckets.tier('warm').head(key)).toBeNull();
  }, 120_000);

  it('a retry clears what an attempt killed mid-move left: a half-written copy, or the source after the switch', async () => {
    const token = await platform.token('5152');
    const data = await noisyPng(40, 40);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'crashed.png');
    expect((await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 90_000)).status).toBe('ready');
    const sha = sha256(data);
    const { object_key: key } = await blobRow(sha);
    const [hot, warm] = [platform.buckets.tier('hot'), platform.buckets.tier('warm')];
    const unfinished = async (tier: 'hot' | 'warm') =>
      (await platform.buckets.tier(tier).listMultipartUploadsPage(key, null, 100)).uploads;
    const retryEnv = new MockActivityEnvironment({ attempt: 2 });
    const retry = (input: Parameters<typeof move>[0]) => retryEnv.run(move, input);

    // Killed while writing the copy: a multipart upload at the key in the target, the row still on hot.
    await warm.createMultipartUpload(key, { contentType: 'image/png' });
    expect(await retry({ sha256: sha, to: 'warm', idleSeconds: 0 })).toEqual({
      moved: true,
      tier: 'warm',
    });
    expect(await unfinished('warm')).toEqual([]);
    expect(await hot.head(key)).toBeNull();

    // Killed after switching the row back to hot, before deleting the warm source: the retry finds the row moved.
    await hot.write(key, data);
    await platform.db
      .updateTable('blobs')
      .set({ tier: 'hot', bucket: hot.bucket })
      .where('sha256', '=', sha)
      .execute();
    expect(await retry({ sha256: sha, to: 'hot', idleSeconds: 0 })).toEqual({
      moved: true,
      tier: 'hot',
    });
    expect(await warm.head(key)).toBeNull();
    expect((await sha256OfStream(await hot.read(key))).sha256).toBe(sha);
  }, 120_000);

  it('reports a blob released meanwhile as not moved', async () => {
    expect(await run({ sha256: 'f'.repeat(64), to: 'cold', idleSeconds: 1 })).toEqual({
      moved: false,
      tier: 'cold',
    });
  });
});
