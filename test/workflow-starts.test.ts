import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowStarter } from '../api/workflow-starter';
import { WebhookEventPublisher } from '../infra/adapters/event-publisher';
import { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { lifecycleInput } from '../api/lifecycle-input';
import { WebhookRepository } from '../infra/adapters/webhook-repository';
import { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import { createLogger } from '../infra/logger';
import { assetWorkflowId } from '../workflows/definitions';
import { eventually, request } from './helpers/http';
import { putBytes, requestUpload, waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { startPlatform, type TestPlatform } from './helpers/stack';
import { startReceiver } from './helpers/webhook-receiver';

const TTL_SECONDS = 60;

describe('asset workflows owed by upload URLs (the outbox), started when they have work', () => {
  let platform: TestPlatform;
  let token: string;
  let owed: WorkflowStartRepository;
  const settings = { uploadTtlSeconds: TTL_SECONDS, trashDays: 30, hotDays: 30, coldDays: 90 };
  const logger = createLogger('test', 'silent');

  beforeAll(async () => {
    platform = await startPlatform({ uploadTtlSeconds: TTL_SECONDS });
    token = await platform.token('8801');
    owed = new WorkflowStartRepository(platform.db);
  });
  afterAll(async () => platform?.stop());

  const starterWith = (client: Client) => {
    const gateway = new WorkflowGateway(client, platform.taskQueue);
    const events = new WebhookEventPublisher(gateway, new WebhookRepository(platform.db));
    return new WorkflowStarter(gateway, events, owed, settings, logger);
  };

  /** A pending asset as the upload URL writes it (row, event and owed start), with nobody starting its workflow. */
  async function pendingAsset(ownerId: string, sizeBytes: number) {
    const assetId = randomUUID();
    const asset = {
      asset_id: assetId,
      owner_id: ownerId,
      bucket: platform.store.bucket,
      object_key: `uploads/${ownerId}/${assetId}`,
      filename: 'owed.png',
      mime_type: 'image/png',
      declared_mime_type: 'image/png',
      size_bytes: String(sizeBytes),
      declared_checksum_sha256: null,
      checksum_sha256: null,
      status: 'pending' as const,
      status_reason: 'waiting for the upload',
      upload_expires_at: new Date(Date.now() + TTL_SECONDS * 1000),
      multipart_upload_id: null,
      multipart_part_bytes: null,
      retain_until: null,
      visibility: 'private' as const,
      publish_at: null,
      unpublish_at: null,
    };
    await platform.assets.createPending(asset, {}, `${assetId}/created`);
    return asset;
  }

  const history = async (assetId: string) =>
    (await platform.temporal.workflow.getHandle(assetWorkflowId(assetId)).fetchHistory()).events ?? [];

  it('an upload URL costs Temporal nothing: its start waits until 30 s before the URL expires, then Temporal keeps the rest', async () => {
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'later.png',
      contentType: 'image/png',
      sizeBytes: 100,
    });
    expect(ticket.status).toBe(201);
    const { assetId } = ticket.body;
    // Right after the answer: the first event is out and the start is deferred, with no workflow yet.
    const deferred = await eventually(
      'the owed start deferred',
      () => owed.find(assetId),
      (row) => row?.created_published === true,
    );
    const expiresAt = Date.parse(ticket.body.upload.expiresAt);
    expect(Math.abs(expiresAt - new Date(deferred!.due_at).getTime() - 30_000)).toBeLessThan(1000);
    await expect(platform.temporal.workflow.getHandle(assetWorkflowId(assetId)).describe()).rejects.toThrow(
      /not found/i,
    );
    const res = await request('GET', `${platform.baseUrl}/media/${assetId}`, { token });
    expect(res.body).toMatchObject({ status: 'pending', stage: { name: 'awaiting-upload' } });

    // Due: the sweep starts the workflow, whose first task waits for the expiry in Temporal's start delay.
    await platform.db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', '=', assetId)
      .execute();
    await platform.db
      .updateTable('media_assets')
      .set({ upload_expires_at: new Date(Date.now() + 20_000) })
      .where('asset_id', '=', assetId)
      .execute();
    expect(await starterWith(platform.temporal).sweep()).toBeGreaterThanOrEqual(1);
    expect(await owed.find(assetId)).toBeUndefined();
    const events = await history(assetId);
    expect(events).toHaveLength(1);
    const backoff = events[0]!.workflowExecutionStartedEventAttributes?.firstWorkflowTaskBackoff;
    const backoffSeconds = Number(backoff?.seconds ?? 0);
    expect(backoffSeconds).toBeGreaterThan(10);
    expect(backoffSeconds).toBeLessThanOrEqual(20);
  });

  it('a delete of a pending upload starts its workflow at once (signal-with-start), which deletes it', async () => {
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'unwanted.png',
      contentType: 'image/png',
      sizeBytes: 100,
    });
    const { assetId } = ticket.body;
    await eventually(
      'the start deferred',
      () => owed.find(assetId),
      (row) => row?.created_published === true,
    );
    const deleted = await request('DELETE', `${platform.baseUrl}/media/${assetId}`, { token });
    expect(deleted.status).toBe(202);
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['deleted'], 15_000);
    expect(asset.status).toBe('deleted');
  });

  it('a completion before the workflow was started starts it; the sweep starts nothing twice and still publishes the first event', async () => {
    const data = await noisyPng(32, 32);
    const receiver = await startReceiver(() => 204);
    const hook = await request<{ secret: string }>('POST', `${platform.baseUrl}/webhooks`, {
      token: await platform.token('8802'),
      body: { url: receiver.url },
    });
    receiver.secret = hook.body.secret;
    const asset = await pendingAsset('8802', data.length);
    const presigned = await platform.store.presignPut(asset.object_key, {
      contentType: 'image/png',
      expiresInSeconds: 60,
    });
    const upload = { ...presigned, method: 'PUT' as const, expiresAt: '' };
    expect(await putBytes({ assetId: asset.asset_id, status: 'pending', upload }, data)).toBe(200);
    const ownerToken = await platform.token('8802');
    const completed = await request('POST', `${platform.baseUrl}/media/${asset.asset_id}/complete`, {
      token: ownerToken,
    });
    expect(completed.status).toBe(202);
    await waitForStatus(platform.baseUrl, ownerToken, asset.asset_id, ['ready']);

    await platform.db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', '=', asset.asset_id)
      .execute();
    await starterWith(platform.temporal).sweep();
    expect(await owed.find(asset.asset_id)).toBeUndefined();
    const starts = (await history(asset.asset_id)).filter((e) => e.workflowExecutionStartedEventAttributes);
    expect(starts).toHaveLength(1);
    const created = await eventually(
      'the upload URL event at the webhook',
      async () => receiver.requests.filter((r) => r.eventId === `${asset.asset_id}/created`),
      (found) => found.length > 0,
    );
    expect(created[0]!.verified).toBe(true);
    await receiver.close();
  });

  it('Temporal unreachable: a due start fails, the row stays owed with the reason, and a later sweep starts it', async () => {
    const asset = await pendingAsset('8803', 100);
    // Due, its URL about to expire: the sweep must start it.
    await platform.db
      .updateTable('media_assets')
      .set({ upload_expires_at: new Date(Date.now() + 20_000) })
      .where('asset_id', '=', asset.asset_id)
      .execute();
    await platform.db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', '=', asset.asset_id)
      .execute();
    const away = new Client({
      connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s' }),
    });
    try {
      await starterWith(away).sweep();
      const row = await owed.find(asset.asset_id);
      expect(row?.last_error).toMatch(/could not start the asset workflow/);
      const metrics = await (await fetch(`${platform.baseUrl}/metrics`)).text();
      const owedNow = Number(/^assetline_workflow_starts_owed (\d+)$/m.exec(metrics)?.[1]);
      expect(owedNow).toBeGreaterThanOrEqual(1);
    } finally {
      await away.connection.close().catch(() => undefined);
    }
    await expect(
      platform.temporal.workflow.getHandle(assetWorkflowId(asset.asset_id)).describe(),
    ).rejects.toThrow();

    // A later sweep, this one or the API's own, starts it (the backoff is the claim test's below).
    await platform.db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', '=', asset.asset_id)
      .execute();
    await starterWith(platform.temporal).sweep();
    await eventually(
      'the start made',
      () => owed.find(asset.asset_id),
      (row) => row === undefined,
    );
    const description = await platform.temporal.workflow
      .getHandle(assetWorkflowId(asset.asset_id))
      .describe();
    expect(description.status.name).toBe('RUNNING');
  });

  it('a completion for a workflow that has finished starts no second run (REJECT_DUPLICATE) and is no error', async () => {
    const asset = await pendingAsset('8805', 100);
    const gateway = new WorkflowGateway(platform.temporal, platform.taskQueue);
    const input = lifecycleInput(asset, settings);
    await gateway.start(input);
    const handle = platform.temporal.workflow.getHandle(assetWorkflowId(asset.asset_id));
    await handle.terminate('test: a run that ended while its row still says pending');
    const ownerToken = await platform.token('8805');
    const completed = await request('POST', `${platform.baseUrl}/media/${asset.asset_id}/complete`, {
      token: ownerToken,
    });
    expect(completed.status).toBe(202);
    expect(await gateway.completeUpload(input, 'api')).toBe(false);
    const description = await handle.describe();
    expect(description.status.name).toBe('TERMINATED');
    await platform.db.deleteFrom('workflow_starts').where('asset_id', '=', asset.asset_id).execute();
  });

  it('sweeps running at once claim disjoint rows, and a claimed row waits out its backoff', async () => {
    const assets = await Promise.all(Array.from({ length: 6 }, () => pendingAsset('8804', 100)));
    const ids: string[] = assets.map((a) => a.asset_id);
    await platform.db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', 'in', ids)
      .execute();
    const [a, b] = await Promise.all([owed.claimDue(100), owed.claimDue(100)]);
    const claimed = [...a, ...b].map((r) => r.asset_id).filter((id) => ids.includes(id));
    expect(claimed.sort()).toEqual([...ids].sort());
    expect((await owed.claimDue(100)).filter((r) => ids.includes(r.asset_id))).toEqual([]);
    const row = await platform.db
      .selectFrom('workflow_starts')
      .selectAll()
      .where('asset_id', '=', ids[0]!)
      .executeTakeFirstOrThrow();
    expect(row.attempts).toBe(1);
    expect(new Date(row.due_at).getTime()).toBeGreaterThan(Date.now() + 3_000);
    await platform.db.deleteFrom('workflow_starts').where('asset_id', 'in', ids).execute();
  });
});
