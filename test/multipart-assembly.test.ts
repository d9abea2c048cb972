import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { verifyUploadActivity } from '../activities/verify-upload';
import { MIN_PART_BYTES, partsMisfit } from '../domain/multipart-parts';
import { request } from './helpers/http';
import { putPart } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

interface MultipartTicket {
  assetId: string;
  upload: { uploadId: string; partSizeBytes: number; parts: { partNumber: number; url: string }[] };
}

describe('partsMisfit: the checks S3 makes, made before the answer', () => {
  const stored = [
    { partNumber: 1, etag: '"aa"', sizeBytes: MIN_PART_BYTES },
    { partNumber: 2, etag: '"bb"', sizeBytes: 10 },
  ];
  it('accepts the stored parts, quotes and case aside', () => {
    expect(
      partsMisfit(
        [
          { partNumber: 1, etag: 'AA' },
          { partNumber: 2, etag: '"bb"' },
        ],
        stored,
      ),
    ).toBeNull();
  });
  it('names a part not stored, a wrong ETag, a short part before the last, an empty list', () => {
    expect(partsMisfit([{ partNumber: 3, etag: '"cc"' }], stored)).toBe('InvalidPart: part 3 is not stored');
    expect(partsMisfit([{ partNumber: 1, etag: '"ab"' }], stored)).toContain('InvalidPart: part 1 has ETag');
    expect(
      partsMisfit(
        [
          { partNumber: 2, etag: '"bb"' },
          { partNumber: 3, etag: '"cc"' },
        ],
        [...stored, { partNumber: 3, etag: '"cc"', sizeBytes: 1 }],
      ),
    ).toContain('EntityTooSmall: part 2 holds 10 bytes');
    expect(partsMisfit([], stored)).toBe('parts lists no part');
  });
});

/**
 * POST /media/{id}/complete answers once the parts are checked; the storage's join of the object is the workflow's
 * (the verify activity's) work. With no worker running, nothing can join the parts behind the test's back.
 */
describe('multipart completion: checked by the API, assembled by the workflow', () => {
  let platform: TestPlatform;
  let token: string;
  const env = new MockActivityEnvironment();

  beforeAll(async () => {
    platform = await startPlatform({ worker: false });
    token = await platform.token('5150');
  });
  afterAll(async () => platform?.stop());

  it('refuses a short part with 409, answers 202 before the join, and the activity joins once, retries included', async () => {
    const data = randomBytes(MIN_PART_BYTES + 4096);
    const ticket = await request<MultipartTicket>('POST', `${platform.baseUrl}/media/upload-url`, {
      token,
      body: {
        filename: 'two-parts.bin',
        contentType: 'application/pdf',
        sizeBytes: data.length,
        multipart: true,
      },
    });
    expect(ticket.status).toBe(201);
    const { assetId, upload } = ticket.body;
    expect(upload.parts).toHaveLength(2);
    const objectKey = `uploads/5150/${assetId}`;
    const [first, second] = [data.subarray(0, upload.partSizeBytes), data.subarray(upload.partSizeBytes)];

    // Part 1 cut short: S3 would refuse to join it, and the client hears so now, while it can still fix it.
    const shortEtag = await putPart(upload.parts[0]!.url, first.subarray(0, 1024));
    const secondEtag = await putPart(upload.parts[1]!.url, second);
    const short = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: {
        parts: [
          { partNumber: 1, etag: shortEtag },
          { partNumber: 2, etag: secondEtag },
        ],
      },
    });
    expect(short.status).toBe(409);
    expect(short.body.detail).toContain('EntityTooSmall: part 1 holds 1024 bytes');

    const firstEtag = await putPart(upload.parts[0]!.url, first);
    const parts = [
      { partNumber: 1, etag: firstEtag },
      { partNumber: 2, etag: secondEtag },
    ];
    const done = await request('POST', `${platform.baseUrl}/media/${assetId}/complete`, {
      token,
      body: { parts },
    });
    expect(done.status).toBe(202);
    // Answered, not joined: the parts are still parts and there is no object yet.
    expect(await platform.store.head(objectKey)).toBeNull();
    expect((await platform.store.listParts(objectKey, upload.uploadId))?.map((p) => p.partNumber)).toEqual([
      1, 2,
    ]);

    const verify = verifyUploadActivity({ store: platform.store });
    const input = {
      objectKey,
      declaredSizeBytes: data.length,
      declaredChecksumSha256: createHash('sha256').update(data).digest('hex'),
      assemble: { uploadId: upload.uploadId, parts },
    };
    const sha256 = input.declaredChecksumSha256;
    expect(await env.run(verify, input)).toEqual({ ok: true, sizeBytes: data.length, sha256 });
    expect(await platform.store.listParts(objectKey, upload.uploadId)).toBeNull();
    // A retried attempt (the worker died after the join) finds the object whole and verifies it again.
    expect(await env.run(verify, input)).toEqual({ ok: true, sizeBytes: data.length, sha256 });
  });

  it("a part list S3 refuses at the join rejects the asset with S3's reason", async () => {
    const data = randomBytes(MIN_PART_BYTES + 10);
    const ticket = await request<MultipartTicket>('POST', `${platform.baseUrl}/media/upload-url`, {
      token,
      body: {
        filename: 'refused.bin',
        contentType: 'application/pdf',
        sizeBytes: data.length,
        multipart: true,
      },
    });
    const { assetId, upload } = ticket.body;
    const objectKey = `uploads/5150/${assetId}`;
    await putPart(upload.parts[0]!.url, data.subarray(0, upload.partSizeBytes));
    const secondEtag = await putPart(upload.parts[1]!.url, data.subarray(upload.partSizeBytes));
    // The parts changed after the API checked them (another client, a stale list): the join names the misfit.
    const result = await env.run(verifyUploadActivity({ store: platform.store }), {
      objectKey,
      declaredSizeBytes: data.length,
      declaredChecksumSha256: null,
      assemble: {
        uploadId: upload.uploadId,
        parts: [
          { partNumber: 1, etag: '"00000000000000000000000000000000"' },
          { partNumber: 2, etag: secondEtag },
        ],
      },
    });
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('InvalidPart') });
    expect(await platform.store.head(objectKey)).toBeNull();
  });
});
