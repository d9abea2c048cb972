import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { toolPath } from '../devstack';
import type { IoActivities, MediaActivities } from '../activities';
import type { DeadLetter } from '../shared/adapters/dead-letter-repository';
import {
  assetStateQuery,
  mediaTaskQueue,
  retryRequestedSignal,
  uploadCompletedSignal,
  type AssetLifecycleInput,
} from '../workflows/definitions';
import { registerSearchAttributes } from '../worker/search-attributes';
import { uniqueName } from './helpers/stack';

/**
 * The stage guard's counting (workflows/stage-guard.ts) in the time-skipping server: the media activities are
 * functions, and a "lost" attempt is one that hangs without heartbeats until the server's heartbeat timeout ends it,
 * as a worker killed under it would.
 */
const SHA = 'c'.repeat(64);
const HISTORIES_DIR = path.join(import.meta.dirname, 'fixtures', 'histories');

interface Fake {
  io: Partial<IoActivities>;
  media: Partial<MediaActivities>;
  deadLetters: DeadLetter[];
  renders: { lostBefore?: number }[];
}

/** Never returns and never heartbeats: the attempt is lost once the heartbeat timeout passes. */
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

describe('poison guard in the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  let taskQueue: string;
  let current: Fake | undefined;
  const byWorkflow = new Map<string, Fake>();
  let stop: () => void;
  let done: Promise<unknown>;
  const started: WorkflowHandle[] = [];

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
    });
    await registerSearchAttributes(env.connection, 'default');
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
      connection: env.nativeConnection,
      taskQueue,
      activities: dispatch('io', Object.keys(template.io)),
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    const media = await Worker.create({
      connection: env.nativeConnection,
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
    await env?.teardown();
  });

  // RECORD_HISTORIES=<label> keeps these runs for test/replay.test.ts, as test/workflow-lifecycle.test.ts does.
  afterEach(async () => {
    const handles = started.splice(0);
    const label = process.env.RECORD_HISTORIES;
    if (!label) return;
    const name = expect.getState().currentTestName?.split(' > ').at(-1) ?? 'unnamed';
    const slug = `poison-${name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .slice(0, 50)}`;
    for (const [i, handle] of handles.entries()) {
      const history = proto.temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish();
      await fs.mkdir(path.join(HISTORIES_DIR, label), { recursive: true });
      await fs.writeFile(path.join(HISTORIES_DIR, label, `${slug}${i ? `-${i}` : ''}.binpb`), history);
    }
  });

  const start = async (f: Fake) => {
    current = f;
    const workflowId = uniqueName('asset');
    byWorkflow.set(workflowId, f);
    const handle = await env.client.workflow.start('assetLifecycle', {
      taskQueue,
      workflowId,
      args: [input()],
    });
    started.push(handle);
    await handle.signal(uploadCompletedSignal, { source: 'api' });
    return handle;
  };

  it('three lost attempts fail the stage with the cause and file a dead letter; a retry starts counting anew', async () => {
    // Lost three times, then (after the operator's retry) lost twice more and done: the count restarted.
    const f = fake((call) => (call <= 5 ? hang() : rendered()));
    const handle = await start(f);
    await env.sleep('10m');
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
    await env.sleep('10m');
    expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
    expect(f.renders.slice(3)).toEqual([{}, { lostBefore: 1 }, { lostBefore: 2 }]);
    expect(f.deadLetters).toHaveLength(1);
  });

  it('infrastructure errors are still retried without limit and never counted as losses', async () => {
    const f = fake((call) =>
      call <= 6
        ? Promise.reject(ApplicationFailure.retryable('S3 is away', 'S3ServiceException'))
        : rendered(),
    );
    const handle = await start(f);
    await env.sleep('1h');
    expect(await handle.query(assetStateQuery)).toMatchObject({ status: 'ready' });
    expect(f.renders).toHaveLength(7);
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
    await env.sleep('10m');
    expect(await handle.query(assetStateQuery)).toMatchObject({
      status: 'failed',
      reason:
        'renditions failed: worker lost 3 times at stage renditions (heartbeat timeout, ffmpeg made no progress for 120 s ×2): input quarantined for inspection',
    });
    expect(f.deadLetters).toHaveLength(1);
  });
});
