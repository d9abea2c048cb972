import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clip, largePdf } from '../helpers/generate-media';
import type { temporal } from '@temporalio/proto';
import { assetWorkflowId, type AssetStage } from '../../workflows/definitions';
import { eventually } from '../helpers/http';
import {
  activityAttempts,
  localFile,
  expectNoTemporaries,
  expectReadyAndClean,
  freezeMedia,
  heartbeatDetails,
  killWorker,
  localActivityType,
  prepareUpload,
  runningActivity,
  settledStatus,
  startCrashLab,
  startedAt,
  type CrashLab,
  type LocalFile,
  type PendingActivity,
  type PreparedUpload,
} from './crash-recovery';
import { scaled } from './scale';

const MB = 1024 * 1024;
// clamd (and CLAMD_MAX_STREAM_BYTES) scan at most 100 MiB: a larger blob fails its scan, it never becomes ready.
const PDF_BYTES = 95 * MB;
const CLIP = scaled({ width: 1280, height: 720, seconds: 6 }, { width: 1920, height: 1080, seconds: 10 });
const IMAGE_SIDE = scaled(8000, 10_000);
/** The tier move's blob goes warm after this long unread (and cold only after a day). */
const HOT_SECONDS = 2;
const PAUSE_MS = 500;
// Generous: under load a restarted worker took 10 s to come back and a 64 MP PNG's metadata waits behind transcodes.
const REACH_MS = 120_000;
const SETTLE_MS = 120_000;

/**
 * A 16-bit interlaced PNG of photo size: a real type that must be decoded whole, so thumbnailing it takes seconds
 * (nearest-neighbour blocks keep the file small).
 */
async function largePng(file: string, side: number): Promise<void> {
  const seed = side / 10;
  await sharp(randomBytes(seed * seed * 3), { raw: { width: seed, height: seed, channels: 3 } })
    .resize(side, side, { kernel: 'nearest' })
    .toColourspace('rgb16')
    .png({ progressive: true, compressionLevel: 6 })
    .toFile(file);
}

/** Established TCP connections to a local port (only the worker talks to clamd). */
async function connectionsTo(port: number): Promise<number> {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await fs.readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, , remote, state] = line.trim().split(/\s+/);
      if (remote?.endsWith(hexPort) && state === '01') n += 1;
    }
  }
  return n;
}

let lab: CrashLab;
const media = new Map<string, LocalFile>();
const figures: Record<string, unknown>[] = [];
const prepare = (name: string) => prepareUpload(lab, media.get(name)!);
/** A heartbeat shows the work midway: ffmpeg's progress, or bytes hashed. */
const midway = (key: 'percent' | 'bytesHashed') => (p: PendingActivity) =>
  (heartbeatDetails<Record<string, number>>(lab, p)?.[key] ?? 0) > 0;

beforeAll(async () => {
  const dir = await fs.mkdtemp(path.join(inject('stack').tmpDir, 'worker-kill-'));
  const file = (name: string) => path.join(dir, name);
  const pdf = async (name: string) => {
    const { sha256 } = await largePdf(file(name), PDF_BYTES);
    media.set(name, { file: file(name), contentType: 'application/pdf', sha256 });
  };
  const generated = async (name: string, contentType: string, make: (f: string) => Promise<void>) => {
    await make(file(name));
    media.set(name, await localFile(file(name), contentType));
  };
  [lab] = await Promise.all([
    startCrashLab({
      dataDir: file('platform'),
      persistTemporal: true,
      clamd: true,
      // The PDFs' light media stages need not queue behind the clip and the image.
      workerEnv: { MEDIA_CONCURRENCY: '4' },
    }),
    pdf('hashing.pdf'),
    pdf('scanning.pdf'),
    pdf('tiering.pdf'),
    generated('transcoding.mp4', 'video/mp4', (f) => clip(f, { ...CLIP, audio: true })),
    generated('thumbnailing.png', 'image/png', (f) => largePng(f, IMAGE_SIDE)),
    ...['small.png', 'small-publish.png'].map((name) =>
      generated(name, 'image/png', (f) =>
        sharp(randomBytes(64 * 64 * 3), { raw: { width: 64, height: 64, channels: 3 } })
          .png()
          .toFile(f)
          .then(() => undefined),
      ),
    ),
  ]);
});

afterAll(async () => {
  if (figures.length) console.table(figures);
  await lab?.close();
});

interface Interrupted {
  stage: string;
  upload: PreparedUpload;
  /** The activity as Temporal showed it running just before the kill. */
  run: PendingActivity;
  killedAt: number;
}

/** Once the asset has settled: Temporal ran the very activity the kill interrupted again; notes the timings. */
async function recovered({ stage, upload, run, killedAt }: Interrupted, settle: () => Promise<unknown>) {
  await settle();
  const settledAt = Date.now();
  const activity = run.activityType!.name!;
  const retry = (await activityAttempts(lab, upload.assetId)).get(activity);
  expect(retry?.runs, `${activity} was retried`).toBeGreaterThanOrEqual(2);
  figures.push({
    stage,
    activity,
    killedIntoItS: (killedAt - startedAt(run)) / 1000,
    attempts: retry?.runs,
    retriedAfterKillS: (retry!.startedAt - killedAt) / 1000,
    settledAfterKillS: (settledAt - killedAt) / 1000,
  });
}

/**
 * After a kill inside a local activity: the worker comes back, the asset becomes ready, and its history shows the
 * task that ran `activity` timed out (it died with the worker), `activity` recorded as a local activity, and never
 * sent to the server as a task. The history is read once it holds the local activity's marker: the status row turns
 * ready inside the workflow task, before the task completes and its markers are written.
 */
async function ranAgainLocally(upload: PreparedUpload, killedAt: number, stage: string, activity: string) {
  await lab.platform.start('worker');
  expect(await settledStatus(lab, upload.assetId, SETTLE_MS)).toBe('ready');
  figures.push({ stage, settledAfterKillS: (Date.now() - killedAt) / 1000 });
  const events = await eventually(
    `the history to record ${activity}`,
    async () =>
      (await lab.temporal.workflow.getHandle(assetWorkflowId(upload.assetId)).fetchHistory()).events ?? [],
    (history) => localActivityTypes(history).includes(activity),
    SETTLE_MS,
  );
  expect(events.some((e) => e.workflowTaskTimedOutEventAttributes)).toBe(true);
  expect(
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity),
  ).toEqual([]);
  return events;
}

/** The types of the local activities a history recorded, in order. */
const localActivityTypes = (events: temporal.api.history.v1.IHistoryEvent[]) =>
  events.flatMap((e) => localActivityType(e) ?? []);

/** The stage's event recorded once however often its task ran, and the asset ready and clean. */
async function expectOneEventAndClean(upload: PreparedUpload, stage: AssetStage, reason: string) {
  const events = await lab.db
    .selectFrom('asset_events')
    .select('reason')
    .where('asset_id', '=', upload.assetId)
    .where('stage', '=', stage)
    .execute();
  expect(events.map((r) => r.reason)).toEqual([reason]);
  await expectReadyAndClean(lab, upload.assetId, upload.media);
  await expectNoTemporaries(lab);
}

const ready = (upload: PreparedUpload) => async () =>
  expect(await settledStatus(lab, upload.assetId, SETTLE_MS)).toBe('ready');

describe('kill -9 of the worker', { timeout: 180_000 }, () => {
  it('amid hashing, scanning, transcoding and thumbnailing: each asset becomes ready once, nothing left over', async () => {
    const [hashing, scanning, transcoding, thumbnailing] = await Promise.all([
      prepare('hashing.pdf'),
      prepare('scanning.pdf'),
      prepare('transcoding.mp4'),
      prepare('thumbnailing.png'),
    ]);
    // Two kills, each while a long stage and a short one are under way: a short stage reached while a long one runs
    // lines up however fast or busy the machine is. The second kill normally comes before the first one's retries.
    await transcoding.complete();
    // Taken as soon as a worker has it, not once a heartbeat shows its percent: heartbeats reach the server every 2 s,
    // and CI once saw a render finish between two. Frozen from then on (ffmpeg caught within 20 ms of its start), the
    // clip's render cannot finish before the kill, however long the hashing takes to be reached.
    const transcodingRun = await runningActivity(lab, transcoding.assetId, 'renderRenditions', REACH_MS);
    const clipFrozen = freezeMedia(lab);
    await hashing.complete();
    const hashingRun = await runningActivity(
      lab,
      hashing.assetId,
      'verifyUpload',
      REACH_MS,
      midway('bytesHashed'),
    );
    const firstKill = await killWorker(lab, PAUSE_MS, clipFrozen);
    figures.push({ stage: '(worker back)', restartS: (Date.now() - firstKill) / 1000 });

    await thumbnailing.complete();
    const thumbnailingRun = await runningActivity(lab, thumbnailing.assetId, 'renderRenditions', REACH_MS);
    const imageFrozen = freezeMedia(lab);
    await scanning.complete();
    const scanningRun = await runningActivity(lab, scanning.assetId, 'scanBlob', REACH_MS);
    const secondKill = await killWorker(lab, PAUSE_MS, imageFrozen);
    figures.push({ stage: '(worker back)', restartS: (Date.now() - secondKill) / 1000 });

    const interrupted: Interrupted[] = [
      { stage: 'transcoding', upload: transcoding, run: transcodingRun, killedAt: firstKill },
      { stage: 'hashing', upload: hashing, run: hashingRun, killedAt: firstKill },
      { stage: 'thumbnailing', upload: thumbnailing, run: thumbnailingRun, killedAt: secondKill },
      { stage: 'scanning', upload: scanning, run: scanningRun, killedAt: secondKill },
    ];
    await Promise.all(interrupted.map((i) => recovered(i, ready(i.upload))));
    for (const { upload } of interrupted) await expectReadyAndClean(lab, upload.assetId, upload.media);
    await expectNoTemporaries(lab);
  });

  it("amid a small file's scan, a local activity: its workflow task times out and the scan runs again", async () => {
    const small = await prepare('small.png');
    // clamd stopped: the scan connects and then waits for the verdict, so the kill lands inside the local activity.
    const clamdPid = Number(await fs.readFile(path.join(lab.platform.clamd!.dataDir, 'clamd.pid'), 'utf8'));
    process.kill(clamdPid, 'SIGSTOP');
    let killedAt: number;
    try {
      await small.complete();
      await eventually(
        'the worker to connect to clamd for the scan',
        async () => connectionsTo(lab.platform.clamd!.port),
        (n) => n > 0,
        REACH_MS,
      );
      killedAt = Date.now();
      await lab.platform.kill('worker');
    } finally {
      process.kill(clamdPid, 'SIGCONT');
    }
    await ranAgainLocally(small, killedAt!, 'scanning, local', 'scanBlob');
    await expectOneEventAndClean(small, 'scan', 'scan: clean');
  });

  it("amid a small file's publish, a local activity: the task runs again and the set is published once", async () => {
    const small = await prepare('small-publish.png');
    // Publishing replaces the blob's rendition rows: held behind a table lock only writers wait for (nothing else
    // writes renditions before publishing), the worker is killed while the local activity waits inside it.
    const holder = new pg.Client({ connectionString: lab.platform.env.DATABASE_URL });
    await holder.connect();
    let killedAt: number;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE blob_renditions IN SHARE MODE');
      await small.complete();
      await eventually(
        'the publish to wait for the renditions table',
        async () =>
          (
            await holder.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_locks
                WHERE relation = 'blob_renditions'::regclass AND NOT granted AND pid <> pg_backend_pid()`,
            )
          ).rows[0]!.n,
        (n) => Number(n) > 0,
        REACH_MS,
      );
      killedAt = Date.now();
      await lab.platform.kill('worker');
    } finally {
      await holder.query('ROLLBACK').finally(() => holder.end());
    }
    const events = await ranAgainLocally(small, killedAt!, 'publishing, local', 'publishRenditions');
    // Each local activity's result is a marker naming it; one publish reached the history.
    const recorded = localActivityTypes(events);
    expect(
      recorded.filter((type) => type === 'publishRenditions'),
      `local activities recorded: ${recorded.join(', ')}`,
    ).toHaveLength(1);
    // The task's transition before the publish ran twice and was recorded once.
    await expectOneEventAndClean(small, 'validate', 'renditions validated');
  });

  it('amid a tier move: the blob ends in the warm bucket alone, intact', async () => {
    // The API hands its hot window to each new workflow: the assets above keep theirs (30 days).
    await lab.platform.stop('api');
    await lab.platform.start('api', { HOT_DAYS: String(HOT_SECONDS / 86_400), COLD_DAYS: '1' });
    const tiering = await prepare('tiering.pdf');
    await tiering.complete();
    const run = await runningActivity(lab, tiering.assetId, 'moveBlobTier', REACH_MS);
    const killedAt = await killWorker(lab, PAUSE_MS);

    // Over once the workflow has recorded the move, which it does after the retried activity reports it.
    const moveRecorded = () =>
      eventually(
        'the tier move to be recorded',
        () =>
          lab.db
            .selectFrom('asset_events')
            .select('reason')
            .where('asset_id', '=', tiering.assetId)
            .where('stage', '=', 'tier')
            .execute(),
        (rows) => rows.some((r) => r.reason.startsWith('moved from hot to warm')),
        SETTLE_MS,
      );
    await recovered({ stage: 'tier move', upload: tiering, run, killedAt }, moveRecorded);
    await expectReadyAndClean(lab, tiering.assetId, tiering.media, 'warm');
    await expectNoTemporaries(lab);
  });
});
