import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { toolPath } from '../devstack';
import type { LifecycleActivities } from '../activities';
import type { TransitionRecord } from '../shared/adapters/asset-repository';
import { assetStateQuery, uploadCompletedSignal, type AssetLifecycleInput } from '../workflows/definitions';
import { registerSearchAttributes } from '../worker/search-attributes';
import { uniqueName } from './helpers/stack';

const TTL_SECONDS = 900;

/** The workflow logic alone: activities are plain functions recording their calls (the SDK's own pattern). */
function fakeActivities(verify: Awaited<ReturnType<LifecycleActivities['verifyUpload']>>) {
  const calls: { name: string; at: number; arg: unknown }[] = [];
  let now = () => 0;
  const activities: LifecycleActivities = {
    async recordTransition(t: TransitionRecord) {
      calls.push({ name: 'recordTransition', at: now(), arg: t });
    },
    async verifyUpload(input) {
      calls.push({ name: 'verifyUpload', at: now(), arg: input });
      return verify;
    },
    async discardUpload(input) {
      calls.push({ name: 'discardUpload', at: now(), arg: input });
      return { abortedMultipart: 0 };
    },
  };
  return { activities, calls, setClock: (fn: () => number) => (now = fn) };
}

function input(): AssetLifecycleInput {
  return {
    assetId: crypto.randomUUID(),
    ownerId: '7',
    bucket: 'b',
    objectKey: 'uploads/7/x',
    declaredSizeBytes: 10,
    declaredChecksumSha256: null,
    uploadTtlSeconds: TTL_SECONDS,
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

  async function withWorker<T>(activities: LifecycleActivities, fn: (taskQueue: string) => Promise<T>) {
    const taskQueue = uniqueName('tq');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    return worker.runUntil(fn(taskQueue));
  }

  it('expires at the TTL and not before, and discards whatever was uploaded', async () => {
    const fake = fakeActivities({ ok: true, sizeBytes: 10, sha256: 'a'.repeat(64) });
    await withWorker(fake.activities, async (taskQueue) => {
      const started = await env.currentTimeMs();
      fake.setClock(() => Date.now());
      const handle = await env.client.workflow.start('assetLifecycle', {
        taskQueue,
        workflowId: uniqueName('asset'),
        args: [input()],
      });
      await env.sleep(`${TTL_SECONDS - 1}s`);
      expect(await handle.query(assetStateQuery)).toMatchObject({
        status: 'pending',
        stage: 'awaiting-upload',
      });
      expect(fake.calls.map((c) => c.name)).toEqual([]);

      const outcome = await handle.result();
      const elapsedMs = (await env.currentTimeMs()) - started;
      expect(outcome).toEqual({ status: 'expired', reason: `upload not completed within ${TTL_SECONDS} s` });
      expect(elapsedMs).toBeGreaterThanOrEqual(TTL_SECONDS * 1000);
      expect(fake.calls.map((c) => c.name)).toEqual(['discardUpload', 'recordTransition']);
      expect((fake.calls[1]!.arg as TransitionRecord).to).toBe('expired');
    });
  });

  it('a completion one second before the TTL wins over expiry', async () => {
    const fake = fakeActivities({ ok: true, sizeBytes: 10, sha256: 'b'.repeat(64) });
    await withWorker(fake.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start('assetLifecycle', {
        taskQueue,
        workflowId: uniqueName('asset'),
        args: [input()],
      });
      await env.sleep(`${TTL_SECONDS - 1}s`);
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      await handle.signal(uploadCompletedSignal, { source: 'storage-event' });
      const outcome = await handle.result();
      expect(outcome.status).toBe('ready');
      const transitions = fake.calls
        .filter((c) => c.name === 'recordTransition')
        .map((c) => (c.arg as TransitionRecord).to);
      expect(transitions).toEqual(['processing', 'ready']);
      const processing = fake.calls.find((c) => (c.arg as TransitionRecord).to === 'processing')!;
      expect((processing.arg as TransitionRecord).reason).toBe('upload completed (reported by api)');
      const ready = fake.calls.find((c) => (c.arg as TransitionRecord).to === 'ready')!;
      expect((ready.arg as TransitionRecord).checksumSha256).toBe('b'.repeat(64));
    });
  });

  it('a failed verification discards the object and ends rejected with the reason', async () => {
    const fake = fakeActivities({ ok: false, reason: 'uploaded size 3 bytes differs', details: {} });
    await withWorker(fake.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start('assetLifecycle', {
        taskQueue,
        workflowId: uniqueName('asset'),
        args: [input()],
      });
      await handle.signal(uploadCompletedSignal, { source: 'api' });
      expect(await handle.result()).toEqual({ status: 'rejected', reason: 'uploaded size 3 bytes differs' });
      expect(fake.calls.map((c) => c.name)).toEqual([
        'recordTransition',
        'verifyUpload',
        'discardUpload',
        'recordTransition',
      ]);
    });
  });
});
