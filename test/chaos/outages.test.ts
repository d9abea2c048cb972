import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EICAR_TEST_FILE } from '../../devstack';
import { startLocalPlatform, type LocalPlatform } from '../../devstack/local-platform';
import { S3ObjectStore } from '../../infra/adapters/s3-object-store';
import { createDb, type Db } from '../../infra/db/database';
import { signDevToken } from '../../devstack/dev-token';
import { assetWorkflowId } from '../../workflows/definitions';
import { clip, noisyPng } from '../helpers/generate-media';
import { eventually, request } from '../helpers/http';
import { RetryingClient, type Answer, type Uploaded } from './retrying-client';
import { scaled } from './scale';

const OUTAGE_MS = scaled(8_000, 30_000);
// A new upload session starts this often while the service is away; every third one is multipart.
const SESSION_EVERY_MS = scaled(1_500, 2_000);
const PROBE_PAUSE_MS = 150;
/** "Answered within a few seconds": no request may wait on a dependency that is away for longer than this. */
const MAX_ANSWER_MS = 5_000;
// Processing retries back off up to a minute: after a 30 s outage the next attempt can be that far off.
const RECOVERY_TIMEOUT_MS = scaled(60_000, 150_000);
// clamd stays away until the scan activity is on this attempt, every earlier one having failed.
const SCAN_ATTEMPTS = scaled(4, 6);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let platform: LocalPlatform;
let db: Db;
let temporal: Client;
let clipBytes: Buffer;

beforeAll(async () => {
  const dataDir = await fs.mkdtemp(path.join(inject('stack').tmpDir, 'outages-'));
  const clipFile = path.join(dataDir, 'clip.mp4');
  [platform] = await Promise.all([
    startLocalPlatform({ dataDir, clamd: true }),
    clip(clipFile, { width: 320, height: 240, seconds: 1 }),
  ]);
  clipBytes = await fs.readFile(clipFile);
  db = createDb(platform.postgres.url, 2);
  temporal = new Client({ connection: await Connection.connect({ address: platform.temporal.address }) });
});

afterAll(async () => {
  await Promise.allSettled([db?.destroy(), temporal?.connection.close()]);
  await platform?.stopAll();
});

const png = () => noisyPng(48, 48);

async function statusOf(client: RetryingClient, assetId: string): Promise<Record<string, unknown>> {
  return (await client.call('GET /media/:id', 'GET', `/media/${assetId}`)).body;
}

/** Polls until every asset is ready (or settled otherwise, which fails the caller's assertion). */
async function allSettled(client: RetryingClient, assets: Uploaded[], timeoutMs: number) {
  const pending = new Set(assets.map((a) => a.assetId));
  const statuses = new Map<string, unknown>();
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const { status } = await statusOf(client, id);
      statuses.set(id, status);
      if (status !== 'pending' && status !== 'processing') pending.delete(id);
    }
    if (pending.size > 0) await sleep(250);
  }
  return statuses;
}

/** The original as stored: read straight from the bucket its blob row names. */
async function storedSha256(assetId: string): Promise<string> {
  const row = await db
    .selectFrom('media_assets')
    .innerJoin('blobs', 'blobs.sha256', 'media_assets.blob_sha256')
    .select(['blobs.bucket', 'blobs.object_key'])
    .where('media_assets.asset_id', '=', assetId)
    .executeTakeFirstOrThrow();
  const store = new S3ObjectStore({
    endpoint: platform.env.S3_ENDPOINT,
    region: 'us-east-1',
    bucket: row.bucket,
    accessKeyId: platform.env.S3_ACCESS_KEY_ID!,
    secretAccessKey: platform.env.S3_SECRET_ACCESS_KEY!,
    forcePathStyle: true,
  });
  try {
    const hash = createHash('sha256');
    for await (const chunk of await store.read(row.object_key)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    store.destroy();
  }
}

/** Asks the API what a client would while the service is away, until told to stop; never backs off. */
async function probe(client: RetryingClient, ready: Uploaded[], known: Uploaded[], running: () => boolean) {
  for (let i = 0; running(); i += 1) {
    const asset = (i % 3 === 1 ? ready : known)[i % 2]!;
    if (i % 3 === 0) {
      await client.call('GET /media/:id', 'GET', `/media/${asset.assetId}`);
    } else if (i % 3 === 1) {
      const content = await client.call('GET content', 'GET', `/media/${asset.assetId}/content`, {
        redirect: 'manual',
      });
      const location = content.headers.get('location');
      if (content.status === 302 && location) await client.call('GET origin', 'GET', location);
    } else {
      await client.call('GET /readyz', 'GET', '/readyz');
    }
    await sleep(PROBE_PAUSE_MS);
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/**
 * Uploads, then stops `service` for OUTAGE_MS while uploads and reads go on, then starts it again. Every answer
 * must be a success or a 503 with Retry-After, quickly; afterwards every asset must be ready with its bytes intact.
 */
async function outage(service: 's3' | 'postgres', ownerId: string, readyzCheck: string) {
  const token = await signDevToken(platform.jwtSecret, { sub: ownerId });
  const client = new RetryingClient(platform.apiUrl, token, OUTAGE_MS + RECOVERY_TIMEOUT_MS);

  // Ready before the outage: their content is asked for during it.
  const ready = await Promise.all(
    [png(), png()].map(async (d) => client.upload(await d, 'image/png', 'before.png')),
  );
  const early = await allSettled(client, ready, 30_000);
  expect([...early.values()]).toEqual(['ready', 'ready']);

  // Completed just before the service stops: in the pipeline while it is away.
  const inFlight = await Promise.all([
    ...[png(), png(), png()].map(async (d) => client.upload(await d, 'image/png', 'in-flight.png')),
    client.upload(clipBytes, 'video/mp4', 'clip.mp4', { multipart: true }),
  ]);

  const stopRequestedAt = Date.now();
  await platform.stop(service);
  const stoppedAt = Date.now();
  const readyzDown = await client.call<{ checks: Record<string, string> }>('GET /readyz', 'GET', '/readyz');
  let probing = true;
  const probes = probe(client, ready, inFlight, () => probing);
  const sessions: Promise<Uploaded>[] = [];
  for (let n = 0; Date.now() - stoppedAt < OUTAGE_MS; n += 1) {
    const session = client.upload(await png(), 'image/png', `during-${n}.png`, { multipart: n % 3 === 2 });
    session.catch(() => undefined); // awaited below; keeps an early failure from being reported unhandled
    sessions.push(session);
    await sleep(SESSION_EVERY_MS);
  }
  const startRequestedAt = Date.now();
  await platform.start(service);
  const restartedAt = Date.now();
  probing = false;
  await probes;
  const during = client.answers.filter((a) => a.startedAt >= stopRequestedAt && a.startedAt < restartedAt);

  const started = await Promise.all(sessions);
  const assets = [...ready, ...inFlight, ...started];
  const statuses = await allSettled(client, assets, RECOVERY_TIMEOUT_MS);
  const allReadyAfterMs = Date.now() - restartedAt;

  // Never a 500 and never a hang: a success, or a 503 that says when to come back.
  const bad = (a: Answer) =>
    a.status === 503 ? a.retryAfter === null : a.status < 200 || a.status >= 400 || a.ms > MAX_ANSWER_MS;
  expect(client.answers.filter(bad)).toEqual([]);
  const problems = client.answers.filter((a) => a.status === 503 && a.route !== 'GET /readyz');
  expect(problems.every((a) => a.contentType?.startsWith('application/problem+json'))).toBe(true);
  // /readyz names the dependency that is away, and only that one.
  expect(readyzDown.status).toBe(503);
  for (const [check, verdict] of Object.entries(readyzDown.body.checks)) {
    expect(verdict, check).toMatch(check === readyzCheck ? /^error: / : /^ok$/);
  }

  // Nothing lost: every session started is an asset, ready, with the very bytes uploaded.
  expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(assets.map((a) => [a.assetId, 'ready'])));
  const rows = await db
    .selectFrom('media_assets')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('owner_id', '=', ownerId)
    .executeTakeFirstOrThrow();
  expect(Number(rows.n)).toBe(assets.length);
  for (const asset of assets) expect(await storedSha256(asset.assetId)).toBe(asset.sha256);
  expect((await request('GET', `${platform.apiUrl}/readyz`)).status).toBe(200);

  const figures = {
    service,
    outageMs: restartedAt - stoppedAt,
    stopMs: stoppedAt - stopRequestedAt,
    startMs: restartedAt - startRequestedAt,
    requestsDuringOutage: during.length,
    statusCounts: countBy(during, (a) => String(a.status)),
    byRoute: countBy(during, (a) => `${a.route} ${a.status}`),
    details: countBy(
      during.filter((a) => a.detail),
      (a) => a.detail!,
    ),
    maxLatencyDuringOutageMs: Math.max(...during.map((a) => a.ms)),
    maxLatencyOverallMs: Math.max(...client.answers.map((a) => a.ms)),
    sessionsDuringOutage: started.length,
    assets: assets.length,
    allReadyAfterRestartMs: allReadyAfterMs,
    lost: assets.length - [...statuses.values()].filter((s) => s === 'ready').length,
  };
  console.log(`outage figures ${JSON.stringify(figures)}`);
  return { during, figures };
}

describe('outages of a dependency under load', { timeout: scaled(150_000, 420_000) }, () => {
  it('S3 away: the API answers 503 with Retry-After for what needs it, and everything completes after', async () => {
    const { during } = await outage('s3', '7101', 'objectStore');
    // Reads of the bytes and multipart sessions need the store; listing and status answers do not.
    expect(during.some((a) => a.route === 'GET origin' && a.status === 503)).toBe(true);
    expect(during.some((a) => a.route === 'upload-url' && a.status === 503)).toBe(true);
    expect(during.some((a) => a.route === 'GET /media/:id' && a.status === 200)).toBe(true);
  });

  it('Postgres away: the API answers 503 with Retry-After, and everything completes after', async () => {
    const { during } = await outage('postgres', '7102', 'database');
    for (const route of ['upload-url', 'GET /media/:id', 'GET content']) {
      expect(during.some((a) => a.route === route && a.status === 503)).toBe(true);
    }
  });

  it('clamd away: the scan waits and retries, nothing is marked clean unscanned, EICAR ends quarantined', async () => {
    const token = await signDevToken(platform.jwtSecret, { sub: '7103' });
    const client = new RetryingClient(platform.apiUrl, token, 60_000);
    const eicarPng = Buffer.concat([await png(), Buffer.from(EICAR_TEST_FILE, 'latin1')]);

    await platform.stop('clamd');
    const stoppedAt = Date.now();
    const clean = await client.upload(await png(), 'image/png', 'clean.png');
    const infected = await client.upload(eicarPng, 'image/png', 'innocent.png');

    // Scanning is retried with backoff; meanwhile neither asset gets past the scan. A small file's scan is a local
    // activity: once its backoff outgrows a second, each failed attempt is a marker in the history, then a timer.
    const failedScans = async (assetId: string) => {
      const history = await temporal.workflow.getHandle(assetWorkflowId(assetId)).fetchHistory();
      return (history.events ?? []).flatMap((e) => {
        const marker = e.markerRecordedEventAttributes;
        const data = marker?.details?.data?.payloads?.[0]?.data;
        if (marker?.markerName !== 'core_local_activity' || !data) return [];
        const { activity_type, attempt } = JSON.parse(Buffer.from(data).toString('utf8')) as {
          activity_type: string;
          attempt: number;
        };
        return activity_type === 'scanBlob' && marker.failure ? [{ attempt, failure: marker.failure }] : [];
      });
    };
    for (const asset of [clean, infected]) {
      const scans = await eventually(
        `${SCAN_ATTEMPTS} scan attempts`,
        () => failedScans(asset.assetId),
        (f) => Math.max(0, ...f.map((a) => a.attempt)) >= SCAN_ATTEMPTS,
        60_000,
      );
      const last = scans.at(-1)!.failure;
      const cause = last.applicationFailureInfo ? last : last.cause;
      expect(cause?.applicationFailureInfo?.type).toBe('ScannerUnavailableError');
      expect(cause?.applicationFailureInfo?.nonRetryable).toBeFalsy();
    }
    const waitedMs = Date.now() - stoppedAt;
    for (const asset of [clean, infected]) {
      const record = await statusOf(client, asset.assetId);
      expect(record).toMatchObject({ status: 'processing', stage: { name: 'scan' } });
      expect((record.scan as { status: string }).status).toBe('pending');
      const scanEvents = await db
        .selectFrom('asset_events')
        .select('reason')
        .where('asset_id', '=', asset.assetId)
        .where((eb) => eb.or([eb('stage', '=', 'scan'), eb('reason', 'like', 'scan:%')]))
        .execute();
      expect(scanEvents).toEqual([]);
    }

    await platform.start('clamd');
    const restartedAt = Date.now();
    const statuses = await allSettled(client, [clean, infected], 60_000);
    const settledAfterMs = Date.now() - restartedAt;
    expect(statuses.get(clean.assetId)).toBe('ready');
    expect(statuses.get(infected.assetId)).toBe('quarantined');
    expect(await statusOf(client, clean.assetId)).toMatchObject({ scan: { status: 'clean' } });
    const infectedRecord = await statusOf(client, infected.assetId);
    expect(infectedRecord).toMatchObject({ scan: { status: 'infected' } });
    expect(String(infectedRecord.statusReason)).toContain('Eicar-Test-Signature');
    const infectedEvents = infectedRecord.events as { to: string }[];
    expect(infectedEvents.map((e) => e.to)).not.toContain('ready');
    console.log(
      `clamd figures ${JSON.stringify({ clamdDownMs: restartedAt - stoppedAt, waitedForAttemptsMs: waitedMs, attempts: SCAN_ATTEMPTS, settledAfterRestartMs: settledAfterMs })}`,
    );
  });
});
