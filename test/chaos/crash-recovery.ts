import { createReadStream, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { google, temporal } from '@temporalio/proto';
import { expect } from 'vitest';
import {
  startLocalPlatform,
  type LocalPlatform,
  type LocalPlatformOptions,
} from '../../devstack/local-platform';
import { childrenOf, descendants } from '../../devstack/assetline';
import { S3ObjectStore } from '../../infra/adapters/s3-object-store';
import type { Tier } from '../../infra/adapters/tier-repository';
import { createDb, type Db } from '../../infra/db/database';
import { signDevToken } from '../../devstack/dev-token';
import { sha256OfStream } from '../../activities/hashing/hash';
import { assetWorkflowId } from '../../workflows/definitions';
import { renditionsRoot } from '../../domain/object-keys';
import { putBytes, requestUpload } from '../helpers/media';
import { eventually, request } from '../helpers/http';

/**
 * What the crash tests share: a local platform whose worker and Temporal server can be killed and restarted, a
 * view into Temporal (which activity is running right now, how often one ran) and the checks an asset must pass
 * once it has settled after a crash.
 */
export interface CrashLab {
  platform: LocalPlatform;
  db: Db;
  temporal: Client;
  stores: Record<Tier, S3ObjectStore>;
  token: string;
  workDir: string;
  close(): Promise<void>;
}

const TIERS: readonly Tier[] = ['hot', 'warm', 'cold'];
// Above every file the crash tests upload, so that prepareUpload is one PUT.
const MULTIPART_THRESHOLD_BYTES = 128 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startCrashLab(opts: LocalPlatformOptions): Promise<CrashLab> {
  const platform = await startLocalPlatform({
    ...opts,
    apiEnv: { MULTIPART_THRESHOLD_BYTES: String(MULTIPART_THRESHOLD_BYTES), ...opts.apiEnv },
  });
  const { env } = platform;
  const store = (bucket: string) =>
    new S3ObjectStore({
      endpoint: env.S3_ENDPOINT,
      region: 'us-east-1',
      bucket,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: true,
    });
  const stores = {
    hot: store(env.S3_BUCKET!),
    warm: store(env.WARM_S3_BUCKET!),
    cold: store(env.COLD_S3_BUCKET!),
  };
  const db = createDb(platform.postgres.url, 2);
  const temporal = new Client({
    connection: await Connection.connect({ address: platform.temporal.address }),
  });
  return {
    platform,
    db,
    temporal,
    stores,
    token: await signDevToken(platform.jwtSecret, { sub: '7' }),
    workDir: env.WORK_DIR!,
    async close() {
      // Nothing to wind down gracefully here, and a worker's graceful stop can take its full 20 s.
      await Promise.all([platform.kill('worker'), platform.kill('api')]);
      await Promise.allSettled([db.destroy(), temporal.connection.close()]);
      for (const s of Object.values(stores)) s.destroy();
      await platform.stopAll();
    },
  };
}

export interface LocalFile {
  file: string;
  contentType: string;
  sha256: string;
}

/** A file on disk with its SHA-256, to compare with what storage holds. */
export async function localFile(file: string, contentType: string): Promise<LocalFile> {
  return { file, contentType, sha256: (await sha256OfStream(createReadStream(file))).sha256 };
}

export interface PreparedUpload {
  assetId: string;
  media: LocalFile;
  /** Tells the API the bytes are there: the pipeline starts now. */
  complete(): Promise<void>;
}

/**
 * Requests the upload URL and PUTs the bytes, but leaves completing to the caller, who decides when the pipeline
 * starts. A single PUT: the lab's API is started with a multipart threshold above the files used here.
 */
export async function prepareUpload(lab: CrashLab, media: LocalFile): Promise<PreparedUpload> {
  const data = await fs.readFile(media.file);
  const ticket = await requestUpload(lab.platform.apiUrl, lab.token, {
    filename: path.basename(media.file),
    contentType: media.contentType,
    sizeBytes: data.length,
  });
  expect(ticket.status).toBe(201);
  expect(ticket.body.upload.method).toBe('PUT');
  expect(await putBytes(ticket.body, data)).toBe(200);
  const { assetId } = ticket.body;
  return {
    assetId,
    media,
    async complete() {
      const res = await request('POST', `${lab.platform.apiUrl}/media/${assetId}/complete`, {
        token: lab.token,
      });
      expect(res.status).toBe(202);
    },
  };
}

export type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;
const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED

/**
 * Waits until a worker is running the asset's activity of this type (a worker has it, not merely scheduled), and
 * `ready` agrees (e.g. a heartbeat shows it is midway); returns what Temporal shows of it.
 */
export async function runningActivity(
  lab: CrashLab,
  assetId: string,
  activityType: string,
  timeoutMs: number,
  ready: (pending: PendingActivity) => boolean = () => true,
): Promise<PendingActivity> {
  const handle = lab.temporal.workflow.getHandle(assetWorkflowId(assetId));
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const { raw } = await handle.describe();
    const pending = raw.pendingActivities ?? [];
    const match = pending.find(
      (p) => p.activityType?.name === activityType && p.state === STARTED && ready(p),
    );
    if (match) return match;
    seen = pending.map((p) => `${p.activityType?.name}:${p.state}`);
    await sleep(50);
  }
  throw new Error(
    `${activityType} of ${assetId} not running within ${timeoutMs} ms; pending: ${seen.join(', ')}; ` +
      (await whereItIs(lab, assetId).catch((e: Error) => `(no more to say: ${e.message})`)),
  );
}

/** A local activity's type, from its marker. */
export function localActivityType(e: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const m = e.markerRecordedEventAttributes;
  const payload = m?.markerName === 'core_local_activity' ? m.details?.['data']?.payloads?.[0] : undefined;
  return payload
    ? defaultPayloadConverter.fromPayload<{ activity_type?: string }>(payload).activity_type
    : undefined;
}

/**
 * Where a workflow stands, for a wait that timed out: its status, the asset's row and the history's last events,
 * so that a rare failure says whether the work ended early, finished before it was seen, or stalled.
 */
async function whereItIs(lab: CrashLab, assetId: string): Promise<string> {
  const handle = lab.temporal.workflow.getHandle(assetWorkflowId(assetId));
  const [description, history, row] = await Promise.all([
    handle.describe(),
    handle.fetchHistory(),
    lab.db
      .selectFrom('media_assets')
      .select(['status', 'status_reason'])
      .where('asset_id', '=', assetId)
      .executeTakeFirst(),
  ]);
  const events = (history.events ?? []).slice(-25).map((e) => {
    const type = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e]) ?? '?';
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    const marker = localActivityType(e) ?? e.markerRecordedEventAttributes?.markerName;
    return `${e.eventId}:${type.replace('EventAttributes', '')}${activity ? `(${activity})` : ''}${marker ? `(${marker})` : ''}`;
  });
  return `workflow ${description.status.name}, asset ${JSON.stringify(row)}, last events: ${events.join(' ')}`;
}

const epochMs = (at: google.protobuf.ITimestamp | null | undefined) =>
  Number(at?.seconds ?? 0) * 1000 + Math.round((at?.nanos ?? 0) / 1e6);

/** When a worker started the pending activity's current attempt (epoch ms). */
export const startedAt = (pending: PendingActivity): number => epochMs(pending.lastStartedTime);

export function heartbeatDetails<T>(lab: CrashLab, pending: PendingActivity): T | undefined {
  const payload = pending.heartbeatDetails?.payloads?.[0];
  return payload
    ? lab.temporal.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload)
    : undefined;
}

/** SIGKILL of the worker (ffmpeg included), a pause, and a new worker on the same data; returns when it was killed. */
/**
 * Freezes the worker's media work (its ffmpeg, pdftoppm and image decoder children) with SIGSTOP until `thaw`, also
 * each child it starts meanwhile (checked every 20 ms), so that a media stage seen running is still running when the
 * kill comes, however long the short stage the kill waits for takes to be reached on a busy machine. The kill
 * (SIGKILL of the worker's process group) ends the frozen children with the worker; thaw before it is restarted.
 */
export function freezeMedia(lab: CrashLab): { thaw(): void } {
  const worker = lab.platform.worker.pid;
  const frozen = new Set<number>();
  // Only the media work: the worker also runs tsx's esbuild service, which it waits on to load a module.
  const isMedia = (pid: number) => {
    try {
      return /ffmpeg|ffprobe|pdftoppm|image-child/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  };
  const freeze = () => {
    const media = childrenOf(worker).filter(isMedia);
    for (const pid of media.flatMap((child) => [child, ...descendants(child)])) {
      if (frozen.has(pid)) continue;
      try {
        process.kill(pid, 'SIGSTOP');
        frozen.add(pid);
      } catch {
        // ended meanwhile
      }
    }
  };
  freeze();
  const timer = setInterval(freeze, 20);
  return { thaw: () => clearInterval(timer) };
}

export async function killWorker(lab: CrashLab, pauseMs: number, frozen?: { thaw(): void }): Promise<number> {
  const killedAt = Date.now();
  await lab.platform.kill('worker');
  // The frozen children died with the worker; the restarted one's must run.
  frozen?.thaw();
  await sleep(pauseMs);
  await lab.platform.start('worker');
  return killedAt;
}

export interface Attempt {
  attempt: number;
  /** When that attempt started (epoch ms). */
  startedAt: number;
  /**
   * Attempts over every scheduling of the type: a media activity's lost attempt is run again by the workflow
   * (workflows/stage-guard.ts) as a new activity, attempt 1, rather than by the server as attempt 2.
   */
  runs: number;
}

/**
 * For each activity type the asset's workflow has finished, its latest attempt (2 or more: it was retried, e.g.
 * after the worker running it died) and when that attempt started.
 */
export async function activityAttempts(lab: CrashLab, assetId: string): Promise<Map<string, Attempt>> {
  const history = await lab.temporal.workflow.getHandle(assetWorkflowId(assetId)).fetchHistory();
  const types = new Map<string, string>();
  const attempts = new Map<string, Attempt>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(event.eventId), scheduled.activityType?.name ?? '');
    const started = event.activityTaskStartedEventAttributes;
    const type = started && types.get(String(started.scheduledEventId));
    if (!started || !type) continue;
    const attempt = started.attempt ?? 1;
    const runs = (attempts.get(type)?.runs ?? 0) + attempt;
    if (attempt >= (attempts.get(type)?.attempt ?? 0)) {
      attempts.set(type, { attempt, startedAt: epochMs(event.eventTime), runs });
    } else {
      attempts.get(type)!.runs = runs;
    }
  }
  return attempts;
}

/** Polls the asset's row until it has left pending/processing; returns the status it settled in. */
export async function settledStatus(lab: CrashLab, assetId: string, timeoutMs: number): Promise<string> {
  const row = await eventually(
    `asset ${assetId} to settle`,
    () =>
      lab.db
        .selectFrom('media_assets')
        .select('status')
        .where('asset_id', '=', assetId)
        .executeTakeFirstOrThrow(),
    (r) => r.status !== 'pending' && r.status !== 'processing',
    timeoutMs,
  );
  return row.status;
}

/** Every file below dir, relative to it. */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/**
 * The asset is ready and in `tier`; its original, read from the bucket its blob row names, is the generated file
 * byte for byte and lives in that bucket alone; its upload is gone; every object under its renditions belongs to
 * the published attempt, and each published rendition is there once; it became ready once.
 */
export async function expectReadyAndClean(
  lab: CrashLab,
  assetId: string,
  media: LocalFile,
  tier: Tier = 'hot',
): Promise<void> {
  const asset = await lab.db
    .selectFrom('media_assets')
    .select(['status', 'blob_sha256', 'bucket', 'object_key'])
    .where('asset_id', '=', assetId)
    .executeTakeFirstOrThrow();
  expect(asset).toMatchObject({ status: 'ready', blob_sha256: media.sha256 });
  expect(await lab.stores.hot.head(asset.object_key), 'the upload object is removed').toBeNull();

  const blob = await lab.db
    .selectFrom('blobs')
    .selectAll()
    .where('sha256', '=', media.sha256)
    .executeTakeFirstOrThrow();
  expect(blob).toMatchObject({ status: 'ready', tier, bucket: lab.stores[tier].bucket });
  const stored = await sha256OfStream(await lab.stores[tier].read(blob.object_key));
  expect(stored.sha256, 'the original is byte-identical').toBe(media.sha256);
  for (const other of TIERS.filter((t) => t !== tier)) {
    expect(await lab.stores[other].head(blob.object_key), `no copy left in ${other}`).toBeNull();
  }

  const renditions = await lab.db
    .selectFrom('blob_renditions')
    .select(['name', 'object_key'])
    .where('blob_sha256', '=', media.sha256)
    .execute();
  expect(renditions.length).toBeGreaterThan(0);
  expect(new Set(renditions.map((r) => r.name)).size).toBe(renditions.length);
  const objects = await lab.stores.hot.list(renditionsRoot(media.sha256));
  expect(blob.rendition_prefix).toBeTruthy();
  expect(
    objects.filter((k) => !k.startsWith(blob.rendition_prefix!)),
    'no other attempt left objects',
  ).toEqual([]);
  for (const r of renditions) expect(objects, `${r.name} is stored`).toContain(r.object_key);

  const becameReady = await lab.db
    .selectFrom('asset_events')
    .select(['from_status'])
    .where('asset_id', '=', assetId)
    .where('to_status', '=', 'ready')
    .where('from_status', '!=', 'ready')
    .execute();
  expect(becameReady).toHaveLength(1);
}

/** Nothing temporary anywhere: no unfinished multipart upload in any bucket, no file in the worker's WORK_DIR. */
export async function expectNoTemporaries(lab: CrashLab): Promise<void> {
  for (const tier of TIERS) {
    const { uploads } = await lab.stores[tier].listMultipartUploadsPage('', null, 1000);
    expect(uploads, `unfinished multipart uploads in ${tier}`).toEqual([]);
  }
  expect(await filesBelow(lab.workDir), 'files left in WORK_DIR').toEqual([]);
}
