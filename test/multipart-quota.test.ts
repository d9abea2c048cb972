import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256OfStream } from '../activities/hashing/hash';
import { request } from './helpers/http';
import { largePdf, noisyPng } from './helpers/generate-media';
import { putBytes, putPart, requestUpload, SETTLED, uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

interface MultipartTicket {
  assetId: string;
  upload: {
    method: 'MULTIPART';
    uploadId: string;
    partSizeBytes: number;
    parts: { partNumber: number; url: string }[];
    expiresAt: string;
  };
}

async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

describe('multipart and resumable uploads', () => {
  let platform: TestPlatform;
  let token: string;
  let dir: string;

  beforeAll(async () => {
    dir = path.join(inject('stack').tmpDir, uniqueName('multipart'));
    await fs.mkdir(dir, { recursive: true });
    platform = await startPlatform({ maxUploadBytes: 4 * 1024 ** 3 });
    token = await platform.token('4242');
  });
  afterAll(async () => platform?.stop());

  it('uploads 100 MB in parts, one part sent twice, resumes after listing parts, and reaches ready', async () => {
    const file = path.join(dir, 'big.pdf');
    const { sha256, size } = await largePdf(file, 100 * 1024 * 1024);
    const ticket = await request<MultipartTicket>('POST', `${platform.baseUrl}/media/upload-url`, {
      token,
      body: { filename: 'big.pdf', contentType: 'application/pdf', sizeBytes: size, checksumSha256: sha256 },
    });
    expect(ticket.status).toBe(201);
    const { upload, assetId } = ticket.body;
    expect(upload.method).toBe('MULTIPART');
    expect(upload.partSizeBytes).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(upload.parts).toHaveLength(Math.ceil(size / upload.partSizeBytes));

    const partBytes = (n: number) => readRange(file, (n - 1) * upload.partSizeBytes, upload.partSizeBytes);
    // The client sends all but the last part, part 2 twice (a retried request), then "crashes".
    const last = upload.parts.length;
    for (const part of upload.parts.slice(0, -1)) await putPart(part.url, await partBytes(part.partNumber));
    await putPart(upload.parts[1]!.url, await partBytes(2));

    const state = await request<{
      parts: { partNumber: number; etag: string; sizeBytes: number }[];
      missing: { partNumber: number; url: string }[];
    }>('GET', `${platform.baseUrl}/media/${assetId}/upload`, { token });
    expect(state.status).toBe(200);
    expect(state.body.parts.map((p) => p.partNumber)).toEqual(
      Array.from({ length: last - 1 }, (_, i) => i + 1),
    );
    expect(state.body.missing.map((m) => m.partNumber)).toEqual([last]);

    const lastEtag = await putPart(state.body.missing[0]!.url, await partBytes(last));
    const parts = [
      ...state.body.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })),
      { partNumber: last, etag: lastEtag },
    ];

    // A part list that does not fit the stored parts: 409 naming it, and the upload can still be completed.
    const wrong = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: { parts: parts.map((p, i) => (i === 0 ? { ...p, etag: '"0000"' } : p)) },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.detail).toContain('parts rejected by storage');
    expect((await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, { token })).status).toBe(
      409,
    );

    const done = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: { parts },
    });
    expect(done.status).toBe(202);
    const again = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: { parts },
    });
    expect(again.status).toBe(202);

    const asset = await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 120_000);
    expect(asset).toMatchObject({ status: 'ready', checksumSha256: sha256, sizeBytes: size });
    const blob = await platform.blobs.get(sha256);
    expect(await sha256OfStream(await platform.store.read(blob!.object_key))).toEqual({
      sha256,
      bytes: size,
    });
  });

  it('small files may ask for multipart; aborting removes the session and the asset', async () => {
    const data = await noisyPng(64, 64);
    const ticket = await request<MultipartTicket>('POST', `${platform.baseUrl}/media/upload-url`, {
      token,
      body: { filename: 'm.png', contentType: 'image/png', sizeBytes: data.length, multipart: true },
    });
    expect(ticket.body.upload.method).toBe('MULTIPART');
    expect(ticket.body.upload.parts).toHaveLength(1);
    await putPart(ticket.body.upload.parts[0]!.url, data);
    const { assetId, upload } = ticket.body;
    const aborted = await request('DELETE', `${platform.baseUrl}/media/${assetId}/upload`, { token });
    expect(aborted.status).toBe(202);
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['deleted']);
    expect(asset.statusReason).toBe('upload aborted by the client');
    expect(await platform.store.listParts(`uploads/4242/${assetId}`, upload.uploadId)).toBeNull();
    expect((await request('GET', `${platform.baseUrl}/media/${assetId}/upload`, { token })).status).toBe(409);
  });
});

describe('quotas', () => {
  let platform: TestPlatform;
  let token: string;
  beforeAll(async () => {
    platform = await startPlatform({ quota: { maxBytes: 50_000, maxAssets: 3 } });
    token = await platform.token('5151');
  });
  afterAll(async () => platform?.stop());

  const ask = (sizeBytes: number) =>
    requestUpload(platform.baseUrl, token, { filename: 'q.png', contentType: 'image/png', sizeBytes });

  it('refuses an upload URL over the byte quota, naming the numbers, and stores nothing', async () => {
    const res = await ask(60_000);
    expect(res.status).toBe(403);
    expect((res.body as unknown as { detail: string }).detail).toBe(
      'quota exceeded: 0 of 50000 bytes used, 60000 more requested',
    );
    const rows = await platform.db
      .selectFrom('media_assets')
      .select('asset_id')
      .where('owner_id', '=', '5151')
      .execute();
    expect(rows).toEqual([]);
  });

  it('counts pending uploads as reservations at URL time', async () => {
    const first = await ask(30_000);
    expect(first.status).toBe(201);
    const second = await ask(30_000);
    expect(second.status).toBe(403);
    expect((second.body as unknown as { detail: string }).detail).toContain('30000 of 50000 bytes used');
    await request('DELETE', `${platform.baseUrl}/media/${first.body.assetId}/upload`, { token });
    await waitForStatus(platform.baseUrl, token, first.body.assetId, ['deleted']);
  });

  it('checks again at completion with the stored size: over quota then → rejected and the bytes removed', async () => {
    const data = await noisyPng(40, 40);
    const ticket = await ask(data.length);
    expect(ticket.status).toBe(201);
    // Meanwhile the owner's quota was lowered (an operator's override).
    await platform.quotas.setLimits('5151', { maxBytes: data.length - 1 });
    expect(await putBytes(ticket.body, data)).toBe(200);
    await request('POST', `${platform.baseUrl}/media/${ticket.body.assetId}/complete`, { token });
    const asset = await waitForStatus(platform.baseUrl, token, ticket.body.assetId, SETTLED);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toBe(
      `quota exceeded: 0 of ${data.length - 1} bytes used, ${data.length} more requested (checked at completion)`,
    );
    expect(await platform.store.head(`uploads/5151/${ticket.body.assetId}`)).toBeNull();
    await platform.quotas.setLimits('5151', {});
  });

  it('refuses more assets than the count quota', async () => {
    const other = await platform.token('5252');
    for (let i = 0; i < 3; i++) {
      await uploadFile(platform.baseUrl, other, await noisyPng(8, 8), 'image/png', `n${i}.png`);
    }
    const fourth = await requestUpload(platform.baseUrl, other, {
      filename: 'x.png',
      contentType: 'image/png',
      sizeBytes: 10,
    });
    expect(fourth.status).toBe(403);
    expect((fourth.body as unknown as { detail: string }).detail).toBe('quota exceeded: 3 of 3 assets used');
  });
});
