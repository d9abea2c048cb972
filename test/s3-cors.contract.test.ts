import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { freshStore } from './helpers/stack';

const APP = 'http://app.assetline.test:8080';
const OTHER = 'http://evil.example';

/** A browser's preflight for a PUT to `url` from `origin`, as Chromium sends it. */
const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
  });

// The bucket's CORS on the real S3 server (versitygw answers OPTIONS from the bucket's configuration).
describe('S3ObjectStore.allowBrowserUploads on versitygw', () => {
  let store: S3ObjectStore;
  beforeAll(async () => {
    store = await freshStore();
    await store.allowBrowserUploads([APP]);
  });
  afterAll(() => store?.destroy());

  it('stores the rule: the bucket reports the configured origins', async () => {
    expect(await store.browserUploadOrigins()).toEqual([APP]);
  });

  it('passes the preflight of a pre-signed PUT and a part PUT for a configured origin only', async () => {
    const put = await store.presignPut('cors/one.bin', {
      contentType: 'application/octet-stream',
      expiresInSeconds: 60,
    });
    const uploadId = await store.createMultipartUpload('cors/many.bin', { contentType: 'video/mp4' });
    const part = await store.presignUploadPart('cors/many.bin', uploadId, 1, 60);
    for (const url of [put.url, part]) {
      const ok = await preflight(url, APP);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
      expect(ok.headers.get('access-control-allow-methods')).toContain('PUT');
      expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
      const refused = await preflight(url, OTHER);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
    await store.abortMultipartUpload('cors/many.bin', uploadId);
  });

  it('exposes ETag on the actual PUT, so a browser script can read it', async () => {
    const put = await store.presignPut('cors/etag.bin', {
      contentType: 'application/octet-stream',
      expiresInSeconds: 60,
    });
    const res = await fetch(put.url, {
      method: 'PUT',
      headers: { ...put.headers, origin: APP },
      body: Buffer.from('hello'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
  });

  it('removes the rule when no origin is configured any more', async () => {
    const other = await freshStore();
    await other.allowBrowserUploads([APP]);
    await other.allowBrowserUploads([]);
    expect(await other.browserUploadOrigins()).toEqual([]);
    other.destroy();
  });
});
