import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { IoActivities, MediaActivities } from '../activities';
import type { DeadLetter } from '../infra/adapters/dead-letter-repository';
import {
  assetStateQuery,
  mediaTaskQueue,
  retryRequestedSignal,
  uploadCompletedSignal,
  type AssetLifecycleInput,
} from '../workflows/definitions';
import { historySlug, recordHistory } from './helpers/histories';
import { eventually } from './helpers/http';
import { uniqueName } from './helpers/stack';

/**
 * The stage guard's counting (workflows/stage-guard.ts): the real workflow against the suite's Temporal dev server,
 * its activities replaced by functions. Not the time-skipping server: that one retries a timed-out attempt itself
 * whatever the retry policy's non-retryable types say (TemporalTimeout:Heartbeat), so the guard would never see a
 * loss there. So the heartbeat timeouts here take their real 20 s.
 */
const SHA = 'c'.repeat(64);

interface Fake {
  io: Partial<IoActivities>;
  media: Partial<MediaActivities>;
  deadLetters: DeadLetter[];
  renders: { lostBefore?: number }[];
}

/**
 * A lost attempt: it never answers and never heartbeats, so the server ends it at the heartbeat timeout (20 s), as it
 * does an attempt whose worker died. (A TimeoutFailure thrown by the activity would not do: the worker reports it as
 * an ApplicationFailure, which the server retries itself.)
 */
const hang = () =>
  new Promise<never>((_, reject) =>
    Context.current().cancellationSignal.addEventListener('abort', () => reject(new Error('cancelled'))),
  );

function fake(render: (call: number) => Promise<unknown>): Fake {
  const f: Fake = { io: {}, media: {}, deadLetters: [], renders: [] };
  f.io = {
    recordTransition: async () => undefined,
    verifyUpload: async () => ({ ok: true, sizeBytes: 10, sha256: SHA }),
    checkQuota: async () => ({ ok: true }),
    sniffUpload: async () => ({ ok: true, mimeType: 'image/png', family: 'image' }),
    claimBlob: async () => ({ role: 'owner', sha256: SHA, blobKey: `blobs/${SHA}` }),
    scanBlob: async () => ({ verdict: 'skipped', reason: 'no scanner configured' }),
    publishRenditions: async () => ({ removedStaleObjects: 0 }),
    failBlob: async () => undefined,
    takeOverBlob: async () => true,
    copyMediaMetadata: async () => undefined,
    registerWithCdn: async () => [],
    recordDeadLetter: async (letter) => {
      f.deadLetters.push(letter);
    },
  };
  f.media = {
    extractMetadata: async () => ({
      kind: 'image',
      format: 'png',
      width: 10,
      height: 10,
      hasAlpha: false,
      frames: 1,
    }),
    renderRenditions: (async (input: { lostBefore?: number }) => {
      f.renders.push({ lostBefore: input.lostBefore });
      return render(f.renders.length);
    }) as MediaActivities['renderRenditions'],
    validateRenditions: async () => ({ ok: true, measurements: {} }),
  };
  return f;
}

const rendered = async () => ({ prefix: 'p/', renditions: [] });

function input(): AssetLifecycleInput {
  return {
    assetId: crypto.randomUUID(),
    ownerId: '7',
    declaredContentType: 'image/png',
    bucket: 'b',
    objectKey: 'uploads/7/x',
    declaredSizeBytes: 10,
    declaredChecksumSha256: null,
    uploadTtlSeconds: 900,
    trashSeconds: 86_400,
    retainUntil: null,
  };
}

describe('poison guard: lost attempts counted by the asset workflow', { timeout: 200_000 }, () => {
  let client: Client;
  let native: NativeConnection;
  let taskQueue: string;
  let current: Fake | undefined;
  const byWorkflow = new Map<string, Fake>();
  let stop: () => void;
  let done: Promise<unknown>;
  const started: WorkflowHandle[] = [];

  beforeAll(async () => {
    const address = inject('stack').temporalAddress;
    client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
    native = await NativeConnection.connect({ address });
    taskQueue = uniqueName('tq');
    const of = () => byWorkflow.get(Context.current().info.workflowExecution?.workflowId ?? '') ?? current!;
    const dispatch = (group: 'io' | 'media', names: string[]) =>
      Object.fromEntries(
        names.map((name) => [
          name,
          (...args: unknown[]) => {
            const fn = (of()[group] as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
            if (!fn) throw new Error(`${name} is not expected in this test`);
            return fn(...args);
          },
        ]),
      );
    const template = fake(rendered);
    const io = await Worker.create({
      connection: native,
      taskQueue,
      activities: dispatch('io', Object.keys(template.io)),
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    const media = await Worker.create({
      connection: native,
      taskQueue: mediaTaskQueue(taskQueue),
      activities: dispatch('media', Object.keys(template.media)),
    });
    done = Promise.all([io.run(), media.run()]);
    stop = () => {
      io.shutdown();
      media.shutdown();
    };
  });
  afterAll(async () => {
    stop?.();
    await done;
    await native?.close();
    await client?.connection.close();
  });

  // RECORD_HISTORIES=<label> keeps these runs for test/replay.test.ts, as test/workflow-lifecycle.test.ts does.
  afterEach(async () => {
    const handles = started.splice(0);
    const name = expect.getState().currentTestName?.split(' > ').at(-1) ?? 'unnamed';
    for (const [i, handle] of handles.entries())
      await recordHistory(handle, `poison-${historySlug(name, 50)}`, i);
  });

  const settled = (handle: WorkflowHandle, status: string) =>
    eventually(
      `the asset to be ${status}`,
      () => handle.query(assetStateQuery),
      (s) => s.status === status,
      120_000,
    );

  const start = async (f: Fake) => {
    current = f;
    const workflowId = uniqueName('asset');
    byWorkflow.set(workflowId, f);
    const handle = await client.workflow.start('assetLifecycle', {
      taskQueue,
      workflowId,
      args: [input()],
    });
    started.push(handle);
    await handle.signal(uploadCompletedSignal, { source: 'api' });
    return handle;
  };

  it('three lost attempts fail the stage with the cause and file a dead letter; a retry starts counting anew', async () => {
    // Lost three times, then (after the operator's retry) lost once more and done: the count restarted.
    const f = fake((call) => (call <= 4 ? hang() : rendered()));
    const handle = await start(f);
    await settled(handle, 'failed');
    const reason =
      'renditions failed: worker lost 3 times at stage renditions (heartbeat timeout ×3): input quarantined for inspection';
    expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'failed', stage: 'failed', reason });
    expect(f.renders).toEqual([{}, { lostBefore: 1 }, { lostBefore: 2 }]);
    expect(f.deadLetters).toHaveLength(1);
    expect(f.deadLetters[0]).toMatchObject({
      stage: 'renditions',
      cause: 'heartbeat timeout ×3',
      attempts: 3,
      sha256: SHA,
      blobKey: `blobs/${SHA}`,
    });
    const letter = f.deadLetters[0]!;
    // Each loss is noticed a heartbeat timeout (20 s) after its attempt started.
    expect(Date.parse(letter.lastSeenAt) - Date.parse(letter.firstSeenAt)).toBeGreaterThanOrEqual(40_000);

    await handle.signal(retryRequestedSignal, { requestedBy: 'ops' });
    await settled(handle, 'ready');
    expect(f.renders.slice(3)).toEqual([{}, { lostBefore: 1 }]);
    expect(f.deadLetters).toHaveLength(1);
  });

  it('infrastructure errors are still retried without limit and never counted as losses', async () => {
    // Four failures: the server's backoff (1 s, 2 s, 4 s, 8 s) passes in real time here.
    const f = fake((call) =>
      call <= 4
        ? Promise.reject(ApplicationFailure.retryable('S3 is away', 'S3ServiceException'))
        : rendered(),
    );
    const handle = await start(f);
    await settled(handle, 'ready');
    expect(f.renders).toHaveLength(5);
    // The server retried them: the workflow never re-invoked the activity itself.
    expect(f.renders.every((r) => r.lostBefore === undefined)).toBe(true);
    expect(f.deadLetters).toEqual([]);
  });

  it('a stalled run (killed for making no progress) counts like a lost worker', async () => {
    const stalled = () =>
      Promise.reject(
        ApplicationFailure.create({
          type: 'MediaStalled',
          nonRetryable: true,
          message: 'ffmpeg made no progress for 120 s',
        }),
      );
    const f = fake((call) => (call === 1 ? hang() : stalled()));
    const handle = await start(f);
    await settled(handle, 'failed');
    expect(await handle.query(assetStateQuery)).toMatchObject({
      status: 'failed',
      reason:
        'renditions failed: worker lost 3 times at stage renditions (heartbeat timeout, ffmpeg made no progress for 120 s ×2): input quarantined for inspection',
    });
    expect(f.deadLetters).toHaveLength(1);
  });
});
