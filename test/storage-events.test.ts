import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startVersitygw, type VersitygwHandle } from '../devstack';
import { request } from './helpers/http';
import { putBytes, requestUpload, sha256, waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { STORAGE_EVENTS_SECRET, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

describe('completion by S3 event notification', () => {
  let platform: TestPlatform;
  let s3: VersitygwHandle;
  let token: string;

  beforeAll(async () => {
    // versitygw posts a test event to its webhook when it starts, so the API comes up first, on the port that the
    // gateway will then be given.
    const stack = inject('stack');
    const s3Port = await freePort();
    const bucket = uniqueName('events');
    platform = await startPlatform({ s3Endpoint: `http://127.0.0.1:${s3Port}`, s3Bucket: bucket });
    s3 = await startVersitygw({
      dataDir: path.join(stack.tmpDir, uniqueName('vgw-events')),
      port: s3Port,
      accessKey: stack.s3AccessKey,
      secretKey: stack.s3SecretKey,
      buckets: [bucket],
      eventWebhookUrl: `${platform.baseUrl}/storage-events?token=${STORAGE_EVENTS_SECRET}`,
    });
    token = await platform.token('5005');
  });
  afterAll(async () => {
    await platform?.stop();
    await s3?.stop();
  });

  it('reaches ready from versitygw’s own notification, without /complete', async () => {
    const data = await noisyPng(150, 150);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'from-event.png',
      contentType: 'image/png',
      sizeBytes: data.length,
      checksumSha256: sha256(data),
    });
    expect(await putBytes(ticket.body, data)).toBe(200);
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, ['ready', 'rejected']);
    expect(asset).toMatchObject({ status: 'ready', checksumSha256: sha256(data) });
    const processing = (asset.events as { to: string; reason: string }[]).find((e) => e.to === 'processing');
    expect(processing?.reason).toBe('upload completed (reported by storage-event)');
  });
});

describe('storage event shapes, delivered by hand to a platform whose S3 sends none', () => {
  let platform: TestPlatform;
  let token: string;
  beforeAll(async () => {
    platform = await startPlatform();
    token = await platform.token('5006');
  });
  afterAll(async () => platform?.stop());

  async function uploadWithoutCompleting() {
    const data = await noisyPng(20, 20);
    const ticket = await requestUpload(platform.baseUrl, token, {
      filename: 'x.png',
      contentType: 'image/png',
      sizeBytes: data.length,
    });
    expect(await putBytes(ticket.body, data)).toBe(200);
    return { assetId: ticket.body.assetId, key: `uploads/5006/${ticket.body.assetId}`, data };
  }

  it('accepts the AWS shape (URL-encoded keys) and the MinIO shape, ignoring other events and objects', async () => {
    const url = `${platform.baseUrl}/storage-events`;
    const headers = { 'x-assetline-storage-secret': STORAGE_EVENTS_SECRET };
    const bucket = platform.store.bucket;
    const aws = await uploadWithoutCompleting();
    const minio = await uploadWithoutCompleting();

    const awsEvent = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(aws.key), size: 1 } },
        },
        { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: bucket }, object: { key: aws.key } } },
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: 'not/ours' } } },
      ],
    };
    const first = await request('POST', url, { body: awsEvent, headers });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ signalled: 1, ignored: 2 });

    const minioEvent = {
      EventName: 's3:ObjectCreated:Put',
      Key: `${bucket}/${minio.key}`,
      Records: [
        {
          eventName: 's3:ObjectCreated:Put',
          eventSource: 'minio:s3',
          s3: { bucket: { name: bucket }, object: { key: minio.key, size: 1 } },
        },
      ],
    };
    const second = await request('POST', `${url}?token=${STORAGE_EVENTS_SECRET}`, { body: minioEvent });
    expect(second.body).toEqual({ signalled: 1, ignored: 0 });

    for (const { assetId, data } of [aws, minio]) {
      const asset = await waitForStatus(platform.baseUrl, token, assetId, ['ready', 'rejected']);
      expect(asset).toMatchObject({ status: 'ready', checksumSha256: sha256(data) });
    }

    // A test event, and a repeated event for a finished asset, are acknowledged and change nothing.
    const test = await request('POST', url, {
      body: { Service: 'S3', Event: 's3:TestEvent', Bucket: bucket },
      headers,
    });
    expect(test.body).toEqual({ signalled: 0, ignored: 0 });
    const replay = await request('POST', url, { body: awsEvent, headers });
    expect(replay.body).toEqual({ signalled: 0, ignored: 3 });
  });

  it('a bad secret changes nothing', async () => {
    const pending = await uploadWithoutCompleting();
    const event = {
      Records: [
        {
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: platform.store.bucket }, object: { key: pending.key } },
        },
      ],
    };
    const res = await request('POST', `${platform.baseUrl}/storage-events?token=guess`, { body: event });
    expect(res.status).toBe(401);
    const asset = await request('GET', `${platform.baseUrl}/media/${pending.assetId}`, { token });
    expect(asset.body.status).toBe('pending');
  });
});
