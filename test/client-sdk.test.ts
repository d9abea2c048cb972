import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetlineClient, AssetlineError, verifyWebhook } from '../client';
import { clientTypes, GENERATED_TYPES } from '../scripts/client-types';
import { sign } from '../domain/webhooks/signature';
import { largePdf, noisyPng } from './helpers/generate-media';
import { sha256 } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';

describe('client/ SDK against the real stack', () => {
  let platform: TestPlatform;
  let client: AssetlineClient;
  let dir: string;

  beforeAll(async () => {
    // A low threshold (parts are 5 MiB in tests): a 23 MiB file goes multipart, a small PNG as one PUT.
    platform = await startPlatform({ multipartThresholdBytes: 8 * 1024 ** 2 });
    client = new AssetlineClient({ baseUrl: platform.baseUrl, token: await platform.token('8101') });
    dir = await mkdtemp(join(tmpdir(), 'assetline-sdk-'));
  });
  afterAll(async () => {
    await platform?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('client/generated/openapi.ts is what npm run client:types makes of the current document', async () => {
    expect(await readFile(GENERATED_TYPES, 'utf8')).toBe(await clientTypes());
  });

  it('uploads a Buffer with one PUT and waits until ready; the checksum is the bytes', async () => {
    const png = await noisyPng(300, 200);
    const progress: number[] = [];
    const result = await client.upload(png, {
      contentType: 'image/png',
      filename: 'noise.png',
      metadata: { album: 'sdk' },
      onProgress: (p) => progress.push(p.sentBytes),
    });
    expect(result).toMatchObject({
      sha256: sha256(png),
      sizeBytes: png.length,
      sentParts: 1,
      skippedParts: 0,
    });
    expect(progress.at(-1)).toBe(png.length);
    const stages: string[] = [];
    const asset = await client.waitUntilReady(result.assetId, { onStage: (s) => stages.push(s.status) });
    expect(asset).toMatchObject({ status: 'ready', checksumSha256: sha256(png), metadata: { album: 'sdk' } });
    expect(stages.at(-1)).toBe('ready');
    // The listing finds it by checksum; delivery serves the same bytes.
    const found = [];
    for await (const a of client.list({ checksumSha256: sha256(png) })) found.push(a.assetId);
    expect(found).toEqual([result.assetId]);
    const to = join(dir, 'back.png');
    expect(await client.download(result.assetId, { to })).toBe(png.length);
    expect(sha256(await readFile(to))).toBe(sha256(png));
    expect(await client.contentUrl(result.assetId)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/origin\//);
  });

  it('uploads a stream in concurrent parts, resumes after a failure without resending parts, and is byte-exact', async () => {
    const file = join(dir, 'big.pdf');
    const { sha256: expected, size } = await largePdf(file, 23 * 1024 ** 2);
    // First attempt: the third acknowledged part throws, which aborts the upload with the session left open.
    let assetId = '';
    let acknowledged = 0;
    const stop = new Error('stop after three parts');
    await expect(
      client.upload(createReadStream(file), {
        contentType: 'application/pdf',
        size,
        concurrency: 1,
        onSession: (s) => void (assetId = s.assetId),
        onPart: () => {
          if (++acknowledged === 3) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    const held = await client.api.GET('/media/{id}/upload', { params: { path: { id: assetId } } });
    expect(held.data).toMatchObject({ method: 'MULTIPART' });
    const before = held.data!.method === 'MULTIPART' ? held.data!.parts.length : 0;
    expect(before).toBe(3);

    const resumed = await client.upload(file, {
      contentType: 'application/pdf',
      resume: { assetId },
      concurrency: 4,
    });
    const parts = Math.ceil(size / (5 * 1024 ** 2));
    expect(resumed).toMatchObject({ assetId, sha256: expected, skippedParts: 3, sentParts: parts - 3 });
    const asset = await client.waitUntilReady(assetId);
    expect(asset).toMatchObject({ status: 'ready', checksumSha256: expected, sizeBytes: size });
    const to = join(dir, 'big-back.pdf');
    await client.download(assetId, { to });
    expect(sha256(await readFile(to))).toBe(expected);
  });

  it('pages GET /media by its cursor; the checksum filter never lists another owner’s asset, shared or not', async () => {
    const mine = await Promise.all(
      [1, 2, 3].map(async () => client.upload(await noisyPng(20, 20), { contentType: 'image/png' })),
    );
    await Promise.all(mine.map((m) => client.waitUntilReady(m.assetId)));
    const seen = [];
    for await (const a of client.list({ limit: 1 })) seen.push(a.assetId);
    expect(seen).toEqual(expect.arrayContaining(mine.map((m) => m.assetId)));
    expect(new Set(seen).size).toBe(seen.length);

    const other = new AssetlineClient({ baseUrl: platform.baseUrl, token: await platform.token('8102') });
    await client.api.PUT('/media/{id}/acl', {
      params: { path: { id: mine[0]!.assetId } },
      body: { grants: [{ principal: 'user:8102', permission: 'read' }] },
    });
    const shared = [];
    for await (const a of other.list({})) shared.push(a.assetId);
    expect(shared).toContain(mine[0]!.assetId);
    const byChecksum = [];
    for await (const a of other.list({ checksumSha256: mine[0]!.sha256 })) byChecksum.push(a);
    expect(byChecksum).toEqual([]);
  });

  it('throws AssetlineError with the problem’s status, detail and field errors', async () => {
    const err = (await client
      .upload(Buffer.from('hello'), { contentType: 'text/plain' })
      .catch((e: unknown) => e)) as AssetlineError;
    expect(err).toBeInstanceOf(AssetlineError);
    expect(err).toMatchObject({ status: 400 });
    expect(err.errors.map((e) => e.field)).toContain('contentType');
    const anonymous = new AssetlineClient({ baseUrl: platform.baseUrl, token: 'not-a-token' });
    await expect(anonymous.get(mineOrZero())).rejects.toMatchObject({ status: 401 });
    const nowhere = new AssetlineClient({ baseUrl: 'http://127.0.0.1:9', token: 'x' });
    await expect(nowhere.get(mineOrZero())).rejects.toMatchObject({ status: 0, title: 'network error' });
  });

  it('verifyWebhook accepts what the platform signs and nothing else', () => {
    const body = JSON.stringify({ type: 'asset.ready' });
    const now = Math.floor(Date.now() / 1000);
    const header = sign('s3cr3t', body, now);
    expect(verifyWebhook('s3cr3t', body, header)).toBe(true);
    expect(verifyWebhook('s3cr3t', Buffer.from(body), header)).toBe(true);
    expect(verifyWebhook('other', body, header)).toBe(false);
    expect(verifyWebhook('s3cr3t', `${body} `, header)).toBe(false);
    expect(verifyWebhook('s3cr3t', body, sign('s3cr3t', body, now - 600))).toBe(false);
    expect(verifyWebhook('s3cr3t', body, undefined)).toBe(false);
  });
});

const mineOrZero = () => '00000000-0000-4000-8000-000000000000';
