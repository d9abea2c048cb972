import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobKey, renditionsRoot } from '../domain/object-keys';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { noisyPng } from './helpers/generate-media';
import { sha256, uploadFile, waitForStatus } from './helpers/media';
import { orphanSweeps } from './helpers/histories';
import { freshStore, startPlatform, type TestPlatform } from './helpers/stack';

/**
 * With a replica bucket, the orphan sweep clears the replica too: copies no blob row accounts for (a claim that
 * died after copying, a blob whose release lost the race with a crash) and rendition attempts never published,
 * while the live blob's copy and its published renditions stay. The real workflow, worker, S3 and Postgres.
 */
describe('orphan sweep of the replica', () => {
  let platform: TestPlatform;
  let replica: S3ObjectStore;
  let token: string;
  let readySha: string;

  let sweep: ReturnType<typeof orphanSweeps>;
  const inReplica = async (key: string) => (await replica.head(key)) !== null;

  beforeAll(async () => {
    replica = await freshStore();
    platform = await startPlatform({ replica });
    sweep = orphanSweeps(platform, 'orphan-sweep-replica', { multipartOlderThanSeconds: 3600 });
    token = await platform.token('4343');
    const png = await noisyPng(48, 48);
    readySha = sha256(png);
    const id = await uploadFile(platform.baseUrl, token, png, 'image/png', 'kept.png');
    await waitForStatus(platform.baseUrl, token, id, ['ready']);
  });
  afterAll(async () => {
    await platform?.stop();
    replica?.destroy();
  });

  it('deletes the copies no row accounts for and keeps the live blob and its published renditions', async () => {
    const blob = (await platform.blobs.get(readySha))!;
    expect(blob.replica_key).toBe(blobKey(readySha));
    const liveRenditions = await replica.list(renditionsRoot(readySha));
    expect(liveRenditions.length).toBeGreaterThan(0);
    const orphans = {
      blob: blobKey(randomBytes(32).toString('hex')),
      attempt: `${renditionsRoot(readySha)}${randomUUID()}/thumb-256.webp`,
      renditionsOfNoBlob: `${renditionsRoot(randomBytes(32).toString('hex'))}${randomUUID()}/poster.webp`,
    };
    for (const key of Object.values(orphans)) await replica.write(key, 'orphan');

    // With the default grace nothing this fresh goes.
    await sweep({ graceSeconds: 3600 });
    for (const key of Object.values(orphans)) expect(await inReplica(key), key).toBe(true);

    const report = await sweep();
    expect(report.orphanObjectsDeleted).toBe(3);
    for (const key of Object.values(orphans)) expect(await inReplica(key), key).toBe(false);
    expect(await inReplica(blob.replica_key!)).toBe(true);
    expect(await replica.list(renditionsRoot(readySha))).toEqual(liveRenditions);
    // The primary was swept as before and lost nothing live.
    expect(await platform.store.head(blob.object_key)).not.toBeNull();
  });
});
