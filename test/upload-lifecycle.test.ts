import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256OfStream } from '../activities/hashing/hash';
import { eventually, request } from './helpers/http';
import { putBytes, requestUpload, sha256, someBytes, waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { startPlatform, type TestPlatform } from './helpers/stack';

describe('upload → verify → ready, against real Temporal, S3 and Postgres', () => {
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform({ uploadTtlSeconds: 60 });
    token = await platform.token('1001');
  });
  afterAll(async () => platform?.stop());

  it('reaches ready with the checksum of the bytes, which S3 holds unchanged', async () => {
    const data = await noisyPng(1024, 1024);
    expect(data.length).toBeGreaterThan(3 * 1024 * 1024);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'holiday.png',
      contentType: 'image/png',
      sizeBytes: data.length,
      metadata: { album: 'summer' },
    });
    expect(ticket.status).toBe(201);
    expect(ticket.body).toMatchObject({ status: 'pending', upload: { method: 'PUT' } });
    expect(new Date(ticket.body.upload.expiresAt).getTime()).toBeGreaterThan(Date.now() + 50_000);

    expect(await putBytes(ticket.body, data)).toBe(200);
    const completed = await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, {
      token,
    });
    expect(completed.status).toBe(202);

    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset).toMatchObject({
      status: 'ready',
      checksumSha256: sha256(data),
      sizeBytes: data.length,
      filename: 'holiday.png',
      metadata: { album: 'summer' },
    });
    const events = asset.events as { to: string; stage: string | null }[];
    expect(events.map((e) => e.to).slice(0, 2)).toEqual(['pending', 'processing']);
    expect(events.at(-1)?.to).toBe('ready');
    expect(events.map((e) => e.stage)).toEqual(
      expect.arrayContaining(['verify', 'dedup', 'scan', 'metadata']),
    );

    const row = await platform.db
      .selectFrom('media_assets')
      .selectAll()
      .where('asset_id', '=', ticket.body.assetId)
      .executeTakeFirstOrThrow();
    expect(row.checksum_sha256).toBe(sha256(data));
    // The upload moved to its content address; the bytes there are the bytes sent.
    expect(await platform.store.head(row.object_key)).toBeNull();
    const blob = await platform.blobs.get(sha256(data));
    expect(blob).toMatchObject({
      object_key: `blobs/${sha256(data).slice(0, 2)}/${sha256(data).slice(2, 4)}/${sha256(data)}`,
    });
    const stored = await sha256OfStream(await platform.store.read(blob!.object_key));
    expect(stored).toEqual({ sha256: sha256(data), bytes: data.length });

    // Completing again changes nothing and is not an error.
    const again = await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, {
      token,
    });
    expect(again.status).toBe(202);
    expect(again.body.status).toBe('ready');
  });

  it('upserts AssetStatus and OwnerId so operators can filter runs; media activities carry the family as fairness key', async () => {
    const data = await noisyPng(16, 16);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'a.png',
      contentType: 'image/png',
      sizeBytes: data.length,
    });
    await putBytes(ticket.body, data);
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready']);
    // The row is written by an activity and the search attribute upserted by the workflow task after it.
    const attributes = await eventually(
      'the search attributes to say ready',
      async () => {
        const description = await platform.temporal.workflow
          .getHandle(`asset-${ticket.body.assetId}`)
          .describe();
        return Object.fromEntries(
          description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]),
        );
      },
      (attrs) => attrs.AssetStatus === 'ready',
    );
    expect(attributes).toMatchObject({ AssetStatus: 'ready', OwnerId: 1001, MimeType: 'image/png' });

    // Media activities carry the asset's family as their fairness key on the media queue. An image's renditions
    // are checked by the workflow itself: no validation task.
    const history = await platform.temporal.workflow.getHandle(`asset-${ticket.body.assetId}`).fetchHistory();
    const media = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.taskQueue?.name?.endsWith('-media'));
    expect(media.map((a) => a!.activityType?.name)).toEqual(['extractMetadata', 'renderRenditions']);
    expect(media.map((a) => a!.priority?.fairnessKey)).toEqual(['image', 'image']);
  });

  it('rejects a declared checksum that does not match, and deletes the object', async () => {
    const data = someBytes(4096);
    const wrong = sha256(Buffer.from('something else'));
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'x.pdf',
      contentType: 'application/pdf',
      sizeBytes: data.length,
      checksumSha256: wrong,
    });
    await putBytes(ticket.body, data);
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toContain('SHA-256 mismatch');
    expect(asset.statusReason).toContain(sha256(data));
    expect(asset.checksumSha256).toBeNull();
    const key = `uploads/1001/${ticket.body.assetId}`;
    expect(await platform.store.head(key)).toBeNull();
  });

  it('checks the stored bytes against a checksum given at completion; refuses one that contradicts the declared', async () => {
    const data = someBytes(4096);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'late.pdf',
      contentType: 'application/pdf',
      sizeBytes: data.length,
    });
    await putBytes(ticket.body, data);
    // The client hashed other bytes than those stored (the file changed while it was sent).
    const completed = await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, {
      token,
      body: { checksumSha256: sha256(Buffer.from('what the client read')) },
    });
    expect(completed.status).toBe(202);
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toContain('SHA-256 mismatch');

    const png = await noisyPng(20, 20);
    const declared = await requestUpload(platform.baseUrl, token, {
      filename: 'declared.png',
      contentType: 'image/png',
      sizeBytes: png.length,
      checksumSha256: sha256(png),
    });
    await putBytes(declared.body, png);
    const contradicting = await request(
      'POST',
      `${platform.baseUrl}/media/${declared.body.assetId}/complete`,
      {
        token,
        body: { checksumSha256: sha256(Buffer.from('other')) },
      },
    );
    expect(contradicting.status).toBe(409);
    expect(contradicting.body.detail).toContain('declared when the upload began');
    const malformed = await request('POST', `${platform.baseUrl}/media/${declared.body.assetId}/complete`, {
      token,
      body: { checksumSha256: 'abc' },
    });
    expect(malformed.status).toBe(400);
    const agreeing = await request('POST', `${platform.baseUrl}/media/${declared.body.assetId}/complete`, {
      token,
      body: { checksumSha256: sha256(png).toUpperCase() },
    });
    expect(agreeing.status).toBe(202);
    expect(
      await waitForStatus(platform.baseUrl, token, declared.body.assetId, ['ready', 'rejected']),
    ).toMatchObject({ status: 'ready', checksumSha256: sha256(png) });
  });

  it('accepts a correct declared checksum in upper case', async () => {
    const data = await noisyPng(20, 20);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'ok.png',
      contentType: 'image/png',
      sizeBytes: data.length,
      checksumSha256: sha256(data).toUpperCase(),
    });
    await putBytes(ticket.body, data);
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset).toMatchObject({ status: 'ready', checksumSha256: sha256(data) });
  });

  it('rejects an upload whose size differs from the declared size', async () => {
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'clip.mp4',
      contentType: 'video/mp4',
      sizeBytes: 1024,
    });
    await putBytes(ticket.body, someBytes(4096));
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toBe('uploaded size 4096 bytes differs from declared size 1024 bytes');
    expect(await platform.store.head(`uploads/1001/${ticket.body.assetId}`)).toBeNull();
  });

  it('rejects a completion for which nothing was uploaded', async () => {
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'nothing.mp3',
      contentType: 'audio/mpeg',
      sizeBytes: 10,
    });
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset).toMatchObject({
      status: 'rejected',
      statusReason: 'no object was uploaded at the pre-signed URL',
    });
  });

  it('shows a pending asset awaiting its upload', async () => {
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'later.gif',
      contentType: 'image/gif',
      sizeBytes: 10,
    });
    const res = await request('GET', `${platform.baseUrl}/media/${ticket.body.assetId}`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'pending', stage: { name: 'awaiting-upload' } });
  });
});

describe('an upload that is never completed', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ uploadTtlSeconds: 3 });
  });
  afterAll(async () => platform?.stop());

  it('expires after the TTL and leaves no object behind', async () => {
    const token = await platform.token('2002');
    const data = someBytes(5000);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'forgotten.jpg',
      contentType: 'image/jpeg',
      sizeBytes: data.length,
    });
    // The client uploads but never calls /complete: the bytes must not outlive the session.
    expect(await putBytes(ticket.body, data)).toBe(200);
    const key = `uploads/2002/${ticket.body.assetId}`;
    expect(await platform.store.head(key)).not.toBeNull();

    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['expired'], 20_000);
    expect(asset.statusReason).toBe('upload not completed within 3 s');
    expect(await platform.store.head(key)).toBeNull();
    expect(await platform.store.list(`uploads/2002/`)).toEqual([]);

    const late = await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, {
      token,
    });
    expect(late.status).toBe(202);
    expect(late.body.status).toBe('expired');
  });

  it('a workflow whose asset row never stayed (its upload-url request failed late) expires without retrying', async () => {
    // Runs started before the outbox existed could outlive their row (the API removed it when a start timed out at
    // the client, though Temporal had accepted it): such a run must end on its own, not retry its first transition.
    const assetId = randomUUID();
    const handle = await platform.temporal.workflow.start('assetLifecycle', {
      taskQueue: platform.taskQueue,
      workflowId: `asset-${assetId}`,
      args: [
        {
          assetId,
          declaredContentType: 'image/png',
          ownerId: '2003',
          bucket: platform.store.bucket,
          objectKey: `uploads/2003/${assetId}`,
          declaredSizeBytes: 100,
          declaredChecksumSha256: null,
          uploadTtlSeconds: 1,
          trashSeconds: 60,
          retainUntil: null,
        },
      ],
    });
    expect(await handle.result()).toMatchObject({ status: 'expired' });
    const events = await platform.db
      .selectFrom('asset_events')
      .selectAll()
      .where('asset_id', '=', assetId)
      .execute();
    expect(events).toEqual([]);
  });
});
