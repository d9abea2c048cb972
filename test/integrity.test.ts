import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailoverObjectStore } from '../infra/adapters/failover-object-store';
import { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { CHUNK_BYTES, sha256OfStream } from '../activities/hashing/hash';
import { createLogger } from '../infra/logger';
import { freePort } from '../devstack/ports';
import { SCHEDULE_DEFAULTS, ensureSchedules } from '../worker/schedules';
import type { IntegrityScanResult } from '../workflows/integrity-scan';
import { noisyPng } from './helpers/generate-media';
import { SETTLED, sha256, uploadFile, waitForStatus } from './helpers/media';
import { freshStore, s3SettingsFor, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/** Chunk manifests, integrity scans with repair from a replica, read failover and the scan's schedule. */
describe('integrity and replication', () => {
  let withReplica: TestPlatform;
  let replica: S3ObjectStore;
  let alone: TestPlatform;

  beforeAll(async () => {
    replica = await freshStore();
    [withReplica, alone] = await Promise.all([startPlatform({ replica }), startPlatform()]);
  });
  afterAll(async () => {
    await Promise.all([withReplica?.stop(), alone?.stop()]);
    replica?.destroy();
  });

  async function ingest(platform: TestPlatform, data: Buffer): Promise<{ assetId: string; key: string }> {
    const token = await platform.token('7007');
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'noise.png');
    const asset = await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 90_000);
    expect(asset.status).toBe('ready');
    const blob = await platform.blobs.get(sha256(data));
    return { assetId, key: blob!.object_key };
  }

  const scan = (platform: TestPlatform, input: { budgetSeconds: number; batchSize: number }) =>
    platform.temporal.workflow.execute('integrityScan', {
      taskQueue: platform.taskQueue,
      workflowId: uniqueName('integrity-scan'),
      args: [input],
    }) as Promise<IntegrityScanResult>;

  /** Flips one byte of the stored primary object, as silent disk corruption would. */
  async function corrupt(platform: TestPlatform, key: string, offset: number): Promise<void> {
    const bytes = Buffer.concat(await (await platform.store.read(key)).toArray());
    bytes[offset] = bytes[offset]! ^ 0xff;
    await platform.store.write(key, bytes);
  }

  const blobRow = (platform: TestPlatform, sha: string) =>
    platform.db.selectFrom('blobs').selectAll().where('sha256', '=', sha).executeTakeFirstOrThrow();

  it('keeps a chunk manifest and a replica copy; a run checks one batch within its budget and the next resumes', async () => {
    const [big, small] = await Promise.all([noisyPng(2000, 1600), noisyPng(64, 64)]);
    expect(big.length).toBeGreaterThan(CHUNK_BYTES);
    const [bigBlob] = await Promise.all([ingest(withReplica, big), ingest(withReplica, small)]);

    const row = await blobRow(withReplica, sha256(big));
    expect(row.chunk_bytes).toBe(CHUNK_BYTES);
    expect(row.chunk_sha256).toEqual([
      sha256(big.subarray(0, CHUNK_BYTES)),
      sha256(big.subarray(CHUNK_BYTES)),
    ]);
    expect(row.integrity_status).toBe('unchecked');
    expect(row.replica_key).toBe(bigBlob.key);
    expect((await sha256OfStream(await replica.read(bigBlob.key))).sha256).toBe(sha256(big));

    // Budget 0: exactly one batch per run, so two runs of one blob each must cover both blobs.
    const first = await scan(withReplica, { budgetSeconds: 0, batchSize: 1 });
    const second = await scan(withReplica, { budgetSeconds: 0, batchSize: 1 });
    expect([first, second].map((r) => [r.checked, r.ok])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const checked = await withReplica.db
      .selectFrom('blobs')
      .select(['sha256', 'integrity_status', 'integrity_checked_at'])
      .execute();
    expect(checked.map((b) => b.integrity_status).sort()).toEqual(['ok', 'ok']);
    expect(checked.every((b) => b.integrity_checked_at !== null)).toBe(true);
    const complete = await scan(withReplica, { budgetSeconds: 60, batchSize: 5 });
    expect(complete).toMatchObject({ checked: 2, ok: 2, complete: true });
  });

  it('names the damaged chunk and repairs the primary from the replica', async () => {
    const data = await noisyPng(2000, 1600);
    const { assetId, key } = await ingest(withReplica, data);
    await corrupt(withReplica, key, CHUNK_BYTES + 1234);

    const result = await scan(withReplica, { budgetSeconds: 120, batchSize: 10 });
    expect(result.repaired).toBe(1);
    const row = await blobRow(withReplica, sha256(data));
    expect(row.integrity_status).toBe('repaired');
    expect(row.integrity_detail).toContain(`bytes ${CHUNK_BYTES}-${data.length - 1}`);
    expect(row.integrity_detail).not.toContain('bytes 0-');
    expect((await sha256OfStream(await withReplica.store.read(key))).sha256).toBe(sha256(data));
    expect((await withReplica.assets.findById(assetId))?.status).toBe('ready');
  });

  it('without a replica, marks the blob corrupt and fails its asset with the damaged range', async () => {
    const data = await noisyPng(2000, 1600);
    const { assetId, key } = await ingest(alone, data);
    expect((await blobRow(alone, sha256(data))).replica_key).toBeNull();
    await corrupt(alone, key, 5);

    const result = await scan(alone, { budgetSeconds: 120, batchSize: 10 });
    expect(result.corrupt).toBe(1);
    const row = await blobRow(alone, sha256(data));
    expect(row.integrity_status).toBe('corrupt');
    expect(row.integrity_detail).toContain(`bytes 0-${CHUNK_BYTES - 1} differ`);
    const asset = await alone.assets.findById(assetId);
    expect(asset).toMatchObject({ status: 'failed', failed_stage: 'integrity' });
    expect(asset?.status_reason).toContain(`bytes 0-${CHUNK_BYTES - 1}`);

    // A later run finds it again but records no second failure event.
    await scan(alone, { budgetSeconds: 120, batchSize: 10 });
    const failures = await alone.db
      .selectFrom('asset_events')
      .select('event_id')
      .where('asset_id', '=', assetId)
      .where('stage', '=', 'integrity')
      .execute();
    expect(failures).toHaveLength(1);
  });

  it('reads from the replica when the primary endpoint is down, but not for a missing key', async () => {
    const data = Buffer.from('replicated bytes');
    await replica.write('blobs/failover/one', data);
    const deadPrimary = new S3ObjectStore(
      s3SettingsFor(replica.bucket, `http://127.0.0.1:${await freePort()}`),
    );
    const failovers: string[] = [];
    const store = new FailoverObjectStore(deadPrimary, replica, (op) => failovers.push(op));
    try {
      expect(Buffer.concat(await (await store.read('blobs/failover/one')).toArray())).toEqual(data);
      const range = await store.readRange('blobs/failover/one', { start: 0, end: 9 });
      expect(Buffer.concat(await range!.body.toArray()).toString()).toBe('replicated');
      expect(await store.head('blobs/failover/one')).toMatchObject({ sizeBytes: data.length });
      expect(failovers).toEqual(['read', 'readRange', 'head']);
      await expect(store.write('blobs/failover/two', 'x')).rejects.toThrow();

      // The primary answering "no such object" is an answer: the replica's copy is not served instead.
      const live = new FailoverObjectStore(withReplica.store, replica);
      expect(await live.head('blobs/failover/one')).toBeNull();
      await expect(live.read('blobs/failover/one')).rejects.toMatchObject({ name: 'NoSuchKey' });
    } finally {
      deadPrimary.destroy();
    }
  });

  it('creates the scan schedule idempotently', async () => {
    const logger = createLogger('test', 'silent');
    await ensureSchedules(withReplica.temporal, withReplica.taskQueue, logger);
    const handle = withReplica.temporal.schedule.getHandle('assetline-integrity-scan');
    try {
      const first = await handle.describe();
      expect(first.action).toMatchObject({ workflowType: 'integrityScan', taskQueue: withReplica.taskQueue });
      await expect(
        ensureSchedules(withReplica.temporal, withReplica.taskQueue, logger, {
          ...SCHEDULE_DEFAULTS,
          INTEGRITY_SCAN_INTERVAL: '1h',
          INTEGRITY_SCAN_BUDGET_SECONDS: 30,
        }),
      ).resolves.toBeUndefined();
      const updated = await handle.describe();
      expect(updated.spec.intervals?.[0]?.every).toBe(3_600_000);
      expect(updated.action).toMatchObject({ args: [{ budgetSeconds: 30, batchSize: 50 }] });
    } finally {
      await handle.delete();
    }
  });
});
