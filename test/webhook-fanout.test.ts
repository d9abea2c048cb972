import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { toolPath } from '../devstack';
import type { IoActivities } from '../activities';
import { uniqueName } from './helpers/stack';

type WebhookActivities = Pick<
  IoActivities,
  'listWebhookTargets' | 'deliverWebhook' | 'abandonWebhookDelivery'
>;

/**
 * The fan-out's retry schedule, which a real receiver cannot show in a test's lifetime: the time-skipping server
 * runs its day of retries in seconds. Activities are plain functions (the SDK's own pattern for workflow logic).
 */
describe('webhook fan-out in the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: toolPath('temporal-test-server') } },
    });
  });
  afterAll(async () => env?.teardown());

  async function run(deliver: WebhookActivities['deliverWebhook'], webhookIds: string[]) {
    const calls = { deliver: [] as string[], abandoned: [] as { webhookId: string; reason: string }[] };
    const activities: WebhookActivities = {
      listWebhookTargets: async () => webhookIds.map((webhookId) => ({ webhookId })),
      deliverWebhook: async (ref) => {
        calls.deliver.push(ref.webhookId);
        return deliver(ref);
      },
      abandonWebhookDelivery: async ({ webhookId, reason }) => {
        calls.abandoned.push({ webhookId, reason });
      },
    };
    const taskQueue = uniqueName('hooks');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      activities,
      workflowBundle: { codePath: inject('stack').workflowBundlePath },
    });
    const handle = await env.client.workflow.start('webhookFanout', {
      taskQueue,
      workflowId: uniqueName('fanout'),
      args: ['e/1'],
    });
    const result = await worker.runUntil(handle.result());
    const { startTime, closeTime } = await handle.describe();
    return { result, calls, elapsedMs: (closeTime?.getTime() ?? NaN) - startTime.getTime() };
  }

  it('retries a failing receiver with capped backoff for 24 hours, then marks the delivery failed', async () => {
    const { result, calls, elapsedMs } = await run(async () => {
      throw ApplicationFailure.retryable('receiver answered 503', 'WebhookRejected');
    }, ['w1']);
    expect(result).toEqual({ delivered: 0, skipped: 0, failed: 1 });
    // Temporal gives up as soon as the next retry would fall after the 24-hour deadline.
    expect(elapsedMs).toBeGreaterThan(24 * 3600_000 - 10 * 60_000);
    expect(elapsedMs).toBeLessThanOrEqual(24 * 3600_000);
    // 2 s doubling to the 10-minute cap: 10 attempts in the first 17 minutes, then one every 10 minutes.
    expect(calls.deliver.length).toBeGreaterThan(145);
    expect(calls.deliver.length).toBeLessThan(160);
    expect(calls.abandoned).toEqual([
      { webhookId: 'w1', reason: 'gave up: no successful delivery within 24 h' },
    ]);
  });

  it('does not retry 410 Gone, and delivers to the other webhooks regardless', async () => {
    const { result, calls } = await run(
      async ({ webhookId }) => {
        if (webhookId === 'gone')
          throw ApplicationFailure.nonRetryable('receiver answered 410 (Gone)', 'WebhookGone');
        return { status: 'delivered', attempts: 1 };
      },
      ['ok', 'gone'],
    );
    expect(result).toEqual({ delivered: 1, skipped: 0, failed: 1 });
    expect(calls.deliver.sort()).toEqual(['gone', 'ok']);
    expect(calls.abandoned).toEqual([{ webhookId: 'gone', reason: 'gave up: receiver answered 410 (Gone)' }]);
  });
});
