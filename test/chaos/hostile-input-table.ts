import fs from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../../devstack';
import { ClamdScanner } from '../../infra/adapters/clamd-scanner';
import { sha256OfStream } from '../../activities/hashing/hash';
import { noisyPng } from '../helpers/generate-media';
import { eventually, request } from '../helpers/http';
import { putBytes, requestUpload, SETTLED, sha256, waitForStatus } from '../helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from '../helpers/stack';

/**
 * The hostile-input suite's frame: one platform per file, a canary uploaded before any row runs, one test per row,
 * and a last test proving that the rows lost nothing else. `HOSTILE_TABLE=1` prints the rows with what was observed,
 * as the markdown table docs/reliability.md quotes.
 */

export const OWNER = '7101';
export const STRANGER = '7102';

export interface HostileContext {
  platform: TestPlatform;
  token: string;
  stranger: string;
  dir: string;
  canary: { id: string; data: Buffer };
  /** Assets whose outcome keeps bytes (ready, failed, quarantined): deleted at the end, then only the canary counts. */
  holding: string[];
}

export interface HostileCase {
  input: string;
  expected: string;
  /** Asserts the expected outcome; returns what was observed, in a few words. */
  run(ctx: HostileContext): Promise<string>;
}

export interface SettledAsset {
  assetId: string;
  status: string;
  statusReason: string;
  failedStage: string | null;
  [key: string]: unknown;
}

export const uploadKey = (assetId: string) => `uploads/${OWNER}/${assetId}`;
export const detailOf = (res: { body: unknown }) => (res.body as { detail: string }).detail;

export const settle = (ctx: HostileContext, assetId: string) =>
  waitForStatus(ctx.platform.baseUrl, ctx.token, assetId, SETTLED, 90_000) as Promise<SettledAsset>;

/** Requests a URL, PUTs the bytes and completes; returns the settled asset. */
export async function upload(
  ctx: HostileContext,
  data: Buffer,
  contentType: string,
  filename = 'file.bin',
  extra: Record<string, unknown> = {},
): Promise<SettledAsset> {
  const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
    filename,
    contentType,
    sizeBytes: data.length,
    ...extra,
  });
  expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
  expect(await putBytes(ticket.body, data)).toBe(200);
  const done = await request('POST', `${ctx.platform.baseUrl}/media/${ticket.body.assetId}/complete`, {
    token: ctx.token,
  });
  expect(done.status).toBe(202);
  return settle(ctx, ticket.body.assetId);
}

export async function countAssets(ctx: HostileContext): Promise<number> {
  const row = await ctx.platform.db
    .selectFrom('media_assets')
    .select(sql<string>`count(*)`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Refused before any URL is issued: 400 problem+json naming the field, and no asset row. */
export async function expectBadRequest(ctx: HostileContext, body: Record<string, unknown>, message: string) {
  const before = await countAssets(ctx);
  const res = await requestUpload(ctx.platform.baseUrl, ctx.token, {
    filename: 'a.png',
    contentType: 'image/png',
    sizeBytes: 1024,
    ...body,
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(detailOf(res)).toContain(message);
  expect(await countAssets(ctx)).toBe(before);
  return `400: ${message}`;
}

export interface HostileOptions {
  uploadTtlSeconds: number;
  /** Scan with a real clamd (EICAR rows). */
  clamd?: boolean;
  /** Runs once the platform is up, before the canary and the rows. */
  setup?: (ctx: HostileContext) => Promise<void>;
  timeoutMs: number;
}

export function describeHostile(title: string, cases: HostileCase[], opts: HostileOptions): void {
  describe(title, { timeout: opts.timeoutMs }, () => {
    const ctx = { canary: { id: '', data: Buffer.alloc(0) }, holding: [] as string[] } as HostileContext;
    const observed: [HostileCase, string][] = [];
    let clamd: ClamdHandle | undefined;

    beforeAll(async () => {
      ctx.dir = path.join(inject('stack').tmpDir, uniqueName('hostile'));
      await fs.mkdir(ctx.dir, { recursive: true });
      if (opts.clamd) clamd = await startClamd({ dataDir: path.join(ctx.dir, 'clamd') });
      ctx.platform = await startPlatform({
        scanner: clamd && new ClamdScanner({ host: clamd.host, port: clamd.port }),
        uploadTtlSeconds: opts.uploadTtlSeconds,
        // Deleted assets are purged at once, so the end state can be compared with the canary alone.
        trashDays: 2 / 86_400,
      });
      [ctx.token, ctx.stranger] = await Promise.all([
        ctx.platform.token(OWNER),
        ctx.platform.token(STRANGER),
      ]);
      await opts.setup?.(ctx);
      const data = await noisyPng(48, 32);
      const canary = await upload(ctx, data, 'image/png', 'canary.png');
      expect(canary.status).toBe('ready');
      ctx.canary = { id: canary.assetId, data };
    });

    afterAll(async () => {
      if (process.env.HOSTILE_TABLE === '1') console.log(markdownTable(observed));
      await ctx.platform?.stop();
      await clamd?.stop();
    });

    it.each(cases)('$input → $expected', async (row) => {
      observed.push([row, await row.run(ctx)]);
    });

    it('lost nothing else: the canary is ready with its bytes, and the quota holds the canary alone', () =>
      expectOnlyTheCanaryLeft(ctx, opts.uploadTtlSeconds));
  });
}

async function expectOnlyTheCanaryLeft(ctx: HostileContext, uploadTtlSeconds: number) {
  const { platform, canary } = ctx;
  await eventually(
    'every asset to settle',
    () =>
      platform.db
        .selectFrom('media_assets')
        .select(['asset_id', 'status'])
        .where('status', 'in', ['pending', 'processing'])
        .execute(),
    (rows) => rows.length === 0,
    (uploadTtlSeconds + 30) * 1000,
  );
  const asset = await request('GET', `${platform.baseUrl}/media/${canary.id}`, { token: ctx.token });
  expect(asset.body).toMatchObject({ status: 'ready', checksumSha256: sha256(canary.data), metadata: {} });
  const blob = (await platform.blobs.get(sha256(canary.data)))!;
  expect(blob).toMatchObject({ status: 'ready', refcount: 1 });
  const stored = await sha256OfStream(await platform.store.read(blob.object_key));
  expect(stored).toEqual({ sha256: sha256(canary.data), bytes: canary.data.length });

  // Rejected and expired uploads reserve nothing; what holds bytes does, until it is deleted.
  const held = ctx.holding.length
    ? await platform.db
        .selectFrom('media_assets')
        .select(sql<string>`sum(size_bytes)`.as('bytes'))
        .where('asset_id', 'in', ctx.holding)
        .executeTakeFirstOrThrow()
    : { bytes: '0' };
  expect(await platform.quotas.usage(OWNER, { includePending: true })).toEqual({
    bytes: canary.data.length + Number(held.bytes),
    assets: 1 + ctx.holding.length,
  });
  for (const id of ctx.holding) {
    const deleted = await request('DELETE', `${platform.baseUrl}/media/${id}`, { token: ctx.token });
    expect(deleted.status).toBe(202);
  }
  const usage = await eventually(
    'the deletions to be recorded',
    () => platform.quotas.usage(OWNER, { includePending: true }),
    (u) => u.assets === 1,
  );
  expect(usage).toEqual({ bytes: canary.data.length, assets: 1 });

  // Once the trash is purged, S3 holds the canary's original and renditions and nothing else; Postgres one blob.
  // A purge removes the objects first and the blob's row last (under its lock), so both are waited for.
  const { keys, blobs } = await eventually(
    'the deleted assets to be purged',
    async () => ({
      keys: await platform.store.list(''),
      blobs: (await platform.db.selectFrom('blobs').select('sha256').execute()).map((b) => b.sha256),
    }),
    ({ keys, blobs }) =>
      blobs.length === 1 && keys.every((k) => k === blob.object_key || k.startsWith(blob.rendition_prefix!)),
  );
  expect(keys).toContain(blob.object_key);
  expect(blobs).toEqual([blob.sha256]);
}

function markdownTable(rows: [HostileCase, string][]): string {
  const cell = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return [
    '| input | expected outcome | observed |',
    '| --- | --- | --- |',
    ...rows.map(([c, o]) => `| ${cell(c.input)} | ${cell(c.expected)} | ${cell(o)} |`),
  ].join('\n');
}
