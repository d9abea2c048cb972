import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { sql } from 'kysely';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalPlatform, type LocalPlatform } from '../../devstack/local-platform';
import { createDb, type Db } from '../../infra/db/database';
import { S3ObjectStore } from '../../infra/adapters/s3-object-store';
import { signDevToken } from '../../devstack/dev-token';
import { assetWorkflowId } from '../../workflows/definitions';
import { noisyPng, onePagePdf, tone } from '../helpers/generate-media';
import { SETTLED, sha256, type UploadTicket } from '../helpers/media';
import { scaled } from './scale';

/**
 * Issue 7's load test: SESSIONS clients start an upload session at the same moment against the platform as it runs
 * in production (API and worker as OS processes, Postgres, versitygw, the Temporal dev server), and every asset
 * must come out ready, byte for byte, without one 5xx. Prints p50/p99/max per route, the wall and drain times and
 * what Temporal retried on the way.
 */
const SESSIONS = scaled(100, 1000);
const OWNERS = 10;
const DRAIN_TIMEOUT_MS = scaled(120_000, 1_200_000);

interface Upload {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** Mostly distinct tiny images (so dedup cannot shortcut the pipeline), 10% repeats, a few PDFs and tones. */
async function corpus(n: number, dir: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (let i = 0; i < n; i++) {
    const earlier = uploads[i - 7];
    if (i % 10 === 9 && earlier) {
      uploads.push({ ...earlier, filename: `again-${i}-${earlier.filename}` });
    } else if (i % 50 === 20) {
      // An unknown page key makes each PDF's bytes its own.
      uploads.push({
        filename: `doc-${i}.pdf`,
        contentType: 'application/pdf',
        data: onePagePdf(` /Load ${i}`),
      });
    } else if (i % 100 === 40) {
      const file = path.join(dir, `tone-${i}.mp3`);
      await tone(file, 1 + i / 1000);
      uploads.push({ filename: `tone-${i}.mp3`, contentType: 'audio/mpeg', data: await readFile(file) });
    } else if (i % 2 === 0) {
      uploads.push({ filename: `photo-${i}.png`, contentType: 'image/png', data: await noisyPng(64, 48) });
    } else {
      const data = await sharp(randomBytes(64 * 48 * 3), { raw: { width: 64, height: 48, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer();
      uploads.push({ filename: `photo-${i}.jpg`, contentType: 'image/jpeg', data });
    }
  }
  return uploads;
}

/** Every request's latency by route, and every answer that was not the one expected. */
class Recorder {
  private readonly latencies = new Map<string, number[]>();
  readonly unexpected: { route: string; status: number; body: string }[] = [];

  async call(route: string, url: string, init: RequestInit, expected: number) {
    const started = performance.now();
    let status = 0;
    let text = '';
    try {
      const res = await fetch(url, init);
      text = await res.text();
      status = res.status;
    } catch (err) {
      text = String(err);
    }
    const list = this.latencies.get(route) ?? [];
    list.push(performance.now() - started);
    this.latencies.set(route, list);
    if (status !== expected) this.unexpected.push({ route, status, body: text.slice(0, 300) });
    return { status, text };
  }

  percentiles(): Record<string, { n: number; p50: number; p99: number; max: number }> {
    return Object.fromEntries(
      [...this.latencies].map(([route, ms]) => {
        const sorted = [...ms].sort((a, b) => a - b);
        const at = (q: number) => Math.round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!);
        return [route, { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) }];
      }),
    );
  }
}

/**
 * What Temporal absorbed on the way, from the asset workflows' histories: workflow tasks that timed out (by kind)
 * or failed, and activities that needed more than one attempt (by type). No asset is lost to any of these, but
 * each is work done twice under load.
 */
async function hiddenRetries(client: Client, assetIds: string[]) {
  const found = {
    workflowTaskTimeouts: {} as Record<string, number>,
    workflowTaskFailures: 0,
    retriedActivities: {} as Record<string, number>,
  };
  const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);
  for (let i = 0; i < assetIds.length; i += 20) {
    await Promise.all(
      assetIds.slice(i, i + 20).map(async (assetId) => {
        const history = await client.workflow.getHandle(assetWorkflowId(assetId)).fetchHistory();
        const activityTypes = new Map<string, string>();
        for (const e of history.events ?? []) {
          const timedOut = e.workflowTaskTimedOutEventAttributes;
          if (timedOut)
            count(
              found.workflowTaskTimeouts,
              temporal.api.enums.v1.TimeoutType[timedOut.timeoutType ?? 0] ?? '?',
            );
          if (e.workflowTaskFailedEventAttributes) found.workflowTaskFailures += 1;
          const scheduled = e.activityTaskScheduledEventAttributes;
          if (scheduled) activityTypes.set(String(e.eventId), scheduled.activityType?.name ?? '?');
          const started = e.activityTaskStartedEventAttributes;
          if (started && (started.attempt ?? 1) > 1)
            count(found.retriedActivities, activityTypes.get(String(started.scheduledEventId)) ?? '?');
        }
      }),
    );
  }
  return found;
}

const linesMatching = async (file: string, pattern: RegExp) =>
  (await readFile(file, 'utf8')).split('\n').filter((line) => pattern.test(line)).length;

describe(`load: ${SESSIONS} upload sessions at once`, { timeout: DRAIN_TIMEOUT_MS + 120_000 }, () => {
  let platform: LocalPlatform;
  let dataDir: string;
  let db: Db;
  let store: S3ObjectStore;
  let temporalClient: Client;
  let uploads: Upload[];
  const tokens: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(inject('stack').tmpDir, 'load-'));
    [platform, uploads] = await Promise.all([startLocalPlatform({ dataDir }), corpus(SESSIONS, dataDir)]);
    db = createDb(platform.postgres.url, 2);
    store = new S3ObjectStore({
      endpoint: platform.env.S3_ENDPOINT,
      region: 'us-east-1',
      bucket: platform.env.S3_BUCKET!,
      accessKeyId: platform.env.S3_ACCESS_KEY_ID!,
      secretAccessKey: platform.env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: true,
    });
    temporalClient = new Client({
      connection: await Connection.connect({ address: platform.temporal.address }),
    });
    for (let owner = 1; owner <= OWNERS; owner++)
      tokens.push(await signDevToken(platform.jwtSecret, { sub: String(owner) }));
  });

  afterAll(async () => {
    await db?.destroy();
    await temporalClient?.connection.close();
    await platform?.stopAll();
  });

  it('every session completes, every asset is ready and byte-identical, no 5xx', async () => {
    const api = platform.apiUrl;
    const recorder = new Recorder();
    const post = (token: string, body: unknown): RequestInit => ({
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

    /** One client: ask for a URL, PUT the bytes, complete. Null when an answer was not the expected one. */
    const session = async (upload: Upload, i: number) => {
      const token = tokens[i % OWNERS]!;
      const ticket = await recorder.call(
        'POST /media/upload-url',
        `${api}/media/upload-url`,
        post(token, {
          filename: upload.filename,
          contentType: upload.contentType,
          sizeBytes: upload.data.length,
          checksumSha256: sha256(upload.data),
        }),
        201,
      );
      if (ticket.status !== 201) return null;
      const { assetId, upload: target } = JSON.parse(ticket.text) as UploadTicket;
      const put = await recorder.call(
        'PUT pre-signed (S3)',
        target.url,
        { method: 'PUT', headers: target.headers, body: upload.data },
        200,
      );
      if (put.status !== 200) return null;
      const done = await recorder.call(
        'POST /media/:id/complete',
        `${api}/media/${assetId}/complete`,
        post(token, {}),
        202,
      );
      if (done.status !== 202) return null;
      return { assetId, token, sha256: sha256(upload.data), completedAt: Date.now() };
    };

    const started = Date.now();
    const sessions: Awaited<ReturnType<typeof session>>[] = [];
    let sessionsOver = false;
    const all = Promise.all(uploads.map(async (u, i) => (sessions[i] = await session(u, i)))).finally(
      () => (sessionsOver = true),
    );

    // Progress is watched in the database (one GROUP BY, not a GET per asset); a few GETs sample what clients see.
    const statusCounts = async () => {
      const rows = await db
        .selectFrom('media_assets')
        .select(['status', sql<number>`count(*)::int`.as('n')])
        .groupBy('status')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
    };
    let counts: Record<string, number> = {};
    for (;;) {
      counts = await statusCounts();
      const settled = SETTLED.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
      if (sessionsOver && settled >= sessions.filter(Boolean).length) break;
      if (Date.now() > started + DRAIN_TIMEOUT_MS) break;
      const known = sessions.filter((s) => s != null);
      for (let k = 0; k < 3 && known.length > 0; k++) {
        const s = known[Math.floor(Math.random() * known.length)]!;
        await recorder.call(
          'GET /media/:id',
          `${api}/media/${s.assetId}`,
          { headers: { authorization: `Bearer ${s.token}` } },
          200,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await all;

    const completed = sessions.filter((s) => s != null);
    const lastComplete = Math.max(...completed.map((s) => s.completedAt));
    const readyAt = await db
      .selectFrom('asset_events')
      .select(sql<Date>`max(occurred_at)`.as('at'))
      .where('to_status', '=', 'ready')
      .executeTakeFirstOrThrow();
    const lastReady = new Date(readyAt.at).getTime();
    const wallSeconds = (lastReady - started) / 1000;
    const report = {
      sessions: SESSIONS,
      completed: completed.length,
      statuses: counts,
      wallSeconds,
      lastCompleteSeconds: (lastComplete - started) / 1000,
      drainSeconds: (lastReady - lastComplete) / 1000,
      assetsPerMinute: Math.round(((counts.ready ?? 0) / wallSeconds) * 60),
      unexpectedAnswers: recorder.unexpected.length,
      latencyMs: recorder.percentiles(),
      temporal: await hiddenRetries(
        temporalClient,
        completed.map((s) => s.assetId),
      ),
      errorLogLines: {
        api: await linesMatching(path.join(dataDir, 'logs/api.log'), /"level":(50|60)/),
        worker: await linesMatching(path.join(dataDir, 'logs/worker.log'), /"level":(50|60)|\[ERROR\]/),
        temporal: await linesMatching(path.join(dataDir, 'logs/temporal.log'), /level=ERROR/),
      },
    };
    console.log(`load report\n${JSON.stringify(report, null, 2)}`);

    expect(recorder.unexpected.slice(0, 5)).toEqual([]);
    expect(completed).toHaveLength(SESSIONS);
    expect(counts).toEqual({ ready: SESSIONS });

    // Repeats share their blob, each blob counts exactly the assets that use it.
    const blobs = await db
      .selectFrom('blobs')
      .leftJoin('media_assets', 'media_assets.blob_sha256', 'blobs.sha256')
      .select([
        'blobs.sha256',
        'blobs.object_key',
        'blobs.refcount',
        sql<number>`count(asset_id)::int`.as('assets'),
      ])
      .groupBy(['blobs.sha256', 'blobs.object_key', 'blobs.refcount'])
      .execute();
    expect(blobs).toHaveLength(new Set(uploads.map((u) => sha256(u.data))).size);
    expect(blobs.filter((b) => b.refcount !== b.assets)).toEqual([]);

    // Every original in storage is the uploaded bytes: read back from S3 through the blob each asset points at.
    const keyOf = new Map(blobs.map((b) => [b.sha256, b.object_key]));
    const assets = await db.selectFrom('media_assets').select(['asset_id', 'blob_sha256']).execute();
    const blobOf = new Map(assets.map((a) => [a.asset_id, a.blob_sha256]));
    const mismatched: string[] = [];
    for (let i = 0; i < completed.length; i += 20) {
      await Promise.all(
        completed.slice(i, i + 20).map(async (s) => {
          const key = keyOf.get(blobOf.get(s.assetId) ?? '');
          const chunks: Buffer[] = [];
          if (key) for await (const chunk of await store.read(key)) chunks.push(chunk as Buffer);
          if (sha256(Buffer.concat(chunks)) !== s.sha256) mismatched.push(s.assetId);
        }),
      );
    }
    expect(mismatched).toEqual([]);
  });
});
