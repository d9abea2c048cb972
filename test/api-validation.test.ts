import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { request } from './helpers/http';
import { requestUpload } from './helpers/media';
import { JWT_SECRET, startPlatform, type TestPlatform } from './helpers/stack';

const valid = { filename: 'a.jpg', contentType: 'image/jpeg', sizeBytes: 100 };

describe('API input and access checks', () => {
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    platform = await startPlatform({ maxUploadBytes: 1_000_000, worker: false });
    token = await platform.token('3003');
  });
  afterAll(async () => platform?.stop());

  it('answers /healthz without a token and /readyz after checking every dependency', async () => {
    expect((await request('GET', `${platform.baseUrl}/healthz`)).status).toBe(200);
    const ready = await request('GET', `${platform.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', objectStore: 'ok', temporal: 'ok' },
    });
  });

  it('401 without a token, with a forged one, an expired one, alg none, or a non-numeric sub', async () => {
    const url = `${platform.baseUrl}/media/upload-url`;
    const none = await request('POST', url, { body: valid });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body.detail).toContain('Authorization');

    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('3003')
      .sign(new TextEncoder().encode('a-different-secret-of-enough-length-000'));
    expect((await request('POST', url, { token: forged, body: valid })).status).toBe(401);

    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('3003')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const expiredRes = await request('POST', url, { token: expired, body: valid });
    expect(expiredRes.status).toBe(401);
    expect(expiredRes.body.detail).toBe('token has expired');

    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: '3003' })).toString('base64url');
    expect((await request('POST', url, { token: `${header}.${payload}.`, body: valid })).status).toBe(401);

    const badSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const badSubRes = await request('POST', url, { token: badSub, body: valid });
    expect(badSubRes.status).toBe(401);
    expect(badSubRes.body.detail).toContain('sub');
  });

  it('a token remembered as verified is refused once it expires', async () => {
    const expSeconds = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('3003')
      .setExpirationTime(expSeconds)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const media = `${platform.baseUrl}/media?limit=1`;
    expect((await request('GET', media, { token: shortLived })).status).toBe(200);
    expect((await request('GET', media, { token: shortLived })).status).toBe(200);
    await new Promise((r) => setTimeout(r, expSeconds * 1000 - Date.now() + 50));
    const late = await request('GET', media, { token: shortLived });
    expect(late.status).toBe(401);
    expect(late.body.detail).toBe('token has expired');
  });

  it.each([
    [{ ...valid, sizeBytes: -5 }, 'sizeBytes must be at least 1 byte'],
    [{ ...valid, sizeBytes: 0 }, 'sizeBytes must be at least 1 byte'],
    [{ ...valid, sizeBytes: 1.5 }, 'sizeBytes must be a whole number'],
    [{ ...valid, sizeBytes: 1_000_001 }, 'sizeBytes must be at most MAX_UPLOAD_BYTES (1000000)'],
    [{ filename: 'a.jpg', contentType: 'image/jpeg' }, 'sizeBytes is required'],
    [{ contentType: 'image/jpeg', sizeBytes: 5 }, 'filename is required'],
    [{ ...valid, contentType: 'application/x-msdownload' }, 'contentType is not an allowed type'],
    [{ ...valid, contentType: 'image/svg+xml' }, 'contentType is not an allowed type'],
    // Exactly one of the document's enum: no case or parameters to undo.
    [{ ...valid, contentType: 'Image/JPEG; charset=binary' }, 'contentType is not an allowed type'],
    [{ ...valid, expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt must be in the future'],
    [{ ...valid, metadata: { k: 'nul\u0000' } }, 'metadata values must not contain NUL characters'],
    [{ ...valid, filename: '../../etc/passwd' }, 'filename must not contain path separators'],
    [
      { ...valid, filename: 'evil\u202Egpj.exe' },
      'filename must not contain path separators, control or bidi',
    ],
    [{ ...valid, filename: 'nul\u0000.jpg' }, 'filename must not contain'],
    [{ ...valid, filename: 'x'.repeat(300) }, 'filename must be at most 255 bytes'],
    [{ ...valid, checksumSha256: 'abc' }, 'checksumSha256 must be 64 hexadecimal characters'],
    [
      { ...valid, metadata: { ['k'.repeat(65)]: 'v' } },
      'is not a valid key: metadata keys are 1-64 characters',
    ],
    [{ ...valid, extra: 1 }, 'unknown field(s): extra'],
  ])('400 naming the field for %j', async (body, message) => {
    const res = await requestUpload(platform.baseUrl, token, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((res.body as unknown as { detail: string }).detail).toContain(message);
  });

  it('400 for a body that is not JSON, 413 for one over the limit, and nothing is stored', async () => {
    const url = `${platform.baseUrl}/media/upload-url`;
    const broken = await request('POST', url, { token, rawBody: '{"filename": ' });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toContain('not valid JSON');
    const huge = await request('POST', url, {
      token,
      rawBody: JSON.stringify({ ...valid, metadata: { big: 'x'.repeat(200_000) } }),
    });
    expect(huge.status).toBe(413);
    const rows = await platform.db.selectFrom('media_assets').select('asset_id').execute();
    expect(rows).toEqual([]);
  });

  it('400 for a malformed asset id, 404 for another owner’s asset and for a missing one', async () => {
    const malformed = await request('GET', `${platform.baseUrl}/media/not-a-uuid`, { token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.detail).toContain('not a UUID');

    const mine = await requestUpload(platform.baseUrl, token, valid);
    expect(mine.status).toBe(201);
    const other = await platform.token('4004');
    const theirs = await request('GET', `${platform.baseUrl}/media/${mine.body.assetId}`, { token: other });
    const missing = await request('GET', `${platform.baseUrl}/media/${crypto.randomUUID()}`, {
      token: other,
    });
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.body.detail).toBe(missing.body.detail);
    const complete = await request('POST', `${platform.baseUrl}/media/${mine.body.assetId}/complete`, {
      token: other,
    });
    expect(complete.status).toBe(404);
    const own = await request('GET', `${platform.baseUrl}/media/${mine.body.assetId}`, { token });
    expect(own.status).toBe(200);
    expect(own.body.status).toBe('pending');
  });

  it('guards /storage-events with the shared secret', async () => {
    const event = { Records: [] };
    const url = `${platform.baseUrl}/storage-events`;
    expect((await request('POST', url, { body: event })).status).toBe(401);
    expect((await request('POST', `${url}?token=wrong`, { body: event })).status).toBe(401);
    const ok = await request('POST', url, {
      body: event,
      headers: { 'x-assetline-storage-secret': 'storage-events-test-secret' },
    });
    expect(ok.status).toBe(200);
  });

  it('exposes Prometheus metrics labelled by route pattern, never by id', async () => {
    await request('GET', `${platform.baseUrl}/media/${crypto.randomUUID()}`, { token });
    const res = await fetch(`${platform.baseUrl}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(
      /assetline_http_request_duration_seconds_count\{method="GET",route="\/media\/:id",status="404"\} \d+/,
    );
    expect(text).not.toMatch(/route="\/media\/[0-9a-f]{8}-/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown routes with a problem document', async () => {
    const res = await request('GET', `${platform.baseUrl}/nope`, { token });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});
