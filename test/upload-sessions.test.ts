import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request } from './helpers/http';
import { sha256, waitForStatus, SETTLED } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

const MiB = 1024 * 1024;

interface Part {
  partNumber: number;
  url: string;
}
interface Session {
  assetId: string;
  status: string;
  upload: {
    method: string;
    parts?: Part[];
    url?: string;
    headers?: Record<string, string>;
    expiresAt: string;
  };
}

/** A valid WAV of white noise (16-bit stereo, 48 kHz): the pipeline processes it like any recording. */
function wav(size: number): Buffer {
  const header = Buffer.alloc(44);
  const dataBytes = size - 44;
  header.write('RIFF', 0);
  header.writeUInt32LE(size - 8, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(48_000, 24);
  header.writeUInt32LE(48_000 * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, randomBytes(dataBytes)]);
}

describe('upload sessions that outlive their URLs: renewal and idempotency keys', () => {
  let platform: TestPlatform;
  let token: string;
  let other: string;
  const data = wav(11 * MiB);
  const body = { filename: 'long.wav', contentType: 'audio/wav', sizeBytes: data.length };
  const part = (n: number) => data.subarray((n - 1) * 5 * MiB, Math.min(n * 5 * MiB, data.length));

  beforeAll(async () => {
    // URLs live 4 s; the session 60 s more, in which its client may renew them.
    platform = await startPlatform({
      uploadTtlSeconds: 4,
      uploadGraceSeconds: 60,
      multipartThresholdBytes: 5 * MiB,
    });
    token = await platform.token('9501');
    other = await platform.token('9502');
  });
  afterAll(async () => platform?.stop());

  const ask = (headers: Record<string, string> = {}, b: unknown = body, t = token) =>
    request<Session>('POST', `${platform.baseUrl}/media/upload-url`, { token: t, body: b, headers });
  const putPart = async (url: string, bytes: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body: bytes });
    await res.arrayBuffer();
    return { status: res.status, etag: res.headers.get('etag') };
  };

  it('a session whose URLs expired is renewed: fresh URLs, the stored part kept, the asset completed', async () => {
    const started = await ask();
    expect(started.status).toBe(201);
    const { assetId, upload } = started.body;
    expect(upload.method).toBe('MULTIPART');
    expect(upload.parts).toHaveLength(3);
    const first = await putPart(upload.parts![0]!.url, part(1));
    expect(first.status).toBe(200);

    // The old URLs stop working (storage checks their expiry); the asset is still pending, in its grace. The probe
    // is one byte (storage refuses a large body with an expired URL by closing the connection mid-body); a part 2
    // it stores before the expiry is replaced below.
    await eventually(
      'the first URLs to expire',
      async () => (await putPart(upload.parts![1]!.url, Buffer.from('x'))).status,
      (s) => s === 403,
      15_000,
    );
    expect((await request('GET', `${platform.baseUrl}/media/${assetId}`, { token })).body.status).toBe(
      'pending',
    );

    const renewed = await request<Session>('POST', `${platform.baseUrl}/media/${assetId}/upload/renew`, {
      token,
    });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.upload.expiresAt)).toBeGreaterThan(Date.parse(upload.expiresAt));
    const progress = await request<{ parts: { partNumber: number; etag: string }[] }>(
      'GET',
      `${platform.baseUrl}/media/${assetId}/upload`,
      { token },
    );
    // Part 1 is kept as sent (the probe may have left a byte as part 2, replaced below); part 3 is yet to come.
    expect(progress.body.parts.find((p) => p.partNumber === 1)?.etag).toBe(first.etag);
    expect(progress.body.parts.map((p) => p.partNumber)).not.toContain(3);

    const rest = await Promise.all(
      [2, 3].map(async (n) => ({
        partNumber: n,
        ...(await putPart(renewed.body.upload.parts![n - 1]!.url, part(n))),
      })),
    );
    expect(rest.map((r) => r.status)).toEqual([200, 200]);
    const parts = [
      { partNumber: 1, etag: first.etag! },
      ...rest.map((r) => ({ partNumber: r.partNumber, etag: r.etag! })),
    ];
    const done = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: { parts },
    });
    expect(done.status).toBe(202);
    // Past the first URLs' expiry and the workflow's original window, the asset is processed, bytes intact.
    const settled = await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 120_000);
    expect(settled).toMatchObject({ status: 'ready', checksumSha256: sha256(data) });

    // Nothing to renew once it is not pending.
    const late = await request('POST', `${platform.baseUrl}/media/${assetId}/upload/renew`, { token });
    expect(late.status).toBe(409);
    expect(String(late.body.detail)).toContain('asset is ready');
  });

  it('an Idempotency-Key finds the same session again; a different upload under it is refused', async () => {
    const key = `phone-7f3a-${Date.now()}`;
    const first = await ask({ 'idempotency-key': key });
    expect(first.status).toBe(201);
    const again = await ask({ 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.body.assetId).toBe(first.body.assetId);
    expect(again.body.upload.parts).toHaveLength(3);
    // Keys are the owner's: another owner's same key is another session.
    const theirs = await ask({ 'idempotency-key': key }, body, other);
    expect(theirs.status).toBe(201);
    expect(theirs.body.assetId).not.toBe(first.body.assetId);

    const different = await ask({ 'idempotency-key': key }, { ...body, sizeBytes: body.sizeBytes + 1 });
    expect(different.status).toBe(409);
    expect(String((different.body as unknown as { detail: string }).detail)).toContain('sizeBytes');

    // Many at once with a fresh key: one session.
    const racing = `race-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask({ 'idempotency-key': racing })));
    expect(new Set(answers.map((a) => a.body.assetId)).size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const rows = await platform.db
      .selectFrom('media_assets')
      .select('asset_id')
      .where('idempotency_key', '=', racing)
      .execute();
    expect(rows).toHaveLength(1);

    const bad = await ask({ 'idempotency-key': 'has a space' });
    expect(bad.status).toBe(400);
    expect(String((bad.body as unknown as { detail: string }).detail)).toContain('Idempotency-Key header');
  });

  it('refuses to renew an old session, a stranger’s, or a gone multipart upload', async () => {
    const { body: s } = await ask();
    const renew = (t = token) =>
      request('POST', `${platform.baseUrl}/media/${s.assetId}/upload/renew`, { token: t });
    expect((await renew(other)).status).toBe(404);
    await platform.db
      .updateTable('media_assets')
      .set({ created_at: new Date(Date.now() - 8 * 86_400_000) })
      .where('asset_id', '=', s.assetId)
      .execute();
    const old = await renew();
    expect(old.status).toBe(409);
    expect(String(old.body.detail)).toContain('UPLOAD_SESSION_MAX_AGE_SECONDS');

    const { body: gone } = await ask();
    const row = await platform.assets.findById(gone.assetId);
    await platform.store.abortMultipartUpload(row!.object_key, row!.multipart_upload_id!);
    const res = await request('POST', `${platform.baseUrl}/media/${gone.assetId}/upload/renew`, { token });
    expect(res.status).toBe(409);
    expect(String(res.body.detail)).toContain('no longer exists');
  });
});
