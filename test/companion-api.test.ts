import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './helpers/http';
import { sha256, waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { startPlatform, type TestPlatform } from './helpers/stack';

const APP = 'http://app.assetline.test:8080';
const MIB = 1024 ** 2;

/** The API's CORS and its Companion routes as @uppy/aws-s3 calls them, with Node's fetch in the browser's place. */
describe('CORS and the Companion-compatible /s3 routes', () => {
  let platform: TestPlatform;
  let token: string;
  let stranger: string;

  beforeAll(async () => {
    platform = await startPlatform({
      corsAllowedOrigins: [APP],
      maxUploadBytes: 1024 * MIB,
      quota: { maxBytes: 60 * MIB, maxAssets: 100 },
    });
    token = await platform.token('8101');
    stranger = await platform.token('8102');
  }, 60_000);
  afterAll(() => platform?.stop());

  const api = (path: string) => `${platform.baseUrl}${path}`;
  const create = (metadata: Record<string, string>, type = 'image/png', as = token) =>
    request<Record<string, string>>('POST', api('/s3/multipart'), {
      token: as,
      body: { filename: 'x.png', type, metadata: { name: 'x.png', type, ...metadata } },
    });

  it('answers a configured origin’s preflight before authentication, and refuses another origin’s', async () => {
    const preflight = (origin: string) =>
      fetch(api('/s3/multipart'), {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const ok = await preflight(APP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
    expect(ok.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const refused = await preflight('http://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toContain('http://evil.example');
  });

  it('marks actual answers for a configured origin only', async () => {
    const get = (origin: string) => request('GET', api('/media'), { token, headers: { origin } });
    const ok = await get(APP);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('vary')).toContain('Origin');
    const other = await get('http://evil.example');
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses an upload without a size, of a type not accepted, or beyond the quota, with a message Uppy shows', async () => {
    const noSize = await create({});
    expect(noSize.status).toBe(400);
    expect(noSize.headers.get('content-type')).toContain('application/problem+json');
    expect(noSize.body.message).toContain('metadata.size');
    const badType = await create({ size: '10' }, 'text/html');
    expect(badType.status).toBe(400);
    expect(badType.body.message).toContain('contentType');
    const tooBig = await create({ size: String(61 * MIB) });
    expect(tooBig.status).toBe(403);
    expect(tooBig.body.message).toMatch(/quota/i);
    const params = await request<Record<string, string>>(
      'GET',
      api('/s3/params?filename=a.png&type=image%2Fpng'),
      {
        token,
      },
    );
    expect(params.status).toBe(400);
    expect(params.body.message).toContain('metadata.size');
  });

  it('runs a multipart upload: create, sign, batch, list, complete; it is checked and processed like any other', async () => {
    const png = await noisyPng(2600, 1400);
    expect(png.length).toBeGreaterThan(5 * MIB);
    const created = await create({ size: String(png.length), sha256: sha256(png), album: 'summer' });
    expect(created.status).toBe(200);
    const { uploadId, key, assetId } = created.body as { uploadId: string; key: string; assetId: string };
    expect(key).toBe(`uploads/8101/${assetId}`);
    const q = `key=${encodeURIComponent(key)}`;
    const base = `/s3/multipart/${encodeURIComponent(uploadId)}`;

    const one = await request<{ url: string; expires: number }>('GET', api(`${base}/1?${q}`), { token });
    expect(one.status).toBe(200);
    expect(one.body.expires).toBeGreaterThan(0);
    const batch = await request<{ presignedUrls: Record<string, string> }>(
      'GET',
      api(`${base}/batch?${q}&partNumbers=1,2`),
      { token },
    );
    expect(Object.keys(batch.body.presignedUrls)).toEqual(['1', '2']);
    const chunks = [png.subarray(0, 5 * MIB), png.subarray(5 * MIB)];
    const etags: string[] = [];
    for (const [i, chunk] of chunks.entries()) {
      const put = await fetch(batch.body.presignedUrls[String(i + 1)]!, { method: 'PUT', body: chunk });
      expect(put.status).toBe(200);
      etags.push(put.headers.get('etag')!);
    }
    const listed = await request<unknown[]>('GET', api(`${base}?${q}`), { token });
    expect(listed.body).toEqual([
      { PartNumber: 1, Size: 5 * MIB, ETag: etags[0] },
      { PartNumber: 2, Size: png.length - 5 * MIB, ETag: etags[1] },
    ]);

    // Another owner learns nothing from the key, and a wrong upload id at the right key is refused alike.
    expect((await request('GET', api(`${base}?${q}`), { token: stranger })).status).toBe(404);
    expect((await request('GET', api(`/s3/multipart/other-id?${q}`), { token })).status).toBe(404);
    const badEtag = await request('POST', api(`${base}/complete?${q}`), {
      token,
      body: {
        parts: [
          { PartNumber: 1, ETag: '"0000"' },
          { PartNumber: 2, ETag: etags[1] },
        ],
      },
    });
    expect(badEtag.status).toBe(409);

    const done = await request<Record<string, string>>('POST', api(`${base}/complete?${q}`), {
      token,
      body: { parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) },
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ location: api(`/media/${assetId}`), assetId, key });
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['ready', 'rejected'], 60_000);
    expect(asset).toMatchObject({ status: 'ready', sizeBytes: png.length, checksumSha256: sha256(png) });
    expect((asset.metadata as Record<string, string>).album).toBe('summer');
  }, 90_000);

  it('rejects an upload whose bytes do not match the declared sha256, and aborts on DELETE', async () => {
    const png = await noisyPng(64, 64);
    const created = await create({ size: String(png.length), sha256: 'a'.repeat(64) });
    const { uploadId, key, assetId } = created.body as { uploadId: string; key: string; assetId: string };
    const q = `key=${encodeURIComponent(key)}`;
    const base = `/s3/multipart/${encodeURIComponent(uploadId)}`;
    const { body } = await request<{ url: string }>('GET', api(`${base}/1?${q}`), { token });
    const put = await fetch(body.url, { method: 'PUT', body: png });
    await request('POST', api(`${base}/complete?${q}`), {
      token,
      body: { parts: [{ PartNumber: 1, ETag: put.headers.get('etag') }] },
    });
    const asset = await waitForStatus(platform.baseUrl, token, assetId, ['ready', 'rejected'], 60_000);
    expect(asset.status).toBe('rejected');

    const other = await create({ size: '100' });
    const o = other.body as { uploadId: string; key: string };
    const oq = `key=${encodeURIComponent(o.key)}`;
    const aborted = await request('DELETE', api(`/s3/multipart/${o.uploadId}?${oq}`), { token });
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ status: 'deleted' });
    expect(await platform.store.listParts(o.key, o.uploadId)).toBeNull();
  }, 90_000);
});
