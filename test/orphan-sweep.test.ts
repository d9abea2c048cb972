import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../infra/config';
import { blobKey, renditionsRoot } from '../domain/object-keys';
import { scheduleSpecs } from '../worker/schedules';
import { request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import {
  putBytes,
  requestUpload,
  sha256,
  uploadFile,
  waitForStatus,
  type UploadTicket,
} from './helpers/media';
import { orphanSweeps } from './helpers/histories';
import { startPlatform, type TestPlatform } from './helpers/stack';

const DEFAULTS = loadConfig(['sweeps', 'uploads'], {});

/** The orphan sweep against real S3 and Postgres: what no row accounts for goes, what lost its bytes fails. */
describe('orphan sweep', () => {
  let platform: TestPlatform;
  let token: string;
  let readyId: string;
  let readySha: string;
  let pendingKey: string;
  const planted = {
    upload: `uploads/1/${randomUUID()}`,
    blob: `blobs/aa/bb/${randomBytes(32).toString('hex')}`,
    quarantined: `quarantine/${randomBytes(32).toString('hex')}`,
    staleAttempt: '',
  };
  const multipartKey = `uploads/1/${randomUUID()}`;

  let sweep: ReturnType<typeof orphanSweeps>;
  const exists = async (key: string) => (await platform.store.head(key)) !== null;
  const openMultipart = async () =>
    (await platform.store.listMultipartUploadsPage('uploads/', null, 100)).uploads.map((u) => u.key);

  beforeAll(async () => {
    platform = await startPlatform();
    sweep = orphanSweeps(platform, 'orphan-sweep', {});
    token = await platform.token('4242');
    const png = await noisyPng(40, 40);
    readySha = sha256(png);
    readyId = await uploadFile(platform.baseUrl, token, png, 'image/png', 'kept.png');
    await waitForStatus(platform.baseUrl, token, readyId, ['ready']);

    // Uploaded but never completed: its object must survive, whatever its age.
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'open.bin',
      contentType: 'image/png',
      sizeBytes: 5,
    });
    expect(await putBytes(ticket.body as UploadTicket, Buffer.from('hello'))).toBe(200);
    pendingKey = (await platform.assets.findById(ticket.body.assetId))!.object_key;

    planted.staleAttempt = `${renditionsRoot(readySha)}${randomUUID()}/x`;
    for (const key of Object.values(planted)) await platform.store.write(key, 'orphan');
    await platform.store.createMultipartUpload(multipartKey, { contentType: 'video/mp4' });
  });
  afterAll(async () => platform?.stop());

  it('with the default grace, leaves freshly planted objects and uploads alone', async () => {
    const report = await sweep({
      graceSeconds: DEFAULTS.ORPHAN_GRACE_SECONDS,
      multipartOlderThanSeconds: DEFAULTS.UPLOAD_URL_TTL_SECONDS + DEFAULTS.ORPHAN_GRACE_SECONDS,
    });
    expect(report).toMatchObject({ orphanObjectsDeleted: 0, staleMultipartAborted: 0, missingObjects: 0 });
    for (const key of Object.values(planted)) expect(await exists(key), key).toBe(true);
    expect(await openMultipart()).toContain(multipartKey);
  });

  it('deletes objects and multipart uploads no row accounts for, and keeps every live one', async () => {
    const blob = (await platform.blobs.get(readySha))!;
    const renditionsBefore = (await platform.store.list(renditionsRoot(readySha))).filter(
      (k) => k !== planted.staleAttempt,
    );
    expect(renditionsBefore.length).toBeGreaterThan(0);

    const report = await sweep();
    expect(report).toMatchObject({ orphanObjectsDeleted: 4, staleMultipartAborted: 1, missingObjects: 0 });
    // The ready blob, its renditions, the pending upload, and the planted four; one upload; one blob record.
    expect(report.scanned).toBe(1 + renditionsBefore.length + 1 + 4 + 1 + 1);

    for (const key of Object.values(planted)) expect(await exists(key), key).toBe(false);
    expect(await openMultipart()).not.toContain(multipartKey);
    expect(await exists(blob.object_key)).toBe(true);
    expect(blob.object_key).toBe(blobKey(readySha));
    expect(await platform.store.list(renditionsRoot(readySha))).toEqual(renditionsBefore);
    expect(await exists(pendingKey)).toBe(true);
    const asset = await request('GET', `${platform.baseUrl}/media/${readyId}`, { token });
    expect(asset.body.status).toBe('ready');
  });

  it('fails every asset whose stored object vanished, with the reason, once', async () => {
    const key = blobKey(readySha);
    await platform.store.delete(key);

    const report = await sweep();
    expect(report.missingObjects).toBe(1);
    const failed = await waitForStatus(platform.baseUrl, token, readyId, ['failed']);
    expect(failed.statusReason).toBe(`stored object ${key} is missing`);
    expect(failed.failedStage).toBe('sweep');
    expect((await platform.blobs.get(readySha))!.status).toBe('failed');

    expect((await sweep()).missingObjects).toBe(0);
    const events = await platform.db
      .selectFrom('asset_events')
      .select('stage')
      .where('asset_id', '=', readyId)
      .where('stage', '=', 'sweep')
      .execute();
    expect(events).toHaveLength(1);
  });

  it('is scheduled with the configured interval, grace and upload TTL', () => {
    const spec = scheduleSpecs(loadConfig(['sweeps', 'uploads', 'integrity'], {})).find(
      (s) => s.scheduleId === 'assetline-orphan-sweep',
    );
    expect(spec).toEqual({
      scheduleId: 'assetline-orphan-sweep',
      workflowType: 'orphanSweep',
      every: '1h',
      args: [{ graceSeconds: 3600, multipartOlderThanSeconds: 900 + 3600 }],
    });
  });
});
