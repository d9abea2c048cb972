import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { claimBlobActivity } from '../activities/claim-blob';
import { publishRenditionsActivity } from '../activities/publish-renditions';
import { releaseBlobActivity } from '../activities/release-blob';
import { freePort } from '../devstack/ports';
import { blobKey, renditionAttemptPrefix, renditionsRoot, uploadKey } from '../domain/object-keys';
import { BlobRepository } from '../infra/adapters/blob-repository';
import { IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import type { Db } from '../infra/db/database';
import { freshDatabase, freshStore } from './helpers/stack';

/**
 * With a replica, the last release of a blob deletes the replica's copies too (issue 14.7): the original copied there
 * at ingest and the renditions mirrored there at publish. Two real buckets, real Postgres, the real activities.
 */
describe('releasing a blob deletes its replica copies', () => {
  let db: Db;
  let primary: S3ObjectStore;
  let replica: S3ObjectStore;
  let blobs: BlobRepository;
  let integrity: IntegrityRepository;
  const OWNER = '88';

  beforeAll(async () => {
    ({ db } = await freshDatabase());
    primary = await freshStore();
    replica = await freshStore();
    blobs = new BlobRepository(db);
    integrity = new IntegrityRepository(db);
  });
  afterAll(async () => {
    await db?.destroy();
    primary?.destroy();
    replica?.destroy();
  });

  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
    new MockActivityEnvironment().run(fn, ...args) as Promise<R>;

  /** A ready blob held by one asset: claimed (original replicated) and with two renditions published (mirrored). */
  async function replicatedBlob(): Promise<{ assetId: string; sha: string; renditions: string[] }> {
    const data = randomBytes(48 * 1024);
    const sha = createHash('sha256').update(data).digest('hex');
    const assetId = randomUUID();
    const key = uploadKey(OWNER, assetId);
    await db
      .insertInto('media_assets')
      .values({
        asset_id: assetId,
        owner_id: OWNER,
        bucket: primary.bucket,
        object_key: key,
        filename: 'kept.bin',
        mime_type: 'application/octet-stream',
        size_bytes: String(data.length),
        checksum_sha256: sha,
        declared_checksum_sha256: null,
        status: 'processing',
        status_reason: null,
        upload_expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    await primary.write(key, data);
    await run(claimBlobActivity({ store: primary, replica, blobs, integrity }), {
      assetId,
      sha256: sha,
      sizeBytes: data.length,
      mimeType: 'application/octet-stream',
      uploadKey: key,
    });
    const prefix = renditionAttemptPrefix(sha, `a-${randomUUID()}`);
    const renditions = [`${prefix}thumb.webp`, `${prefix}poster.webp`];
    for (const r of renditions) await primary.write(r, r);
    await run(publishRenditionsActivity({ store: primary, replica, blobs }), {
      sha256: sha,
      prefix,
      renditions: renditions.map((objectKey, i) => ({
        name: i === 0 ? 'thumb-256' : 'poster',
        objectKey,
        mimeType: 'image/webp',
        sizeBytes: objectKey.length,
      })),
    });
    // The premise: both stores hold the original and every rendition before the release.
    for (const store of [primary, replica]) {
      expect(await store.head(blobKey(sha)), `${store.bucket} original`).toMatchObject({
        sizeBytes: data.length,
      });
      expect((await store.list(renditionsRoot(sha))).sort()).toEqual([...renditions].sort());
    }
    return { assetId, sha, renditions };
  }

  const release = (assetId: string, sha: string, replicaStore: ObjectStore = replica) =>
    run(releaseBlobActivity({ store: primary, replica: replicaStore, blobs }), { assetId, sha256: sha });
  const blobRow = (sha: string) =>
    db.selectFrom('blobs').select(['status']).where('sha256', '=', sha).executeTakeFirst();

  it('the last release removes the original and the renditions from the primary and the replica', async () => {
    const { assetId, sha } = await replicatedBlob();

    expect(await release(assetId, sha)).toEqual({ removed: true });

    for (const store of [primary, replica]) {
      expect(await store.head(blobKey(sha)), `${store.bucket} original`).toBeNull();
      expect(await store.list(renditionsRoot(sha)), `${store.bucket} renditions`).toEqual([]);
    }
    expect(await blobRow(sha)).toBeUndefined();
    // A retry of the same release finds nothing left and fails on nothing.
    expect(await release(assetId, sha)).toEqual({ removed: false });
  });

  it('a replica that is down fails the attempt and keeps the row; the retry removes everything', async () => {
    const { assetId, sha, renditions } = await replicatedBlob();
    // Nothing listens on this port: every request is refused, as when the replica's server is stopped.
    const down = await freshStore(`http://127.0.0.1:${await freePort()}`, replica.bucket);

    await expect(release(assetId, sha, down)).rejects.toThrow();
    down.destroy();

    // The row outlives the objects, so the blob is found again; the replica's copies have not been forgotten.
    expect(await blobRow(sha)).toEqual({ status: 'deleting' });
    expect(await replica.head(blobKey(sha))).not.toBeNull();
    expect((await replica.list(renditionsRoot(sha))).sort()).toEqual([...renditions].sort());

    expect(await release(assetId, sha)).toEqual({ removed: true });
    for (const store of [primary, replica]) {
      expect(await store.head(blobKey(sha)), `${store.bucket} original`).toBeNull();
      expect(await store.list(renditionsRoot(sha)), `${store.bucket} renditions`).toEqual([]);
    }
    expect(await blobRow(sha)).toBeUndefined();
  });
});
