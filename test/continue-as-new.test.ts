import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import {
  ASSETLINE_SEARCH_ATTRIBUTES,
  startTemporalDevServer,
  type TemporalDevServerHandle,
} from '../devstack';
import { accessedSignal, assetWorkflowId } from '../workflows/definitions';
import type { AssetLifecycleInput } from '../workflows/definitions';
import { eventually, request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/**
 * A ready asset's workflow lives as long as the asset, collecting a signal per read. When the server suggests it
 * (its history has grown past `limit.historyCount.suggestContinueAsNew`, 4 Ki events by default; 150 on this test's
 * own server), the run continues as new with the asset's state, and the new run carries on its life.
 */
// Long enough for the upload, its processing and the reads to happen before the URL expires, even on a busy machine.
const TTL_SECONDS = 20;

describe('continue-as-new of a long-lived asset workflow', () => {
  let temporal: TemporalDevServerHandle;
  let platform: TestPlatform;

  beforeAll(async () => {
    temporal = await startTemporalDevServer({
      searchAttributes: ASSETLINE_SEARCH_ATTRIBUTES,
      logFile: path.join(inject('stack').tmpDir, uniqueName('temporal-can'), 'temporal.log'),
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 150 },
    });
    platform = await startPlatform({ temporalAddress: temporal.address, uploadTtlSeconds: TTL_SECONDS });
  });
  afterAll(async () => {
    await platform?.stop();
    await temporal?.stop();
  });

  it('a ready asset signalled past the history limit continues as new with its state, and the new run serves a delete', async () => {
    const token = await platform.token('8701');
    const data = await noisyPng(24, 24);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'long-lived.png');
    const ready = await waitForStatus(platform.baseUrl, token, assetId, ['ready']);
    const workflowId = assetWorkflowId(assetId);
    const firstRunId = (await platform.temporal.workflow.getHandle(workflowId).describe()).runId;

    // Reads, as the API's access recorder reports them: each adds a workflow task and its events. Before the
    // upload URL's expiry the run does not continue (Temporal 1.29 would delay the new run by the rest of the
    // original start delay, and signals would wait it out).
    const handle = platform.temporal.workflow.getHandle(workflowId);
    const read = () => handle.signal(accessedSignal, { at: new Date().toISOString() });
    // Signals that arrive together share a workflow task: read until the history is past the limit.
    let early = await handle.describe();
    for (let i = 0; early.historyLength <= 160 && i < 500; i += 1) {
      await read();
      if (i % 10 === 9) early = await handle.describe();
    }
    expect(Date.now()).toBeLessThan(Date.parse(ready.uploadExpiresAt as string));
    expect(early.historyLength).toBeGreaterThan(150);
    expect((await handle.describe()).runId).toBe(firstRunId);

    // After it, the next read lets the run continue as new.
    await new Promise((r) => setTimeout(r, Date.parse(ready.uploadExpiresAt as string) + 1500 - Date.now()));
    await read();
    const first = await eventually(
      'the first run to continue as new',
      () => platform.temporal.workflow.getHandle(workflowId, firstRunId).describe(),
      (d) => d.status.name === 'CONTINUED_AS_NEW',
      30_000,
    );
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const current = await platform.temporal.workflow.getHandle(workflowId).describe();
    expect(current.runId).not.toBe(firstRunId);
    expect(current.status.name).toBe('RUNNING');
    const history = await platform.temporal.workflow.getHandle(workflowId, current.runId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(Number(started?.firstWorkflowTaskBackoff?.seconds ?? 0)).toBeLessThan(5);
    const input = defaultPayloadConverter.fromPayload<AssetLifecycleInput>(started!.input!.payloads![0]!);
    expect(input.resume).toMatchObject({ status: 'ready', tier: 'hot', sha256: ready.checksumSha256 });

    // The asset's life goes on in the new run: a delete is served by it.
    const deleted = await request('DELETE', `${platform.baseUrl}/media/${assetId}`, { token });
    expect(deleted.status).toBe(202);
    const trashed = await waitForStatus(platform.baseUrl, token, assetId, ['deleted']);
    expect(String(trashed.statusReason)).toContain('in the trash until');
  });
});
