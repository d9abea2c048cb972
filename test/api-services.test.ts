import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Principal } from '../api/auth';
import { lifecycleInput } from '../api/lifecycle-input';
import { AccessControl } from '../api/services/access-control';
import { AssetCommands } from '../api/services/asset-commands';
import { ServiceError } from '../api/services/errors';
import { MetadataService } from '../api/services/metadata-service';
import { UploadService, type UploadRequest } from '../api/services/upload-service';
import { WorkflowStarter } from '../api/workflow-starter';
import { AccessRepository } from '../infra/adapters/access-repository';
import { AssetRepository } from '../infra/adapters/asset-repository';
import { WebhookEventPublisher } from '../infra/adapters/event-publisher';
import { MetadataRepository } from '../infra/adapters/metadata-repository';
import { QuotaRepository } from '../infra/adapters/quota-repository';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { WebhookRepository } from '../infra/adapters/webhook-repository';
import { WorkflowGateway } from '../infra/adapters/workflow-gateway';
import { WorkflowStartRepository } from '../infra/adapters/workflow-start-repository';
import type { Db } from '../infra/db/database';
import { createLogger } from '../infra/logger';
import type { AssetLifecycleInput } from '../workflows/definitions';
import { eventually } from './helpers/http';
import { freshDatabase, freshStore, uniqueName } from './helpers/stack';

const LIFECYCLE = { uploadTtlSeconds: 600, trashDays: 30, hotDays: 30, coldDays: 90 };
const SETTINGS = { ...LIFECYCLE, multipartThresholdBytes: 64 * 1024 ** 2, multipartPartBytes: 5 * 1024 ** 2 };
const user = (userId: string): Principal => ({ userId, groups: [], operator: false });
const png = (sizeBytes: number): UploadRequest => ({
  filename: 'a.png',
  contentType: 'image/png',
  sizeBytes,
});

/** Resolves what it was handed only when released: holds a start in flight for as long as a test needs. */
function heldStarts() {
  const started: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const gateway = {
    async start(input: AssetLifecycleInput) {
      started.push(input.assetId);
      await released;
    },
  };
  return { gateway, started, release };
}

async function refusal(promise: Promise<unknown>): Promise<ServiceError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServiceError);
  return err as ServiceError;
}

describe('the API service layer, on the real database, S3 and Temporal', () => {
  let db: Db;
  let store: S3ObjectStore;
  let temporal: Client;
  let assets: AssetRepository;
  let owed: WorkflowStartRepository;
  let gateway: WorkflowGateway;
  const logger = createLogger('test', 'silent');

  beforeAll(async () => {
    ({ db } = await freshDatabase());
    store = await freshStore();
    temporal = new Client({
      connection: await Connection.connect({ address: inject('stack').temporalAddress }),
    });
    gateway = new WorkflowGateway(temporal, uniqueName('services'));
    assets = new AssetRepository(db);
    owed = new WorkflowStartRepository(db);
  });
  afterAll(async () => {
    await temporal?.connection.close();
    await db?.destroy();
  });

  const events = () => new WebhookEventPublisher(gateway, new WebhookRepository(db));
  const uploads = (starter: WorkflowStarter, quota = { maxBytes: 10 ** 9, maxAssets: 100 }) =>
    new UploadService({
      assets,
      quotas: new QuotaRepository(db, quota),
      store,
      workflows: gateway,
      starter,
      settings: SETTINGS,
    });

  it('an upload over the quota is refused as quota-exceeded, with the limits and usage, and writes nothing', async () => {
    const starter = new WorkflowStarter(gateway, events(), owed, LIFECYCLE, logger);
    const service = uploads(starter, { maxBytes: 1000, maxAssets: 100 });
    const err = await refusal(service.create(user('301'), { ...png(1001), multipart: true }));
    expect(err.kind).toBe('quota-exceeded');
    expect(err.message).toBe('quota exceeded: 0 of 1000 bytes used, 1001 more requested');
    expect(err.details).toEqual({
      limits: { maxBytes: 1000, maxAssets: 100 },
      usage: { assets: 0, bytes: 0 },
    });
    const rows = await db
      .selectFrom('media_assets')
      .select('asset_id')
      .where('owner_id', '=', '301')
      .execute();
    expect(rows).toEqual([]);
  });

  it('an upload URL owes its workflow; once the answer is out the start waits for the URL, with nothing sent to Temporal', async () => {
    const held = heldStarts();
    const starter = new WorkflowStarter(held.gateway, events(), owed, LIFECYCLE, logger);
    const { created, startWorkflow } = await uploads(starter).create(user('302'), png(100));
    expect(created.status).toBe('pending');
    expect(created.upload).toMatchObject({ method: 'PUT' });
    expect(await owed.find(created.assetId)).toMatchObject({
      attempts: 0,
      last_error: null,
      created_published: false,
    });

    startWorkflow();
    const deferred = await eventually(
      'the first event out and the start deferred',
      () => owed.find(created.assetId),
      (row) => row?.created_published === true,
    );
    // Due 30 s before the URL expires (600 s), when Temporal's start delay takes over.
    const expiresAt = Date.parse(created.upload.expiresAt);
    expect(Math.abs(expiresAt - new Date(deferred!.due_at).getTime() - 30_000)).toBeLessThan(1000);
    expect(held.started).toEqual([]);

    // Due, with the expiry near: the sweep starts it.
    await db
      .updateTable('media_assets')
      .set({ upload_expires_at: new Date(Date.now() + 10_000) })
      .where('asset_id', '=', created.assetId)
      .execute();
    await db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', '=', created.assetId)
      .execute();
    const sweeping = starter.sweep();
    await eventually(
      'the sweep’s start',
      async () => held.started,
      (ids) => ids.includes(created.assetId),
    );
    held.release();
    await sweeping;
    expect(await owed.find(created.assetId)).toBeUndefined();
  });

  it('one starter: owed starts held by a sweep leave the request path its whole in-flight cap', async () => {
    const held = heldStarts();
    const starter = new WorkflowStarter(held.gateway, events(), owed, LIFECYCLE, logger);
    const service = uploads(starter);
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 1) ids.push((await service.create(user('303'), png(100))).created.assetId);
    // Due at once with their URLs about to expire, as if their instance had died right after answering.
    await db
      .updateTable('media_assets')
      .set({ upload_expires_at: new Date(Date.now() + 10_000) })
      .where('asset_id', 'in', ids)
      .execute();
    await db
      .updateTable('workflow_starts')
      .set({ due_at: new Date(0) })
      .where('asset_id', 'in', ids)
      .execute();
    const sweeping = starter.sweep();
    await eventually(
      'the sweep’s starts',
      async () => held.started.length,
      (n) => n === 50,
    );

    const ready = Array.from({ length: 65 }, () => pendingRow('304'));
    for (const asset of ready) await assets.createPending(asset, {}, `${asset.asset_id}/created`);
    for (const asset of ready) starter.startSoon(asset);
    // 64 are handed over at once beside the sweep's 50 held starts; the 65th is left to the next sweep. The hand-over
    // defers each start to its URL's expiry: nothing more reaches Temporal.
    const handed = async () =>
      Promise.all(ready.map(async (a) => (await owed.find(a.asset_id))?.created_published === true));
    await eventually('64 hand-overs', handed, (done) => done.filter(Boolean).length === 64);
    expect((await handed())[64]).toBe(false);
    expect(held.started).toHaveLength(50);

    held.release();
    expect(await sweeping).toBe(50);
    await db
      .deleteFrom('workflow_starts')
      .where(
        'asset_id',
        'in',
        ready.map((a) => a.asset_id),
      )
      .execute();
  });

  it('access: a stranger is told "no such asset", a reader may not write, and the handle carries no row', async () => {
    const access = new AccessControl(assets, new AccessRepository(db));
    const asset = await insertPending('305');
    await new AccessRepository(db).replace(asset.asset_id, [{ principal: 'user:306', permission: 'read' }]);

    expect((await refusal(access.require(user('307'), asset.asset_id, 'read'))).kind).toBe('not-found');
    const forbidden = await refusal(access.require(user('306'), asset.asset_id, 'write'));
    expect([forbidden.kind, forbidden.message]).toEqual([
      'forbidden',
      'you may read this asset but not write it',
    ]);

    const target = await access.require(user('305'), asset.asset_id, 'write');
    expect(target.assetId).toBe(asset.asset_id);
    // What a route holds serialises to the caller and nothing of the row (no key, bucket or status).
    expect(JSON.parse(JSON.stringify(target))).toEqual({ principal: user('305') });
  });

  it('a tag change past the limit is refused as invalid, naming the field, and changes nothing', async () => {
    const access = new AccessControl(assets, new AccessRepository(db));
    const service = new MetadataService({ metadata: new MetadataRepository(db) });
    const asset = await insertPending('308');
    const target = await access.require(user('308'), asset.asset_id, 'write');
    await service.change(target, { set: tags(0, 40), remove: [] });

    const err = await refusal(service.change(target, { set: tags(40, 11), remove: [] }));
    expect(err.kind).toBe('invalid');
    expect(err.details).toEqual({
      errors: [
        {
          field: 'set',
          message:
            'would give the asset 51 user tags (it has 40; this change adds 11); at most 50 are allowed',
        },
      ],
    });
    const stored = await db
      .selectFrom('asset_metadata')
      .select('key')
      .where('asset_id', '=', asset.asset_id)
      .execute();
    expect(stored).toHaveLength(40);
  });

  it('retry: a missing asset is not-found, one that has not failed is a conflict, and neither signals', async () => {
    const commands = new AssetCommands({ assets, events: events(), workflows: gateway, settings: LIFECYCLE });
    const operator = { userId: '1', groups: [], operator: true };
    expect((await refusal(commands.retry(operator, randomUUID()))).kind).toBe('not-found');
    const asset = await insertPending('309');
    const err = await refusal(commands.retry(operator, asset.asset_id));
    expect([err.kind, err.message]).toEqual([
      'conflict',
      'asset is pending; only failed assets can be retried',
    ]);
  });

  it('deleting a pending asset wakes (or starts) its workflow through the gateway with the row’s input', async () => {
    const access = new AccessControl(assets, new AccessRepository(db));
    const taskQueue = uniqueName('services-delete');
    const workflows = new WorkflowGateway(temporal, taskQueue);
    const commands = new AssetCommands({ assets, events: events(), workflows, settings: LIFECYCLE });
    const asset = await insertPending('310');
    const answer = await commands.delete(await access.require(user('310'), asset.asset_id, 'delete'));
    // No worker polls this queue: the row stays pending, and the workflow exists with the asset's input.
    expect(answer).toEqual({ assetId: asset.asset_id, status: 'pending' });
    const handle = temporal.workflow.getHandle(`asset-${asset.asset_id}`);
    const description = await handle.describe();
    expect([description.type, description.taskQueue]).toEqual(['assetLifecycle', taskQueue]);
    const [input] =
      (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ??
      [];
    expect(JSON.parse(Buffer.from(input!.data!).toString())).toEqual(lifecycleInput(asset, LIFECYCLE));
    await handle.terminate('test done');
  });

  function pendingRow(ownerId: string) {
    const assetId = randomUUID();
    return {
      asset_id: assetId,
      owner_id: ownerId,
      bucket: store.bucket,
      object_key: `uploads/${ownerId}/${assetId}`,
      filename: 'a.png',
      mime_type: 'image/png',
      declared_mime_type: 'image/png',
      size_bytes: '100',
      declared_checksum_sha256: null,
      checksum_sha256: null,
      status: 'pending' as const,
      status_reason: 'waiting for the upload',
      upload_expires_at: new Date(Date.now() + 600_000),
      multipart_upload_id: null,
      multipart_part_bytes: null,
      retain_until: null,
      visibility: 'private' as const,
      publish_at: null,
      unpublish_at: null,
    };
  }

  async function insertPending(ownerId: string) {
    const row = pendingRow(ownerId);
    await assets.createPending(row, {}, `${row.asset_id}/created`);
    await owed.done(row.asset_id);
    return (await assets.findById(row.asset_id))!;
  }
});

const tags = (from: number, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`tag${from + i}`, 'v']));
