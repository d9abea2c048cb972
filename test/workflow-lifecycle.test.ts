import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { toolPath } from '../devstack';
import type { IoActivities, MediaActivities } from '../activities';
import type { TransitionRecord } from '../infra/adapters/asset-repository';
import type { ValidationReport } from '../activities/media/tools/types';
import {
  accessedSignal,
  assetStateQuery,
  deleteRequestedSignal,
  mediaTaskQueue,
  releaseScheduledSignal,
  toSchedule,
  VisibilityAttribute,
  restoreRequestedSignal,
  retryRequestedSignal,
  SCANNER_LOST,
  uploadCompletedSignal,
  uploadRenewedSignal,
  type AssetLifecycleInput,
} from '../workflows/definitions';
import { LOCAL_IO_MAX_BYTES } from '../workflows/lifecycle/activities';
import type { PoisonReport } from '../workflows/stage-guard';
import { registerSearchAttributes } from '../worker/search-attributes';
import { historySlug, recordHistory } from './helpers/histories';
import { uniqueName } from './helpers/stack';
import { eventually } from './helpers/http';
import { advanceRelease, type Release } from '../domain/visibility';

const TTL_SECONDS = 900;
const WEBHOOK_ACTIVITIES = new Set(['listWebhookTargets', 'deliverWebhook', 'abandonWebhookDelivery']);
const SHA = 'b'.repeat(64);

type Overrides = Partial<IoActivities & MediaActivities>;

/** The workflow logic alone: activities are plain functions recording their calls (the SDK's own pattern). */
function fakeActivities(overrides: Overrides = {}) {
  const calls: { name: string; arg: unknown }[] = [];
  const track =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      calls.push({ name, arg: args[0] });
      return fn(...args);
    };
  const io: IoActivities = {
    recordTransition: async () => undefined,
    verifyUpload: async () => ({ ok: true, sizeBytes: 10, sha256: SHA }),
    checkQuota: async () => ({ ok: true }),
    discardUpload: async () => ({ abortedMultipart: 0 }),
    sniffUpload: async () => ({ ok: true, mimeType: 'image/png', family: 'image' }),
    claimBlob: async () => ({ role: 'owner', sha256: SHA, blobKey: `blobs/${SHA}` }),
    scanBlob: async () => ({ verdict: 'skipped', reason: 'no scanner configured' }),
    awaitBlob: async () => ({ status: 'ready', reason: null }),
    publishRenditions: async () => ({ removedStaleObjects: 0 }),
    failBlob: async () => undefined,
    takeOverBlob: async () => true,
    copyMediaMetadata: async () => undefined,
    releaseBlob: async () => ({ removed: true }),
    tombstoneAsset: async () => undefined,
    listWebhookTargets: async () => [],
    deliverWebhook: async () => ({ status: 'skipped' }),
    abandonWebhookDelivery: async () => undefined,
    registerWithCdn: async () => [],
    purgeCdn: async () => undefined,
    pickBlobsForIntegrity: async () => [],
    checkBlobIntegrity: async () => ({ sha256: SHA, status: 'ok', detail: null }),
    sweepOrphanObjects: async () => ({ scanned: 0, deleted: 0, next: null }),
    abortStaleMultipart: async () => ({ scanned: 0, aborted: 0, next: null }),
    failMissingBlobs: async () => ({ scanned: 0, missing: [], next: null }),
    moveBlobTier: async ({ to }) => ({ moved: true, tier: to }),
    recordDeadLetter: async () => undefined,
    advanceRelease: async () => null,
    warmRelease: async () => [],
  };
  const media: MediaActivities = {
    extractMetadata: async () => ({
      kind: 'image',
      format: 'png',
      width: 10,
      height: 10,
      hasAlpha: false,
      frames: 1,
    }),
    renderRenditions: async () => ({ prefix: 'p/', renditions: [] }),
    validateRenditions: async () => ({ ok: true, measurements: {} }),
  };
  const wrap = <T extends Record<string, (...a: never[]) => Promise<unknown>>>(group: T): T =>
    Object.fromEntries(
      Object.entries(group).map(([name, fn]) => [
        name,
        track(
          name,
          ((overrides as Record<string, unknown>)[name] ?? fn) as (...a: unknown[]) => Promise<unknown>,
        ),
      ]),
    ) as unknown as T;
  return {
    io: wrap(io),
    media: wrap(media),
    calls,
    // Webhook fan-outs run as child workflows beside the asset's own activities; these tests follow the asset.
    names: () => calls.map((c) => c.name).filter((n) => !WEBHOOK_ACTIVITIES.has(n)),
    transitions: () =>
      calls.filter((c) => c.name === 'recordTransition').map((c) => (c.arg as TransitionRecord).to),
  };
}

function input(): AssetLifecycleInput {
  return {
    assetId: crypto.randomUUID(),
    ownerId: '7',
    declaredContentType: 'image/png',
    bucket: 'b',
    objectKey: 'uploads/7/x',
    declaredSizeBytes: 10,
    declaredChecksumSha256: null,
    uploadTtlSeconds: TTL_SECONDS,
    trashSeconds: 30 * 86_400,
    retainUntil: null,
  };
}

describe('asset lifecycle workflow in the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
    });
    // The workflow upserts its search attributes; the test server, like a fresh cluster, must know them first.
    await registerSearchAttributes(env.connection, 'default');
  });
  afterAll(async () => env?.teardown());

  // One pair of workers for the whole file, dispatching to the current test's fakes: webhook fan-outs a finished
  // test started as children still find a worker, and the test server's clock is never held by orphaned tasks.
  let current: ReturnType<typeof fakeActivities> | undefined;
  // An asset started by an earlier test keeps its own fakes: its tier timers fire while later tests skip time.
  const fakeOfWorkflow = new Map<string, ReturnType<typeof fakeActivities>>();
  const fakeFor = () =>
    fakeOfWorkflow.get(Context.current().info.workflowExecution?.workflowId ?? '') ??
    current ??
    fakeActivities();
  let taskQueue: string;
  let workersDone: Promise<unknown>;
  let stopWorkers: () => void;

  beforeAll(async () => {
    taskQueue = uniqueName('tq');
    const dispatch = <T extends object>(pick: (f: ReturnType<typeof fakeActivities>) => T, names: string[]) =>
      Object.fromEntries(
        names.map((name) => [
          name,
          (...args: unknown[]) =>
            (pick(fakeFor()) as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args),
        ]),
      );
    const template = fakeActivities();
    const io = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities: dispatch((f) => f.io, Object.keys(template.io)),
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    const media = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: mediaTaskQueue(taskQueue),
      activities: dispatch((f) => f.media, Object.keys(template.media)),
      // A cancellation reaches an activity with its next heartbeat sent; unthrottled, a cancelled render stops
      // within a second instead of 16 s (0.8 of its heartbeat timeout).
      maxHeartbeatThrottleInterval: '1s',
    });
    workersDone = Promise.all([io.run(), media.run()]);
    stopWorkers = () => {
      io.shutdown();
      media.shutdown();
    };
  });
  afterAll(async () => {
    stopWorkers?.();
    await workersDone;
  });

  async function withWorkers<T>(
    fake: ReturnType<typeof fakeActivities>,
    fn: (taskQueue: string) => Promise<T>,
  ) {
    current = fake;
    return fn(taskQueue);
  }

  // With RECORD_HISTORIES=<version label> each test's history is saved under test/fixtures/histories/<label>/ for
  // test/replay.test.ts: later versions of the workflow must replay what this one recorded, or running assets would
  // break on deploy. Each version that changes the commands gets a directory of its own.
  const startedHere: WorkflowHandle[] = [];
  const start = async (taskQueue: string, overrides: Partial<AssetLifecycleInput> = {}) => {
    const workflowId = uniqueName('asset');
    if (current) fakeOfWorkflow.set(workflowId, current);
    const handle = await env.client.workflow.start('assetLifecycle', {
      taskQueue,
      workflowId,
      args: [{ ...input(), ...overrides }],
    });
    startedHere.push(handle);
    return handle;
  };
  afterEach(async () => {
    const handles = startedHere.splice(0);
    const name = expect.getState().currentTestName?.split(' > ').at(-1) ?? 'unnamed';
    for (const [i, handle] of handles.entries()) await recordHistory(handle, historySlug(name), i);
  });

  it('expires at the TTL and not before, and discards whatever was uploaded', async () => {
    const fake = fakeActivities();
    await withWorkers(fake, async (taskQueue) => {
      const started = await env.currentTimeMs();
      const handle = await start(taskQueue);
      await env.sleep(`${TTL_SECONDS - 1}s`);
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'pending',
        stage: 'awaiting-upload',
      });
      expect(fake.names()).toEqual([]);

      const outcome = await handle.result();
      const elapsedMs = (await env.currentTimeMs()) - started;
      expect(outcome).toEqual({ status: 'expired', reason: `upload not completed within ${TTL_SECONDS} s` });
      expect(elapsedMs).toBeGreaterThanOrEqual(TTL_SECONDS * 1000);
      expect(fake.names()).toEqual(['discardUpload', 'recordTransition']);
      expect(fake.transitions()).toEqual(['expired']);
    });
  });

  it('a completion one second before the TTL wins; the asset is ready and lives until deleted', async () => {
    const fake = fakeActivities();
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await env.sleep(`${TTL_SECONDS - 1}s`);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await handle.signal(uploadCompletedSignal, { source: 'storage-event' });
      await env.sleep('1h');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
      expect(fake.names()).toEqual(
        expect.arrayContaining(['verifyUpload', 'sniffUpload', 'claimBlob', 'scanBlob', 'extractMetadata']),
      );
      expect(fake.names()).not.toContain('awaitBlob');
      const processing = fake.calls.find((c) => (c.arg as TransitionRecord).to === 'processing')!;
      expect((processing.arg as TransitionRecord).reason).toBe('upload completed (reported by api)');

      // Deleted, it waits in the trash: restorable for 30 days, then purged.
      await handle.signal(deleteRequestedSignal, { reason: 'deleted by its owner' });
      await env.sleep('29d');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      expect(fake.names()).not.toContain('releaseBlob');
      await handle.signal(restoreRequestedSignal, { requestedBy: '7' });
      await env.sleep('1h');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'ready',
        reason: 'restored from the trash',
      });

      await handle.signal(deleteRequestedSignal, { reason: 'deleted again' });
      const purged = await handle.result();
      expect(purged).toEqual({ status: 'deleted', reason: 'purged: 2592000 s in the trash passed' });
      expect(fake.names().slice(-5)).toEqual([
        'discardUpload',
        'releaseBlob',
        'purgeCdn',
        'tombstoneAsset',
        'recordTransition',
      ]);
    });
  });

  it("small content's I/O runs as local activities, larger content's as remote ones that heartbeat", async () => {
    const remoteIo = async (sizeBytes: number) => {
      const fake = fakeActivities({
        verifyUpload: async () => ({ ok: true, sizeBytes, sha256: SHA }),
        renderRenditions: async () => ({
          prefix: 'p/',
          // Publishing is sized by the renditions, what a replica would be sent.
          renditions: [{ name: 'big', objectKey: 'p/b.webp', mimeType: 'image/webp', sizeBytes }],
        }),
      });
      return withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, { declaredSizeBytes: sizeBytes });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        await env.sleep('1h');
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
        expect(fake.names()).toEqual(
          expect.arrayContaining([
            'verifyUpload',
            'claimBlob',
            'scanBlob',
            'publishRenditions',
            'registerWithCdn',
          ]),
        );
        const history = await handle.fetchHistory();
        return (history.events ?? [])
          .map((e) => e.activityTaskScheduledEventAttributes)
          .filter((a) => a && !a.taskQueue?.name?.endsWith('-media'))
          .map((a) => a!.activityType?.name);
      });
    };
    // The claim is remote whatever the size: it ends the task that verified the upload (see activities.ts).
    expect(await remoteIo(LOCAL_IO_MAX_BYTES)).toEqual(['claimBlob']);
    expect(await remoteIo(LOCAL_IO_MAX_BYTES + 1)).toEqual([
      'verifyUpload',
      'claimBlob',
      'scanBlob',
      'publishRenditions',
      'registerWithCdn',
    ]);
  });

  it('a run started on this code passes all its patches with one marker and one TemporalChangeVersion upsert', async () => {
    const fake = fakeActivities();
    const events = await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1h');
      // Ready and in its published life: past the release clock, local bookkeeping and I/O, the poison guard, the
      // workflow's own check of still renditions and tiering.
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
      expect(fake.names()).toEqual(expect.arrayContaining(['publishRenditions', 'registerWithCdn']));
      return (await handle.fetchHistory()).events ?? [];
    });
    const patches = events
      .map((e) => e.markerRecordedEventAttributes)
      .filter((m) => m?.markerName === 'core_patch')
      .map((m) => {
        const payload = m!.details?.['patch-data']?.payloads?.[0];
        return (defaultPayloadConverter.fromPayload(payload!) as { id: string }).id;
      });
    expect(patches).toEqual(['gates-2026-12']);
    const versionUpserts = events.filter(
      (e) =>
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
          ?.TemporalChangeVersion,
    );
    expect(versionUpserts).toHaveLength(1);
  });

  it('a delete arriving while the outcome is recorded sends the asset to the trash, not to a purge', async () => {
    let handle: WorkflowHandle | undefined;
    const fake = fakeActivities({
      // Runs after processing settled: a delete now must not cancel the recording of the outcome.
      copyMediaMetadata: async () => {
        await handle!.signal(deleteRequestedSignal, { reason: 'deleted at once' });
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1h');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      expect(fake.transitions().slice(-2)).toEqual(['ready', 'deleted']);
      expect(fake.names()).not.toContain('releaseBlob');
      // Out of the trash again, so its purge timer cannot fire while later tests skip time.
      await handle.signal(restoreRequestedSignal, { requestedBy: '7' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
    });
  });

  it('retention purges the asset when it ends, without a trash stay', async () => {
    const fake = fakeActivities();
    await withWorkers(fake, async (taskQueue) => {
      const retainUntil = new Date((await env.currentTimeMs()) + 10 * 86_400_000).toISOString();
      const handle = await start(taskQueue, { retainUntil });
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('9d');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
      expect(await handle.result()).toEqual({
        status: 'deleted',
        reason: `retention ended at ${retainUntil}`,
      });
      expect(fake.names()).toContain('tombstoneAsset');
    });
  });

  it('a failed verification discards the object and ends rejected with the reason', async () => {
    const fake = fakeActivities({
      verifyUpload: async () => ({ ok: false, reason: 'uploaded size 3 bytes differs', details: {} }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      expect(await handle.result()).toEqual({ status: 'rejected', reason: 'uploaded size 3 bytes differs' });
      expect(fake.names()).toEqual(['recordTransition', 'verifyUpload', 'discardUpload', 'recordTransition']);
    });
  });

  it('a multipart completion is assembled by the verify step; a join S3 refuses rejects the asset', async () => {
    const assemble = { uploadId: 'up-1', parts: [{ partNumber: 1, etag: '"e1"' }] };
    const refusal = "the upload's parts could not be assembled: InvalidPart: part 1";
    const fake = fakeActivities({
      verifyUpload: async () => ({ ok: false, reason: refusal, details: {} }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api', assemble });
      // A later report of the same upload (S3's event for the joined object) changes nothing.
      await handle.signal(uploadCompletedSignal, { source: 'storage-event' });
      expect(await handle.result()).toEqual({ status: 'rejected', reason: refusal });
      const verify = fake.calls.find((c) => c.name === 'verifyUpload');
      expect(verify?.arg).toMatchObject({ assemble });
    });
  });

  it('a media failure fails the asset at its stage; an operator retry re-runs that stage and succeeds', async () => {
    let renders = 0;
    const fake = fakeActivities({
      renderRenditions: async () => {
        renders += 1;
        if (renders === 1) {
          throw ApplicationFailure.create({
            message: 'moov atom not found',
            type: 'MediaError',
            nonRetryable: true,
          });
        }
        return { prefix: 'p/', renditions: [] };
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'failed',
        reason: 'renditions failed: moov atom not found',
      });
      expect(fake.names()).toContain('failBlob');
      expect(fake.names().filter((n) => n === 'extractMetadata')).toHaveLength(1);

      await handle.signal(retryRequestedSignal, { requestedBy: 'ops' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
      // The retry started at the failed stage: metadata was not extracted again.
      expect(fake.names().filter((n) => n === 'extractMetadata')).toHaveLength(1);
      expect(renders).toBe(2);
      expect(fake.names()).toContain('takeOverBlob');
    });
  });

  it('out-of-bounds output fails at validate with the numbers; a retry renders again', async () => {
    let validations = 0;
    const fake = fakeActivities({
      // Video: its outputs are checked by the validate activity, which reads them.
      extractMetadata: async () => ({ kind: 'video', container: 'mov,mp4', durationSeconds: 8 }),
      validateRenditions: async (): Promise<ValidationReport> => {
        validations += 1;
        return validations === 1
          ? {
              ok: false,
              reason: 'mp4 duration 6.10 s differs from source 8.00 s',
              measurements: { 'mp4.duration': 6.1 },
            }
          : { ok: true, measurements: {} };
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'failed',
        reason: 'validate failed: mp4 duration 6.10 s differs from source 8.00 s',
      });
      expect(fake.names()).not.toContain('publishRenditions');
      await handle.signal(retryRequestedSignal, { requestedBy: 'ops' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
      expect(fake.names().filter((n) => n === 'renderRenditions')).toHaveLength(2);
      expect(fake.names().filter((n) => n === 'publishRenditions')).toHaveLength(1);
    });
  });

  it('an empty image rendition fails at validate, checked by the workflow without a media task; a retry renders again', async () => {
    let renders = 0;
    const fake = fakeActivities({
      renderRenditions: async () => {
        renders += 1;
        const sizeBytes = renders === 1 ? 0 : 2048;
        return {
          prefix: 'p/',
          renditions: [
            { name: 'thumb-256', objectKey: 'p/thumb-256.webp', mimeType: 'image/webp', sizeBytes },
            { name: 'web-1280', objectKey: 'p/web-1280.webp', mimeType: 'image/webp', sizeBytes: 4096 },
          ],
        };
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'failed',
        stage: 'failed',
        reason: 'validate failed: empty renditions: thumb-256',
      });
      const failed = fake.calls.find(
        (c) => c.name === 'recordTransition' && (c.arg as TransitionRecord).to === 'failed',
      )!.arg as TransitionRecord;
      expect(failed.stage).toBe('validate');
      expect(fake.names()).not.toContain('publishRenditions');
      await handle.signal(retryRequestedSignal, { requestedBy: 'ops' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
      expect(renders).toBe(2);
      const validated = fake.calls.find(
        (c) => c.name === 'recordTransition' && (c.arg as TransitionRecord).reason === 'renditions validated',
      )!.arg as TransitionRecord;
      expect(validated).toMatchObject({ stage: 'validate', details: { renditions: 2 } });
      expect(fake.names()).not.toContain('validateRenditions');
      expect(fake.names().filter((n) => n === 'publishRenditions')).toHaveLength(1);
    });
  });

  it('a duplicate waits for the stored content and takes its outcome without processing it', async () => {
    const fake = fakeActivities({
      claimBlob: async () => ({ role: 'duplicate', sha256: SHA, blobKey: `blobs/${SHA}` }),
      awaitBlob: async () => ({ status: 'quarantined', reason: 'virus found: Eicar-Test-Signature' }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'quarantined',
        reason: 'virus found: Eicar-Test-Signature',
      });
      expect(fake.names()).not.toContain('scanBlob');
      expect(fake.names()).not.toContain('renderRenditions');
    });
  });

  it('a duplicate handed the blob by its deleted owner processes it itself', async () => {
    const fake = fakeActivities({
      claimBlob: async () => ({ role: 'duplicate', sha256: SHA, blobKey: `blobs/${SHA}` }),
      awaitBlob: async () => ({ status: 'owned', reason: null }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'storage-event' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
      expect(fake.names()).toEqual(expect.arrayContaining(['awaitBlob', 'scanBlob', 'publishRenditions']));
      await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
      await env.sleep('1m');
    });
  });

  it('infected content is quarantined without being rendered, and a delete sends it to the trash', async () => {
    const fake = fakeActivities({
      scanBlob: async () => ({ verdict: 'infected', signature: 'Eicar-Test-Signature' }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'quarantined',
        stage: 'done',
        reason: 'virus found: Eicar-Test-Signature',
      });
      expect(fake.names()).not.toContain('extractMetadata');
      expect(fake.names()).not.toContain('registerWithCdn');
      await handle.signal(deleteRequestedSignal, { reason: 'removed by an operator' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      await handle.signal(restoreRequestedSignal, { requestedBy: 'ops' });
      await env.sleep('1m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'quarantined', stage: 'done' });
      expect(fake.names()).not.toContain('registerWithCdn');
      await handle.signal(deleteRequestedSignal, { reason: 'removed again' });
      await env.sleep('1m');
    });
  });

  it('media refused by policy rejects the asset at its stage, and its blob goes', async () => {
    const fake = fakeActivities({
      extractMetadata: async () => {
        throw ApplicationFailure.create({
          message: 'image of 400000000 pixels exceeds the limit',
          type: 'MediaRejected',
          nonRetryable: true,
        });
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      expect(await handle.result()).toEqual({
        status: 'rejected',
        reason: 'metadata: image of 400000000 pixels exceeds the limit',
      });
      expect(fake.names().slice(-3)).toEqual(['failBlob', 'releaseBlob', 'recordTransition']);
      const last = fake.calls.at(-1)!.arg as TransitionRecord;
      expect(last.stage).toBe('metadata');
    });
  });

  it('a scanner lost on the same input three times fails the scan and files a dead letter; twice, the third scan runs alone', async () => {
    const scannerDies = (losses: number) => {
      let n = 0;
      return fakeActivities({
        scanBlob: async () => {
          if (++n > losses) return { verdict: 'clean' };
          throw ApplicationFailure.create({
            message: 'clamd at 127.0.0.1:3310: the connection closed without a reply after the whole stream',
            type: SCANNER_LOST,
          });
        },
      });
    };

    const poison = scannerDies(Infinity);
    await withWorkers(poison, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1h');
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'failed',
        reason:
          'scan failed: scanner lost 3 times at stage scan (clamd gone before its verdict ×3): input quarantined for inspection',
      });
      // Three calls, each retried by the workflow (not by the server), the later ones marked as suspects.
      const scans = poison.calls
        .filter((c) => c.name === 'scanBlob')
        .map((c) => c.arg as { lostBefore?: number });
      expect(scans.map((s) => s.lostBefore)).toEqual([undefined, 1, 2]);
      const dead = poison.calls
        .filter((c) => c.name === 'recordDeadLetter')
        .map((c) => c.arg as PoisonReport);
      expect(dead).toMatchObject([{ stage: 'scan', attempts: 3, sha256: SHA }]);
      expect(poison.names()).not.toContain('extractMetadata');
      expect(poison.names()).toContain('failBlob');
    });

    const flaky = scannerDies(2);
    await withWorkers(flaky, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('1h');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
      const scans = flaky.calls
        .filter((c) => c.name === 'scanBlob')
        .map((c) => c.arg as { lostBefore?: number });
      expect(scans.map((s) => s.lostBefore)).toEqual([undefined, 1, 2]);
      expect(flaky.names()).not.toContain('recordDeadLetter');
    });
  });

  it('content of a type other than the declared one is rejected at sniffing and the upload discarded', async () => {
    const fake = fakeActivities({
      sniffUpload: async () => ({
        ok: false,
        reason: 'detected video/mp4, declared image/png',
        detected: 'video/mp4',
      }),
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      expect(await handle.result()).toEqual({
        status: 'rejected',
        reason: 'detected video/mp4, declared image/png',
      });
      expect(fake.names().slice(-2)).toEqual(['discardUpload', 'recordTransition']);
      expect(fake.names()).not.toContain('claimBlob');
      expect((fake.calls.at(-1)!.arg as TransitionRecord).stage).toBe('sniff');
    });
  });

  it('a delete while the upload is pending ends the asset at once, with nothing to release', async () => {
    const fake = fakeActivities();
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await env.sleep('1m');
      await handle.signal(deleteRequestedSignal, { reason: 'changed my mind' });
      expect(await handle.result()).toEqual({ status: 'deleted', reason: 'changed my mind' });
      expect(fake.names()).toEqual(['discardUpload', 'purgeCdn', 'tombstoneAsset', 'recordTransition']);
    });
  });

  it('a delete of a failed asset waiting for a retry deletes it and releases its blob', async () => {
    const fake = fakeActivities({
      renderRenditions: async () => {
        throw ApplicationFailure.create({
          message: 'moov atom not found',
          type: 'MediaError',
          nonRetryable: true,
        });
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      const handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await env.sleep('10m');
      expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'failed', stage: 'failed' });
      await handle.signal(deleteRequestedSignal, { reason: 'given up' });
      expect(await handle.result()).toEqual({ status: 'deleted', reason: 'given up' });
      expect(fake.names().slice(-5)).toEqual([
        'discardUpload',
        'releaseBlob',
        'purgeCdn',
        'tombstoneAsset',
        'recordTransition',
      ]);
      expect(fake.names()).not.toContain('takeOverBlob');
    });
  });

  it('a delete during rendering cancels the render and deletes the asset', async () => {
    let handle: WorkflowHandle | undefined;
    let cancelled = false;
    const fake = fakeActivities({
      renderRenditions: async () => {
        await handle!.signal(deleteRequestedSignal, { reason: 'deleted mid-render' });
        // Renders until the cancellation reaches it, as ffmpeg would; it learns of it through its heartbeat.
        try {
          for (;;) {
            Context.current().heartbeat();
            await Context.current().sleep(100);
          }
        } catch (err) {
          cancelled = true;
          throw err;
        }
      },
    });
    await withWorkers(fake, async (taskQueue) => {
      handle = await start(taskQueue);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      expect(await handle.result()).toEqual({ status: 'deleted', reason: 'deleted mid-render' });
      expect(cancelled).toBe(true);
      expect(fake.names()).not.toContain('validateRenditions');
      expect(fake.names()).not.toContain('publishRenditions');
      expect(fake.names()).toContain('releaseBlob');
    });
  });

  describe('storage tiering while ready', () => {
    const DAY = 86_400;
    // A blob of its own: assets of earlier tests, still ready, move their blobs too while time is skipped.
    // A blob and asset of their own, so the moves and events asserted are this asset's alone.
    const tiered = (overrides: (sha256: string) => Overrides = () => ({})) => {
      const sha256 = crypto.randomUUID().replaceAll('-', '').padEnd(64, '0');
      const assetId = crypto.randomUUID();
      const fake = fakeActivities({
        ...overrides(sha256),
        claimBlob: async () => ({ role: 'owner', sha256, blobKey: `blobs/${sha256}` }),
      });
      const moves = () =>
        fake.calls
          .filter((c) => c.name === 'moveBlobTier' && (c.arg as { sha256: string }).sha256 === sha256)
          .map((c) => (c.arg as { to: string }).to);
      const tierEvents = () =>
        fake.calls
          .filter((c) => c.name === 'recordTransition')
          .map((c) => c.arg as TransitionRecord)
          .filter((t) => t.assetId === assetId && t.stage === 'tier')
          .map((t) => t.reason);
      return { fake, sha256, assetId, moves, tierEvents };
    };

    it('an unread asset moves to warm after hotSeconds and to cold after coldSeconds, not before', async () => {
      const { fake, assetId, moves, tierEvents } = tiered();
      await withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, { assetId, hotSeconds: 10 * DAY, coldSeconds: 25 * DAY });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        await env.sleep(`${10 * DAY - 3600}s`);
        expect(moves()).toEqual([]);
        await env.sleep('2h');
        expect(moves()).toEqual(['warm']);
        await env.sleep(`${15 * DAY - 7200}s`);
        expect(moves()).toEqual(['warm']);
        await env.sleep('2h');
        expect(moves()).toEqual(['warm', 'cold']);
        // Cold is the last tier: no further timer.
        await env.sleep('60d');
        expect(moves()).toEqual(['warm', 'cold']);
        expect(tierEvents()).toEqual([
          `moved from hot to warm: not read for ${10 * DAY} s`,
          `moved from warm to cold: not read for ${25 * DAY} s`,
        ]);
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      });
    });

    it('a read of a cold asset brings it back to hot and restarts its clock', async () => {
      const { fake, assetId, moves, tierEvents } = tiered();
      await withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, { assetId, hotSeconds: 10 * DAY, coldSeconds: 20 * DAY });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        await env.sleep(`${20 * DAY + 3600}s`);
        expect(moves()).toEqual(['warm', 'cold']);

        await handle.signal(accessedSignal, { at: new Date(await env.currentTimeMs()).toISOString() });
        await env.sleep('1m');
        expect(moves()).toEqual(['warm', 'cold', 'hot']);
        expect(tierEvents().at(-1)).toBe('moved from cold to hot: read while cold');
        // A read while hot moves nothing, but the ten idle days count from it.
        await env.sleep('5d');
        await handle.signal(accessedSignal, { at: new Date(await env.currentTimeMs()).toISOString() });
        await env.sleep(`${10 * DAY - 3600}s`);
        expect(moves()).toEqual(['warm', 'cold', 'hot']);
        await env.sleep('2h');
        expect(moves()).toEqual(['warm', 'cold', 'hot', 'warm']);
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      });
    });

    it('a read made before the blob moved, reported after, leaves it where it is', async () => {
      const { fake, assetId, moves, tierEvents } = tiered();
      await withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, { assetId, hotSeconds: 10 * DAY, coldSeconds: 20 * DAY });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        await env.sleep('1h');
        const readWhileHot = new Date(await env.currentTimeMs()).toISOString();
        await env.sleep(`${10 * DAY}s`);
        expect(moves()).toEqual(['warm']);
        // An access flush delivers that early read only now, after the move to warm.
        await handle.signal(accessedSignal, { at: readWhileHot });
        await env.sleep('1m');
        expect(moves()).toEqual(['warm']);
        expect(tierEvents()).toEqual([`moved from hot to warm: not read for ${10 * DAY} s`]);
        // A read made now does bring it back.
        await handle.signal(accessedSignal, { at: new Date(await env.currentTimeMs()).toISOString() });
        await env.sleep('1m');
        expect(moves()).toEqual(['warm', 'hot']);
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
      });
    });

    it('a run continued as new picks up the ready asset where the last one left it', async () => {
      const { fake, sha256, assetId, moves } = tiered();
      await withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, {
          assetId,
          hotSeconds: 10 * DAY,
          coldSeconds: 20 * DAY,
          resume: {
            status: 'ready',
            tier: 'warm',
            sha256,
            lastAccessMs: (await env.currentTimeMs()) - 15 * DAY * 1000,
          },
        });
        await env.sleep('1m');
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready', stage: 'done' });
        // No upload, no processing: straight to its life, where the warm blob is due for cold in five days.
        expect(fake.names()).not.toContain('verifyUpload');
        await env.sleep(`${5 * DAY - 3600}s`);
        expect(moves()).toEqual([]);
        await env.sleep('2h');
        expect(moves()).toEqual(['cold']);
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
        expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'deleted', stage: 'trash' });
      });
    });

    it('a blob another asset still reads stays where it is, and the idle window starts over', async () => {
      let refusals = 1;
      const { fake, assetId, moves, tierEvents } = tiered((mine) => ({
        moveBlobTier: async ({ sha256, to }) =>
          sha256 === mine && refusals-- > 0 ? { moved: false, tier: 'hot' } : { moved: true, tier: to },
      }));
      await withWorkers(fake, async (taskQueue) => {
        const handle = await start(taskQueue, { assetId, hotSeconds: 10 * DAY, coldSeconds: 20 * DAY });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        await env.sleep(`${10 * DAY + 3600}s`);
        expect(moves()).toEqual(['warm']);
        expect(tierEvents()).toEqual([]);
        await env.sleep(`${10 * DAY}s`);
        expect(moves()).toEqual(['warm', 'warm']);
        expect(tierEvents()).toEqual([`moved from hot to warm: not read for ${10 * DAY} s`]);
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
      });
    });
  });
  it('a renewed upload session keeps the window open until its new expiry, then expires as before', async () => {
    const fake = fakeActivities();
    await withWorkers(fake, async (taskQueue) => {
      const t0 = await env.currentTimeMs();
      const handle = await start(taskQueue, {
        uploadExpiresAt: new Date(t0 + TTL_SECONDS * 1000).toISOString(),
      });
      await env.sleep(`${TTL_SECONDS - 60}s`);
      const renewedTo = new Date(t0 + 3 * TTL_SECONDS * 1000);
      await handle.signal(uploadRenewedSignal, { expiresAt: renewedTo.toISOString() });
      // A stale duplicate of an earlier renewal cannot shorten it.
      await handle.signal(uploadRenewedSignal, {
        expiresAt: new Date(t0 + 2 * TTL_SECONDS * 1000).toISOString(),
      });
      await env.sleep(`${2 * TTL_SECONDS}s`);
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'pending',
        stage: 'awaiting-upload',
      });
      expect(fake.names()).toEqual([]);
      const outcome = await handle.result();
      expect(outcome.status).toBe('expired');
      expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(renewedTo.getTime());
    });
  });

  describe('the release clock', () => {
    /** The database's side of a schedule, applied as the real activity does it, at the instant the clock woke for. */
    function releaseFake(initial: Release) {
      let release = initial;
      const ticks: { due: string; at: number; events: string[] }[] = [];
      const warmedAt: number[] = [];
      const fake = fakeActivities({
        advanceRelease: async ({ due }) => {
          const change = advanceRelease(release, new Date(due));
          release = change.release;
          ticks.push({ due, at: await env.currentTimeMs(), events: change.events.map((e) => e.type) });
          return toSchedule(release);
        },
        warmRelease: async () => {
          warmedAt.push(await env.currentTimeMs());
          return ['hls/master.m3u8'];
        },
      });
      return {
        fake,
        ticks,
        warmedAt,
        current: () => release,
        set: (r: Release) => {
          release = r;
        },
      };
    }
    const HOUR = 3_600_000;
    const visibilityOf = async (handle: WorkflowHandle) =>
      (await handle.describe()).typedSearchAttributes.get(VisibilityAttribute);

    it('warms the edge before publishAt, publishes and unpublishes at their instants, and re-arms on a new schedule', async () => {
      const t0 = await env.currentTimeMs();
      const publishAt = new Date(t0 + 2 * HOUR);
      const clock = releaseFake({
        visibility: 'draft',
        releaseVisibility: 'public',
        publishAt,
        unpublishAt: new Date(t0 + 5 * HOUR),
        releasedAt: null,
      });
      await withWorkers(clock.fake, async (taskQueue) => {
        const handle = await start(taskQueue, {
          releaseWarmSeconds: 600,
          release: toSchedule(clock.current()),
        });
        await handle.signal(uploadCompletedSignal, { source: 'api' });
        const until = async (at: number) => env.sleep(at - (await env.currentTimeMs()));
        await until(publishAt.getTime() - 660_000);
        expect(clock.warmedAt).toEqual([]);
        expect(await visibilityOf(handle)).toBe('draft');
        await until(publishAt.getTime() - 540_000);
        expect(clock.warmedAt).toHaveLength(1);
        expect(clock.warmedAt[0]).toBeGreaterThanOrEqual(publishAt.getTime() - 600_000);
        expect(clock.ticks).toEqual([]);

        await until(publishAt.getTime() + 60_000);
        expect(clock.ticks).toHaveLength(1);
        expect(clock.ticks[0]).toMatchObject({ due: publishAt.toISOString(), events: ['asset.published'] });
        expect(clock.ticks[0]!.at).toBeGreaterThanOrEqual(publishAt.getTime());
        expect(clock.ticks[0]!.at - publishAt.getTime()).toBeLessThan(60_000);
        expect(clock.current().visibility).toBe('public');
        expect(await visibilityOf(handle)).toBe('public');

        // The owner moves the take-down from 5 h to 3 h (the API writes it, then signals).
        const unpublishAt = new Date(t0 + 3 * HOUR);
        clock.set({ ...clock.current(), unpublishAt });
        await handle.signal(releaseScheduledSignal, toSchedule(clock.current()));
        await until(unpublishAt.getTime() + 60_000);
        expect(clock.ticks.map((t) => t.events)).toEqual([['asset.published'], ['asset.unpublished']]);
        expect(clock.ticks[1]!.due).toBe(unpublishAt.toISOString());
        expect(clock.current().visibility).toBe('private');
        await env.sleep('3h');
        // Nothing was left to wake for at 5 h.
        expect(clock.ticks).toHaveLength(2);
        expect(await visibilityOf(handle)).toBe('private');
        await handle.signal(deleteRequestedSignal, { reason: 'done with it' });
        await env.sleep('1m');
      });
    });

    it('a release due while no worker runs happens once, as soon as one is back', async () => {
      const t0 = await env.currentTimeMs();
      const publishAt = new Date(t0 + HOUR);
      const clock = releaseFake({
        visibility: 'private',
        releaseVisibility: 'unlisted',
        publishAt,
        unpublishAt: null,
        releasedAt: null,
      });
      const ownQueue = uniqueName('tq-release');
      const startWorker = async () => {
        const worker = await Worker.create({
          connection: env.nativeConnection,
          taskQueue: ownQueue,
          activities: clock.fake.io,
          workflowBundle: { codePath: inject('stack').workflowBundlePath },
          // No sticky queue: the test server would hold the next task for the stopped worker's cache forever.
          maxCachedWorkflows: 0,
        });
        return { done: worker.run(), stop: () => worker.shutdown() };
      };
      let worker = await startWorker();
      current = clock.fake;
      // Still awaiting its upload: the clock keeps time in every phase of the asset's life.
      const handle = await start(ownQueue, {
        uploadTtlSeconds: 10 * 3600,
        release: toSchedule(clock.current()),
      });
      await env.sleep('1m');
      worker.stop();
      await worker.done;
      // The worker is gone across publishAt: the durable timer fires on the server all the same. (The test server
      // holds its clock while the task that follows waits for a worker, so the sleep ends once one is back.)
      const sleeping = env.sleep(publishAt.getTime() + 60_000 - (await env.currentTimeMs()));
      await eventually(
        'the publish timer to fire with no worker',
        async () => (await handle.fetchHistory()).events?.some((e) => e.timerFiredEventAttributes) ?? false,
        (fired) => fired,
      );
      expect(clock.ticks).toEqual([]);
      worker = await startWorker();
      await sleeping;
      await eventually(
        'the release after the worker came back',
        async () => clock.ticks.length,
        (n) => n === 1,
      );
      expect(clock.ticks[0]).toMatchObject({ due: publishAt.toISOString(), events: ['asset.published'] });
      expect(clock.current()).toMatchObject({ visibility: 'unlisted', publishAt: null });
      await env.sleep('1h');
      expect(clock.ticks).toHaveLength(1);
      await handle.terminate('done');
      worker.stop();
      await worker.done;
    });
  });
});
