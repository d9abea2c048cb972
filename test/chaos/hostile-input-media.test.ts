import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { expect } from 'vitest';
import { EICAR_TEST_FILE } from '../../devstack';
import { clip, noisyPng, onePagePdf, pngBomb } from '../helpers/generate-media';
import { request } from '../helpers/http';
import { putBytes, requestUpload, sha256, type UploadTicket } from '../helpers/media';
import { STORAGE_EVENTS_SECRET } from '../helpers/stack';
import {
  describeHostile,
  expectBadRequest,
  OWNER,
  settle,
  upload,
  uploadKey,
  type HostileCase,
  type HostileContext,
  type SettledAsset,
} from './hostile-input-table';
import { scaled } from './scale';

/**
 * Hostile bytes through the whole pipeline, with a real clamd: corrupt, spoofed, infected, bombs, the wrong size or
 * checksum, forged and expired upload URLs, forged storage events. Each row: the asset's end state and reason, and
 * what is left in S3.
 */

// Long enough for the oversize PUT to finish inside it; the expiring rows wait for it.
const UPLOAD_TTL_SECONDS = scaled(15, 45);
const OVERSIZE_BYTES = scaled(64 * 1024 ** 2, 1024 ** 3);

/** Issued before the canary, so that their URLs have expired when the last row uses them. */
let early: { expired: UploadTicket; forged: UploadTicket };

/** Refused by the pipeline: the reason names the problem, and neither the upload nor a blob is left. */
async function expectRejected(
  ctx: HostileContext,
  data: Buffer,
  contentType: string,
  reason: string,
  filename?: string,
) {
  const asset = await upload(ctx, data, contentType, filename);
  expect(asset.status).toBe('rejected');
  expect(asset.statusReason).toContain(reason);
  expect(await ctx.platform.store.list(uploadKey(asset.assetId))).toEqual([]);
  expect(await ctx.platform.blobs.get(sha256(data))).toBeUndefined();
  return asset;
}

const rejected = (asset: SettledAsset) => `rejected: ${asset.statusReason}`;

/** Unreadable media: failed at a stage, the reason naming the tool's complaint; kept for an operator's retry. */
async function expectFailed(
  ctx: HostileContext,
  data: Buffer,
  contentType: string,
  stage: string,
  complaint: string,
) {
  const asset = await upload(ctx, data, contentType);
  ctx.holding.push(asset.assetId);
  expect(asset).toMatchObject({ status: 'failed', failedStage: stage });
  expect(asset.statusReason).toMatch(new RegExp(`^${stage} failed: `));
  expect(asset.statusReason).toContain(complaint);
  return `failed at ${stage}: …${complaint}…`;
}

async function mp4Clip(ctx: HostileContext): Promise<Buffer> {
  const file = path.join(ctx.dir, `${randomUUID()}.mp4`);
  await clip(file, { width: 160, height: 120, seconds: 1 });
  return fs.readFile(file);
}

const firstHalf = (data: Buffer) => data.subarray(0, data.length >> 1);

/** One entry of `bytes` zeros, deflated (~1,000:1). Nothing here extracts it, so any size costs the same. */
async function zipBomb(bytes: number): Promise<Buffer> {
  const zeros = Buffer.alloc(1024 ** 2);
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(deflate, 'end');
  let crc = 0;
  for (let left = bytes; left > 0; left -= zeros.length) {
    deflate.write(zeros);
    crc = crc32(zeros, crc);
  }
  deflate.end();
  await ended;
  const data = Buffer.concat(chunks);
  const name = Buffer.from('zeros.bin');
  // Local and central headers share these fields; offsets, extra fields and comments stay 0.
  const header = (signature: number, central: boolean) => {
    const b = Buffer.alloc(central ? 46 : 30);
    let o = b.writeUInt32LE(signature, 0);
    if (central) o = b.writeUInt16LE(20, o); // version made by
    o = b.writeUInt16LE(20, o); // version needed
    o = b.writeUInt16LE(0, o); // flags
    o = b.writeUInt16LE(8, o); // deflate
    o = b.writeUInt32LE(0, o); // time and date
    o = b.writeUInt32LE(crc, o);
    o = b.writeUInt32LE(data.length, o);
    o = b.writeUInt32LE(bytes, o);
    b.writeUInt16LE(name.length, o);
    return b;
  };
  const local = Buffer.concat([header(0x04034b50, false), name, data]);
  const central = Buffer.concat([header(0x02014b50, true), name]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(local.length, 16);
  return Buffer.concat([local, central, end]);
}

/** PUTs `bytes` bytes with an honest Content-Length, generated as they are sent (never held in memory). */
async function putGenerated(ticket: UploadTicket, bytes: number): Promise<number> {
  const block = randomBytes(1024 ** 2);
  async function* body() {
    for (let sent = 0; sent < bytes; sent += block.length) {
      yield block.subarray(0, Math.min(block.length, bytes - sent));
    }
  }
  const req = http.request(ticket.upload.url, {
    method: 'PUT',
    headers: { ...ticket.upload.headers, 'Content-Length': String(bytes) },
  });
  const answered = once(req, 'response') as Promise<[http.IncomingMessage]>;
  await pipeline(Readable.from(body()), req);
  const [res] = await answered;
  res.resume();
  return res.statusCode ?? 0;
}

/** A PUT straight to S3: its status, error code and message. */
async function s3Put(url: string, headers: Record<string, string>, data: Buffer) {
  const res = await fetch(url, { method: 'PUT', headers, body: data });
  const text = await res.text();
  const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(text)?.[1] ?? '';
  return { status: res.status, code: field('Code'), message: field('Message') };
}

async function expectExpired(ctx: HostileContext, assetId: string) {
  const asset = await settle(ctx, assetId);
  expect(asset).toMatchObject({
    status: 'expired',
    statusReason: `upload not completed within ${UPLOAD_TTL_SECONDS} s`,
  });
  expect(await ctx.platform.store.list(uploadKey(assetId))).toEqual([]);
  return asset;
}

async function completeWith(ctx: HostileContext, ticket: UploadTicket) {
  await request('POST', `${ctx.platform.baseUrl}/media/${ticket.assetId}/complete`, { token: ctx.token });
  return settle(ctx, ticket.assetId);
}

export const HOSTILE_MEDIA: HostileCase[] = [
  // First, while its URL is still valid: S3 must refuse it for the signature, not for the time.
  {
    input: 'upload URL with a tampered signature, another object key, or another Content-Type',
    expected:
      'S3 403 SignatureDoesNotMatch each; nothing stored; the asset stays pending (expired: last row)',
    run: async (ctx) => {
      const ticket = early.forged;
      const url = new URL(ticket.upload.url);
      const signature = url.searchParams.get('X-Amz-Signature')!;
      const tampered = new URL(url);
      tampered.searchParams.set(
        'X-Amz-Signature',
        `${signature.slice(0, -1)}${signature.endsWith('0') ? 1 : 0}`,
      );
      const otherKey = new URL(url);
      otherKey.pathname = otherKey.pathname.replace(ticket.assetId, randomUUID());
      const data = await noisyPng(8, 8);
      const answers = [
        await s3Put(tampered.toString(), ticket.upload.headers, data),
        await s3Put(otherKey.toString(), ticket.upload.headers, data),
        await s3Put(url.toString(), { 'Content-Type': 'text/html' }, data),
      ];
      expect(answers.map((a) => [a.status, a.code])).toEqual(Array(3).fill([403, 'SignatureDoesNotMatch']));
      expect(await ctx.platform.store.list(`uploads/${OWNER}/`)).toEqual([]);
      const asset = await request('GET', `${ctx.platform.baseUrl}/media/${ticket.assetId}`, {
        token: ctx.token,
      });
      expect(asset.body).toMatchObject({ status: 'pending', stage: { name: 'awaiting-upload' } });
      return 'S3 3 × 403 SignatureDoesNotMatch; nothing stored; still pending';
    },
  },
  {
    input: 'truncated PNG (first half), declared image/png',
    expected: 'failed at renditions (the header reads, the pixels do not), reason names libpng’s error',
    run: async (ctx) =>
      expectFailed(ctx, firstHalf(await noisyPng(64, 64)), 'image/png', 'renditions', 'libpng read error'),
  },
  {
    input: 'truncated MP4 (first half: no moov box), declared video/mp4',
    expected: 'failed at metadata, reason names ffprobe’s error',
    run: async (ctx) =>
      expectFailed(ctx, firstHalf(await mp4Clip(ctx)), 'video/mp4', 'metadata', 'moov atom not found'),
  },
  {
    input: 'truncated PDF (first half), declared application/pdf',
    expected: 'failed at metadata, reason names pdfinfo’s error',
    run: (ctx) =>
      expectFailed(ctx, firstHalf(onePagePdf()), 'application/pdf', 'metadata', 'PDF could not be read'),
  },
  {
    input: 'corrupt JPEG (JPEG magic, then random bytes)',
    expected: 'failed at metadata, reason names the decoder’s error',
    run: (ctx) =>
      expectFailed(
        ctx,
        Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(4096)]),
        'image/jpeg',
        'metadata',
        'image could not be decoded',
      ),
  },
  {
    input: 'corrupt MP4 (a real ftyp box, then random bytes)',
    expected: 'failed at metadata, reason names ffprobe’s error',
    run: async (ctx) => {
      const data = Buffer.concat([(await mp4Clip(ctx)).subarray(0, 32), randomBytes(8192)]);
      return expectFailed(ctx, data, 'video/mp4', 'metadata', 'ffprobe cannot read the file');
    },
  },
  {
    input: 'corrupt PDF (%PDF-1.4, then random bytes)',
    expected: 'failed at metadata, reason names pdfinfo’s error',
    run: (ctx) =>
      expectFailed(
        ctx,
        Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(4096)]),
        'application/pdf',
        'metadata',
        'PDF could not be read',
      ),
  },
  {
    input: 'zero-byte upload (sizeBytes 0)',
    expected: '400 problem+json naming sizeBytes; no asset',
    run: (ctx) => expectBadRequest(ctx, { sizeBytes: 0 }, 'sizeBytes must be at least 1 byte'),
  },
  {
    input: 'empty PUT for a declared 1 KB image',
    expected: 'rejected at verify: size 0 differs from 1024; nothing kept',
    run: async (ctx) => {
      const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
        filename: 'empty.png',
        contentType: 'image/png',
        sizeBytes: 1024,
      });
      expect(await putBytes(ticket.body, Buffer.alloc(0))).toBe(200);
      const asset = await completeWith(ctx, ticket.body);
      expect(asset).toMatchObject({
        status: 'rejected',
        statusReason: 'uploaded size 0 bytes differs from declared size 1024 bytes',
      });
      expect(await ctx.platform.store.list(uploadKey(asset.assetId))).toEqual([]);
      return rejected(asset);
    },
  },
  {
    input: 'ELF executable named evil.jpg, declared image/jpeg',
    expected: 'rejected at sniff: detected application/x-elf; nothing kept',
    run: async (ctx) =>
      rejected(
        await expectRejected(
          ctx,
          Buffer.concat([Buffer.from('7f454c46020101', 'hex'), randomBytes(200)]),
          'image/jpeg',
          'detected application/x-elf',
          'evil.jpg',
        ),
      ),
  },
  {
    input: 'valid PNG declared video/mp4',
    expected: 'rejected at sniff: detected image/png but video/mp4 declared',
    run: async (ctx) =>
      rejected(
        await expectRejected(
          ctx,
          await noisyPng(8, 8),
          'video/mp4',
          'detected image/png (image) but video/mp4 (video) was declared',
        ),
      ),
  },
  {
    input: 'bare EICAR test file named eicar.png',
    expected: 'rejected at sniff (not media: never reaches the scanner); nothing kept',
    run: async (ctx) =>
      rejected(
        await expectRejected(
          ctx,
          Buffer.from(EICAR_TEST_FILE, 'latin1'),
          'image/png',
          'could not be recognised',
          'eicar.png',
        ),
      ),
  },
  {
    input: 'valid PNG with EICAR appended',
    expected: 'quarantined, reason names the signature; bytes only under quarantine/, no renditions',
    run: async (ctx) => {
      const data = Buffer.concat([await noisyPng(8, 8), Buffer.from(EICAR_TEST_FILE, 'latin1')]);
      const asset = await upload(ctx, data, 'image/png', 'innocent.png');
      ctx.holding.push(asset.assetId);
      expect(asset).toMatchObject({ status: 'quarantined', scan: { status: 'infected' }, renditions: [] });
      expect(asset.statusReason).toContain('Eicar-Test-Signature');
      const sha = sha256(data);
      expect(await ctx.platform.store.head(`quarantine/${sha}`)).not.toBeNull();
      expect(await ctx.platform.store.list(`blobs/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`)).toEqual([]);
      return `quarantined: ${asset.statusReason}`;
    },
  },
  {
    input: 'pixel bomb: 30000×30000 PNG (~110 KB)',
    expected: 'rejected at metadata from the header, reason names 30000×30000; nothing kept',
    run: async (ctx) => {
      const file = path.join(ctx.dir, 'bomb.png');
      await pngBomb(file);
      return rejected(await expectRejected(ctx, await fs.readFile(file), 'image/png', '30000×30000'));
    },
  },
  {
    input: 'SVG with <script>, declared image/png',
    expected: 'rejected at sniff: SVG can carry script',
    run: async (ctx) =>
      rejected(
        await expectRejected(
          ctx,
          Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
          'image/png',
          'SVG is not accepted because it can carry script',
        ),
      ),
  },
  {
    input: 'SVG declared image/svg+xml',
    expected: '400 problem+json naming contentType',
    run: (ctx) =>
      expectBadRequest(ctx, { contentType: 'image/svg+xml' }, 'contentType is not an allowed type'),
  },
  {
    input: 'ZIP bomb (100 MiB of zeros in ~100 KB), declared application/pdf',
    expected: 'rejected at sniff: detected application/zip; never scanned nor extracted',
    run: async (ctx) => {
      const data = await zipBomb(100 * 1024 ** 2);
      const asset = await expectRejected(
        ctx,
        data,
        'application/pdf',
        'detected application/zip, which is not an allowed type',
      );
      // Refused from its first bytes: neither clamd nor a media tool ever opened it.
      const stages = (asset.events as { stage: string | null }[]).map((e) => e.stage);
      expect(stages.at(-1)).toBe('sniff');
      expect(stages).not.toContain('scan');
      return `${rejected(asset)} (a ${data.length}-byte upload)`;
    },
  },
  {
    input: 'ZIP declared application/zip',
    expected: '400 problem+json naming contentType (zip is not on the allowlist)',
    run: (ctx) =>
      expectBadRequest(ctx, { contentType: 'application/zip' }, 'contentType is not an allowed type'),
  },
  {
    input: 'wrong checksumSha256',
    expected: 'rejected at verify: SHA-256 mismatch naming both hashes; nothing kept',
    run: async (ctx) => {
      const data = await noisyPng(8, 8);
      const wrong = sha256(Buffer.from('other'));
      const asset = await upload(ctx, data, 'image/png', 'sum.png', { checksumSha256: wrong });
      expect(asset).toMatchObject({
        status: 'rejected',
        statusReason: `SHA-256 mismatch: declared ${wrong}, uploaded bytes hash to ${sha256(data)}`,
      });
      expect(await ctx.platform.store.list(uploadKey(asset.assetId))).toEqual([]);
      return 'rejected: SHA-256 mismatch: declared <wrong>, uploaded bytes hash to <actual>';
    },
  },
  {
    input: `1 KB declared, ${OVERSIZE_BYTES / 1024 ** 2} MiB PUT (streamed from a generator)`,
    expected: 'rejected at verify (size from HEAD, before any hashing); object deleted; quota released',
    run: async (ctx) => {
      const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
        filename: 'small.png',
        contentType: 'image/png',
        sizeBytes: 1024,
      });
      const started = Date.now();
      expect(await putGenerated(ticket.body, OVERSIZE_BYTES)).toBe(200);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const asset = await completeWith(ctx, ticket.body);
      expect(asset).toMatchObject({
        status: 'rejected',
        statusReason: `uploaded size ${OVERSIZE_BYTES} bytes differs from declared size 1024 bytes`,
      });
      expect(await ctx.platform.store.head(uploadKey(asset.assetId))).toBeNull();
      return `${rejected(asset)} (PUT took ${seconds} s)`;
    },
  },
  {
    input:
      'ObjectCreated event at /storage-events without the secret, with a wrong header, with a wrong ?token=',
    expected:
      '401 problem+json each; the uploaded asset stays pending; the same event with the secret completes it',
    run: async (ctx) => {
      const data = await noisyPng(16, 16);
      const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
        filename: 'event.png',
        contentType: 'image/png',
        sizeBytes: data.length,
      });
      expect(await putBytes(ticket.body, data)).toBe(200);
      const object = { key: uploadKey(ticket.body.assetId) };
      const body = {
        Records: [
          { eventName: 'ObjectCreated:Put', s3: { bucket: { name: ctx.platform.store.bucket }, object } },
        ],
      };
      const url = `${ctx.platform.baseUrl}/storage-events`;
      const attempts = [
        await request('POST', url, { body }),
        await request('POST', url, { body, headers: { 'x-assetline-storage-secret': 'guess' } }),
        await request('POST', `${url}?token=${STORAGE_EVENTS_SECRET.slice(0, -1)}x`, { body }),
      ];
      expect(attempts.map((a) => a.status)).toEqual([401, 401, 401]);
      for (const a of attempts) expect(a.headers.get('content-type')).toContain('application/problem+json');
      await new Promise((r) => setTimeout(r, 1_000));
      const still = await request('GET', `${ctx.platform.baseUrl}/media/${ticket.body.assetId}`, {
        token: ctx.token,
      });
      expect(still.body).toMatchObject({ status: 'pending', stage: { name: 'awaiting-upload' } });
      const right = await request('POST', url, {
        body,
        headers: { 'x-assetline-storage-secret': STORAGE_EVENTS_SECRET },
      });
      expect(right.body).toEqual({ signalled: 1, ignored: 0 });
      ctx.holding.push(ticket.body.assetId);
      expect((await settle(ctx, ticket.body.assetId)).status).toBe('ready');
      return '401 × 3, still pending after 1 s; with the secret: signalled, ready';
    },
  },
  {
    input: `upload URL used after its expiry (UPLOAD_URL_TTL_SECONDS ${UPLOAD_TTL_SECONDS})`,
    expected:
      'S3 403 AccessDenied; nothing stored; this asset and the forged-URL one expired, reason names the TTL',
    run: async (ctx) => {
      const ticket = early.expired;
      const wait = Date.parse(ticket.upload.expiresAt) + 1_500 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const answer = await s3Put(ticket.upload.url, ticket.upload.headers, await noisyPng(8, 8));
      expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
      const [asset] = await Promise.all([ticket, early.forged].map((t) => expectExpired(ctx, t.assetId)));
      return `S3 403 AccessDenied (${answer.message}); expired: ${asset!.statusReason}`;
    },
  },
];

describeHostile('hostile media and uploads: nothing lost, nobody let in', HOSTILE_MEDIA, {
  clamd: true,
  uploadTtlSeconds: UPLOAD_TTL_SECONDS,
  timeoutMs: scaled(120_000, 300_000),
  setup: async (ctx) => {
    const ticket = async (filename: string) =>
      (
        await requestUpload(ctx.platform.baseUrl, ctx.token, {
          filename,
          contentType: 'image/png',
          sizeBytes: 100,
        })
      ).body;
    early = { expired: await ticket('late.png'), forged: await ticket('forged.png') };
  },
});
