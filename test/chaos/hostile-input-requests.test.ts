import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { queryString, signQuery } from '../../domain/delivery/secure-link';
import { noisyPng } from '../helpers/generate-media';
import { request } from '../helpers/http';
import { putBytes, requestUpload, sha256 } from '../helpers/media';
import { DELIVERY_SECRET, JWT_SECRET } from '../helpers/stack';
import {
  countAssets,
  describeHostile,
  detailOf,
  expectBadRequest,
  OWNER,
  settle,
  upload,
  uploadKey,
  type HostileCase,
  type HostileContext,
} from './hostile-input-table';

/**
 * Hostile requests to the API and the origin: filenames, metadata carrying SQL and HTML, oversized bodies, forged
 * tokens and delivery URLs, other owners' ids, repeated completions. Each row: the status and the problem it names,
 * and the state behind it.
 */

const SQL = `'; DROP TABLE media_assets; --`;
const HTML = `</script><script>alert("x")</script>`;

async function expectUnauthorized(ctx: HostileContext, bearer: string, detail: string) {
  const res = await request('GET', `${ctx.platform.baseUrl}/media/${ctx.canary.id}`, { token: bearer });
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(detailOf(res)).toBe(detail);
  return `401: ${detail}`;
}

const jwt = (secret: string, alg = 'HS256', expiresIn = '1h') =>
  new SignJWT({})
    .setProtectedHeader({ alg })
    .setSubject(OWNER)
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));

/** The delivery URL the API hands the owner for an asset's original (the origin's /d/ path, signed). */
async function deliveryUrl(ctx: HostileContext, assetId: string): Promise<URL> {
  const res = await fetch(`${ctx.platform.baseUrl}/media/${assetId}/content`, {
    headers: { authorization: `Bearer ${ctx.token}` },
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

const ASSET_ROUTES = [
  'GET /media/:id',
  'PATCH /media/:id/metadata',
  'DELETE /media/:id',
  'POST /media/:id/complete',
  'GET /media/:id/content',
  'POST /media/:id/restore',
  'GET /media/:id/upload',
  'DELETE /media/:id/upload',
];

export const HOSTILE_REQUESTS: HostileCase[] = [
  {
    input: 'filename ../../etc/passwd.png',
    expected: '400 problem+json naming filename (path separators); no asset',
    run: (ctx) =>
      expectBadRequest(
        ctx,
        { filename: '../../etc/passwd.png' },
        'filename must not contain path separators',
      ),
  },
  {
    input: 'filename with NUL (a\\u0000.png)',
    expected: '400 naming filename (control characters)',
    run: (ctx) => expectBadRequest(ctx, { filename: 'a\u0000.png' }, 'filename must not contain'),
  },
  {
    input: 'filename with CR LF (a.png\\r\\nSet-Cookie: x=1)',
    expected: '400 naming filename (control characters)',
    run: (ctx) =>
      expectBadRequest(ctx, { filename: 'a.png\r\nSet-Cookie: x=1' }, 'filename must not contain'),
  },
  {
    input: 'filename with an RTL override (invoice\\u202Egnp.exe, shown as invoiceexe.png)',
    expected: '400 naming filename (bidi override)',
    run: (ctx) => expectBadRequest(ctx, { filename: 'invoice\u202Egnp.exe' }, 'filename must not contain'),
  },
  {
    input: 'filename of 2,048 characters',
    expected: '400: filename must be at most 255 bytes',
    run: (ctx) =>
      expectBadRequest(ctx, { filename: `${'a'.repeat(2044)}.png` }, 'filename must be at most 255 bytes'),
  },
  {
    input: 'filename of 128 characters but 256 UTF-8 bytes (é × 128)',
    expected: '400: filename must be at most 255 bytes',
    run: (ctx) => expectBadRequest(ctx, { filename: 'é'.repeat(128) }, 'filename must be at most 255 bytes'),
  },
  {
    input: 'filename "><img src=x onerror=alert(1)>.png (allowed characters)',
    expected:
      'ready; filename returned verbatim as JSON data; S3 keys from ids and hashes only; delivery sends no Content-Disposition',
    run: async (ctx) => {
      const filename = '"><img src=x onerror=alert(1)>.png';
      const data = await noisyPng(16, 16);
      const asset = await upload(ctx, data, 'image/png', filename);
      ctx.holding.push(asset.assetId);
      expect(asset).toMatchObject({ status: 'ready', filename });
      expect((await ctx.platform.assets.findById(asset.assetId))!.object_key).toBe(uploadKey(asset.assetId));
      const blob = (await ctx.platform.blobs.get(sha256(data)))!;
      expect(blob.object_key).toBe(
        `blobs/${blob.sha256.slice(0, 2)}/${blob.sha256.slice(2, 4)}/${blob.sha256}`,
      );
      const res = await fetch(await deliveryUrl(ctx, asset.assetId));
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
      expect(res.headers.get('content-disposition')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect([...res.headers.values()].join('\n')).not.toContain('onerror');
      return 'ready, name verbatim; keys uploads/<owner>/<id> and blobs/…/<sha256>; delivery: no Content-Disposition, nosniff';
    },
  },
  {
    input: `metadata values with SQL (${SQL}) and HTML (${HTML}), at upload and by PATCH`,
    expected:
      '200; stored and returned verbatim as JSON strings; search by each tag finds the asset; tables intact',
    run: async (ctx) => {
      const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
        filename: 'tagged.png',
        contentType: 'image/png',
        sizeBytes: 10,
        metadata: { note: SQL },
      });
      expect(ticket.status).toBe(201);
      const assetId = ticket.body.assetId;
      const set = { title: HTML, 'sql.2': `x' OR '1'='1` };
      const patch = await request('PATCH', `${ctx.platform.baseUrl}/media/${assetId}/metadata`, {
        token: ctx.token,
        body: { set },
      });
      const expected = { note: SQL, ...set };
      expect([patch.status, patch.body.metadata]).toEqual([200, expected]);
      const raw = await fetch(`${ctx.platform.baseUrl}/media/${assetId}`, {
        headers: { authorization: `Bearer ${ctx.token}` },
      });
      expect(raw.headers.get('content-type')).toContain('application/json');
      expect((JSON.parse(await raw.text()) as { metadata: unknown }).metadata).toEqual(expected);
      for (const [key, value] of Object.entries(expected)) {
        const found = await request<{ items: { assetId: string }[] }>(
          'GET',
          `${ctx.platform.baseUrl}/media?tag=${encodeURIComponent(`${key}:${value}`)}`,
          { token: ctx.token },
        );
        expect([found.status, found.body.items.map((i) => i.assetId)]).toEqual([200, [assetId]]);
      }
      const tables = await sql<{ n: string }>`select count(*) as n from information_schema.tables
        where table_name in ('media_assets', 'asset_metadata')`.execute(ctx.platform.db);
      expect(Number(tables.rows[0]!.n)).toBe(2);
      return '200, values verbatim in JSON; 3 tag searches found exactly the asset; tables intact';
    },
  },
  {
    input: `metadata key with SQL (${SQL})`,
    expected: '400 naming the key (keys are 1-64 of [A-Za-z0-9_.:-]); nothing written',
    run: async (ctx) => {
      const res = await request('PATCH', `${ctx.platform.baseUrl}/media/${ctx.canary.id}/metadata`, {
        token: ctx.token,
        body: { set: { [SQL]: 'v' } },
      });
      expect(res.status).toBe(400);
      expect(detailOf(res)).toContain(`set.${SQL} is not a valid key`);
      return `400: set.${SQL} is not a valid key`;
    },
  },
  {
    input: '10 MB JSON body to POST /media/upload-url',
    expected: '413 problem+json naming the limit; no asset; the next request is answered',
    run: async (ctx) => {
      const before = await countAssets(ctx);
      const metadata = { big: 'x'.repeat(10 * 1024 ** 2) };
      const res = await request('POST', `${ctx.platform.baseUrl}/media/upload-url`, {
        token: ctx.token,
        rawBody: JSON.stringify({ filename: 'a.png', contentType: 'image/png', sizeBytes: 1, metadata }),
      });
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(detailOf(res)).toBe('request body exceeds the limit of 65536 bytes');
      expect(await countAssets(ctx)).toBe(before);
      const next = await request('GET', `${ctx.platform.baseUrl}/media/${ctx.canary.id}`, {
        token: ctx.token,
      });
      expect(next.status).toBe(200);
      return `413: ${detailOf(res)}; the next request 200`;
    },
  },
  {
    input: 'JWT with alg none',
    expected: '401 problem+json (WWW-Authenticate: Bearer)',
    run: (ctx) => {
      const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: OWNER })}.`;
      return expectUnauthorized(ctx, token, 'token algorithm is not allowed (HS256 only)');
    },
  },
  {
    input: 'JWT signed with a wrong secret',
    expected: '401 problem+json',
    run: async (ctx) =>
      expectUnauthorized(
        ctx,
        await jwt('a-different-secret-of-enough-length-000'),
        'token signature or format is invalid',
      ),
  },
  {
    input: 'JWT expired a minute ago',
    expected: '401 problem+json: token has expired',
    run: async (ctx) => expectUnauthorized(ctx, await jwt(JWT_SECRET, 'HS256', '-1m'), 'token has expired'),
  },
  {
    input: 'JWT signed HS512 with the right secret',
    expected: '401 problem+json: algorithm not allowed',
    run: async (ctx) =>
      expectUnauthorized(ctx, await jwt(JWT_SECRET, 'HS512'), 'token algorithm is not allowed (HS256 only)'),
  },
  {
    input: `another owner's asset id on every asset route (${ASSET_ROUTES.length} routes)`,
    expected: '404, the same problem as for a missing id; the asset unchanged',
    run: async (ctx) => {
      for (const route of ASSET_ROUTES) {
        const [method, template] = route.split(' ') as [string, string];
        const call = (id: string) =>
          request(method, `${ctx.platform.baseUrl}${template.replace(':id', id)}`, {
            token: ctx.stranger,
            body: method === 'PATCH' ? { set: { owned: 'yes' } } : undefined,
            redirect: 'manual',
          });
        const [theirs, missing] = [await call(ctx.canary.id), await call(randomUUID())];
        expect([route, theirs.status]).toEqual([route, 404]);
        expect([route, detailOf(theirs)]).toEqual([route, detailOf(missing)]);
      }
      const own = await request('GET', `${ctx.platform.baseUrl}/media/${ctx.canary.id}`, {
        token: ctx.token,
      });
      expect(own.body).toMatchObject({ status: 'ready', metadata: {} });
      return `404 on all ${ASSET_ROUTES.length}, same detail as a missing id; asset unchanged`;
    },
  },
  {
    input: 'POST /media/:id/complete five times at once, and again once ready',
    expected: 'every call 202; one "upload completed" event; one asset; ready',
    run: async (ctx) => {
      const data = await noisyPng(16, 16);
      const ticket = await requestUpload(ctx.platform.baseUrl, ctx.token, {
        filename: 'again.png',
        contentType: 'image/png',
        sizeBytes: data.length,
      });
      await putBytes(ticket.body, data);
      const url = `${ctx.platform.baseUrl}/media/${ticket.body.assetId}/complete`;
      const calls = await Promise.all(
        Array.from({ length: 5 }, () => request('POST', url, { token: ctx.token })),
      );
      expect(calls.map((c) => c.status)).toEqual([202, 202, 202, 202, 202]);
      const asset = await settle(ctx, ticket.body.assetId);
      ctx.holding.push(asset.assetId);
      expect(asset.status).toBe('ready');
      const late = await request('POST', url, { token: ctx.token });
      expect([late.status, late.body.status]).toEqual([202, 'ready']);
      const events = asset.events as { reason: string }[];
      expect(events.filter((e) => e.reason.startsWith('upload completed'))).toHaveLength(1);
      const rows = await ctx.platform.db
        .selectFrom('media_assets')
        .select('asset_id')
        .where('filename', '=', 'again.png')
        .execute();
      expect(rows).toHaveLength(1);
      return '6 × 202; 1 completion event; 1 asset; ready';
    },
  },
  {
    input: 'delivery URL (origin /d/) with a wrong md5, another asset’s md5, a later expires, or no token',
    expected: '403 problem+json each; the genuine URL 200 with the exact bytes',
    run: async (ctx) => {
      const url = await deliveryUrl(ctx, ctx.canary.id);
      const md5 = url.searchParams.get('md5')!;
      const expires = url.searchParams.get('expires')!;
      const otherAsset = signQuery(randomUUID(), Number(expires), DELIVERY_SECRET).md5;
      const forged = [
        `md5=${md5[0] === 'A' ? 'B' : 'A'}${md5.slice(1)}&expires=${expires}`,
        `md5=${otherAsset}&expires=${expires}`,
        `md5=${md5}&expires=${Number(expires) + 86_400}`,
        '',
      ];
      for (const query of forged) {
        const res = await request('GET', `${url.origin}${url.pathname}?${query}`);
        expect([query, res.status, detailOf(res)]).toEqual([query, 403, 'missing or invalid delivery token']);
      }
      const genuine = await fetch(url);
      expect(Buffer.from(await genuine.arrayBuffer()).equals(ctx.canary.data)).toBe(true);
      return '403 × 4 (missing or invalid delivery token); genuine 200, same bytes';
    },
  },
  {
    input: 'delivery URL correctly signed but expired a minute ago',
    expected: '410 problem+json',
    run: async (ctx) => {
      const url = await deliveryUrl(ctx, ctx.canary.id);
      const query = queryString(
        signQuery(ctx.canary.id, Math.floor(Date.now() / 1000) - 60, DELIVERY_SECRET),
      );
      const res = await request('GET', `${url.origin}${url.pathname}?${query}`);
      expect([res.status, detailOf(res)]).toEqual([410, 'this delivery URL has expired']);
      return `410: ${detailOf(res)}`;
    },
  },
];

describeHostile('hostile requests: nothing lost, nobody let in', HOSTILE_REQUESTS, {
  // Short: the metadata row leaves an asset pending, and the last test waits for it to expire.
  uploadTtlSeconds: 10,
  timeoutMs: 120_000,
});
