import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { assetWorkflowId } from '../../workflows/definitions';
import { clip, noisyPng } from '../helpers/generate-media';
import { eventually, request } from '../helpers/http';
import {
  activityAttempts,
  expectNoTemporaries,
  expectReadyAndClean,
  heartbeatDetails,
  localFile,
  prepareUpload,
  runningActivity,
  settledStatus,
  startCrashLab,
  type CrashLab,
  type LocalFile,
} from './crash-recovery';
import { scaled } from './scale';

const IMAGES = scaled(4, 12);
const CLIPS = scaled(1, 3);
const CLIP = scaled({ width: 1280, height: 720, seconds: 4 }, { width: 1920, height: 1080, seconds: 8 });
const DOWNTIME_MS = scaled(5_000, 20_000);
const SETTLE_MS = 120_000;

let lab: CrashLab;
const media: LocalFile[] = [];

beforeAll(async () => {
  const dir = await fs.mkdtemp(path.join(inject('stack').tmpDir, 'temporal-restart-'));
  const file = (name: string) => path.join(dir, name);
  const png = async (i: number) => {
    await fs.writeFile(file(`image-${i}.png`), await noisyPng(1600, 1200));
    return localFile(file(`image-${i}.png`), 'image/png');
  };
  const mp4 = async (i: number) => {
    await clip(file(`clip-${i}.mp4`), { ...CLIP, audio: true, fps: 25 + i });
    return localFile(file(`clip-${i}.mp4`), 'video/mp4');
  };
  let images: LocalFile[];
  let clips: LocalFile[];
  [lab, images, clips] = await Promise.all([
    startCrashLab({ dataDir: file('platform'), persistTemporal: true, clamd: true }),
    Promise.all(Array.from({ length: IMAGES }, (_, i) => png(i))),
    Promise.all(Array.from({ length: CLIPS }, (_, i) => mp4(i))),
  ]);
  media.push(...clips, ...images);
});

afterAll(async () => lab?.close());

describe('a restart of the Temporal server mid-pipeline', { timeout: 180_000 }, () => {
  it('every run resumes from its persisted state and each asset becomes ready once, nothing left over', async () => {
    const uploads = await Promise.all(media.map((m) => prepareUpload(lab, m)));
    const ids = uploads.map((u) => u.assetId);
    const [first, ...others] = uploads;
    // The server goes away with every run mid-pipeline: the first clip transcoding, the others just started.
    await first!.complete();
    await runningActivity(lab, first!.assetId, 'renderRenditions', 60_000, (p) => {
      return (heartbeatDetails<{ percent: number }>(lab, p)?.percent ?? 0) > 0;
    });
    await Promise.all(others.map((u) => u.complete()));
    await eventually(
      'every upload to be processing',
      () => lab.db.selectFrom('media_assets').select('status').where('asset_id', 'in', ids).execute(),
      (rows) => rows.every((r) => r.status === 'processing'),
    );
    const running = await Promise.all(
      ids.map(async (id) => {
        const { raw } = await lab.temporal.workflow.getHandle(assetWorkflowId(id)).describe();
        return (raw.pendingActivities ?? []).map((p) => p.activityType?.name).join('+') || '-';
      }),
    );

    const stoppedAt = Date.now();
    await lab.platform.stop('temporal');
    await new Promise((r) => setTimeout(r, DOWNTIME_MS));
    await lab.platform.start('temporal');
    const restartedAt = Date.now();

    const settled = await Promise.all(
      uploads.map(async (u) => {
        expect(await settledStatus(lab, u.assetId, SETTLE_MS)).toBe('ready');
        return Date.now();
      }),
    );
    for (const u of uploads) await expectReadyAndClean(lab, u.assetId, u.media);
    await expectNoTemporaries(lab);
    // Activities whose result was lost while the server was away ran again after their timeout.
    const rerun = (await Promise.all(uploads.map(async (u) => [...(await activityAttempts(lab, u.assetId))])))
      .flat()
      .filter(([, a]) => a.attempt > 1)
      .map(([type, a]) => `${type}×${a.attempt}`);
    console.table({
      assets: uploads.length,
      rerun: rerun.join(' ') || 'none',
      runningAtStop: running.join(', '),
      downtimeS: (restartedAt - stoppedAt) / 1000,
      allReadyAfterRestartS: (Math.max(...settled) - restartedAt) / 1000,
    });
  });

  it('a release due while the server is down, and a take-down due while the worker is dead, each happen once', async () => {
    const [image] = media.filter((m) => m.contentType === 'image/png');
    const upload = await prepareUpload(lab, image!);
    await upload.complete();
    expect(await settledStatus(lab, upload.assetId, SETTLE_MS)).toBe('ready');
    const api = (body: unknown) =>
      request('PUT', `${lab.platform.apiUrl}/media/${upload.assetId}/visibility`, { token: lab.token, body });
    const released = async (type: string) =>
      lab.db
        .selectFrom('asset_events')
        .select(['event_id', 'occurred_at'])
        .where('asset_id', '=', upload.assetId)
        .where('event_type', '=', type as 'asset.published')
        .execute();
    const visibility = async () =>
      (
        await lab.db
          .selectFrom('media_assets')
          .select('visibility')
          .where('asset_id', '=', upload.assetId)
          .executeTakeFirstOrThrow()
      ).visibility;

    const publishAt = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000);
    expect((await api({ visibility: 'public', publishAt: publishAt.toISOString() })).status).toBe(200);
    await lab.platform.stop('temporal');
    await new Promise((r) => setTimeout(r, Math.max(DOWNTIME_MS, publishAt.getTime() - Date.now() + 2_000)));
    expect(await visibility()).toBe('private');
    await lab.platform.start('temporal');
    const serverBack = Date.now();
    await eventually('the release after the restart', visibility, (v) => v === 'public', 60_000);
    const publishedAfterS = (Date.now() - serverBack) / 1000;

    const unpublishAt = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000);
    expect((await api({ visibility: 'public', unpublishAt: unpublishAt.toISOString() })).status).toBe(200);
    await lab.platform.stop('worker');
    await new Promise((r) => setTimeout(r, unpublishAt.getTime() - Date.now() + 2_000));
    expect(await visibility()).toBe('public');
    await lab.platform.start('worker');
    const workerBack = Date.now();
    await eventually('the take-down after the worker came back', visibility, (v) => v === 'private', 60_000);
    const unpublishedAfterS = (Date.now() - workerBack) / 1000;

    // Once each, at the scheduled instant (the event id holds it), whatever was restarted meanwhile.
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await released('asset.published')).map((e) => e.event_id)).toEqual([
      `${upload.assetId}/asset.published/${publishAt.toISOString()}`,
    ]);
    expect((await released('asset.unpublished')).map((e) => e.event_id)).toEqual([
      `${upload.assetId}/asset.unpublished/${unpublishAt.toISOString()}`,
    ]);
    console.table({
      publishedAfterServerBackS: publishedAfterS,
      unpublishedAfterWorkerBackS: unpublishedAfterS,
    });
  });
});
