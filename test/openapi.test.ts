import { randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createApp } from '../api/app';
import type { ApiDeps } from '../api/deps';
import { createLogger } from '../infra/logger';
import { eventually, request } from './helpers/http';
import { putBytes, requestUpload, SETTLED, type UploadTicket } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { ApiContract } from './helpers/openapi';
import { JWT_SECRET, STORAGE_EVENTS_SECRET, startPlatform, type TestPlatform } from './helpers/stack';

/** fetch refuses TRACE; node:http sends it. */
function traceRequest(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'TRACE' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  slash?: boolean;
}

/** `METHOD /path/{param}` for every route in an app's router stack, nested routers included. */
function registeredRoutes(app: express.Express): string[] {
  const routes: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        // Express' :name and *name (the origin's multi-segment path) are both {name} in OpenAPI.
        const path = layer.route.path.replace(/[:*](\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) {
          routes.push(`${method.toUpperCase()} ${path}`);
        }
      } else if (layer.handle.stack) {
        // createApp mounts every router at the root; one below a prefix would need that prefix added here.
        expect(layer.slash, 'a router is mounted below a path prefix').toBe(true);
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes.sort();
}

/** Routes are registered when the app is built; nothing is called, so the settings are all the app needs. */
const appForRoutes = () =>
  createApp({
    settings: {
      jwtSecret: JWT_SECRET,
      maxUploadBytes: 1_000_000,
      multipartPartBytes: 5 * 1024 ** 2,
      jsonBodyLimitBytes: 65_536,
    },
    logger: createLogger('test', 'silent'),
  } as unknown as ApiDeps);

describe('OpenAPI document (GET /openapi.json)', () => {
  let platform: TestPlatform;
  let api: ApiContract;
  let owner: string;

  beforeAll(async () => {
    platform = await startPlatform();
    api = await ApiContract.load(platform.baseUrl);
    owner = await platform.token('7001');
  });
  afterAll(async () => platform?.stop());

  it('describes exactly the routes the app registers, and the running API serves each one', async () => {
    const registered = registeredRoutes(appForRoutes());
    expect(registered.length).toBeGreaterThan(15);
    const documented = api.operations();
    // Express answers HEAD with a GET route, so a documented HEAD needs the GET, not a route of its own.
    for (const head of documented.filter((op) => op.startsWith('HEAD '))) {
      expect(documented).toContain(head.replace(/^HEAD/, 'GET'));
    }
    expect(documented.filter((op) => !op.startsWith('HEAD ')).sort()).toEqual(registered);

    const sample: Record<string, string> = {
      id: randomUUID(),
      assetId: randomUUID(),
      scope: 'd',
      path: 'original',
    };
    // Without credentials nothing reaches an asset (401, or 403 at the origin): a 404 can only mean no such route.
    for (const operation of documented) {
      const [method, template] = operation.split(' ') as [string, string];
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => sample[name]!);
      const res = await request(method, `${platform.baseUrl}${path}`, { redirect: 'manual' });
      expect(res.status, operation).not.toBe(404);
    }
  });

  it('answers the upload, read, list, tag, share and delivery flow as documented', async () => {
    const png = await noisyPng(48, 48);
    const ticket = await api.call<UploadTicket>('POST', '/media/upload-url', {
      token: owner,
      body: {
        filename: 'flow.png',
        contentType: 'image/png',
        sizeBytes: png.length,
        metadata: { project: 'x' },
      },
    });
    expect(ticket.status).toBe(201);
    expect(await putBytes(ticket.body, png)).toBe(200);
    const params = { id: ticket.body.assetId };
    const session = await api.call('GET', '/media/{id}/upload', { token: owner, params });
    expect(session.body).toEqual({ method: 'PUT', received: true });
    expect((await api.call('POST', '/media/{id}/complete', { token: owner, params })).status).toBe(202);
    // Every answer while it is processing is checked too: the live stage appears in those.
    const settled = await eventually(
      'the asset to settle',
      () => api.call('GET', '/media/{id}', { token: owner, params }),
      (r) => SETTLED.includes(String(r.body.status)),
    );
    expect(settled.body).toMatchObject({ status: 'ready', metadata: { project: 'x' } });

    const list = await api.call<{ items: { assetId: string }[] }>('GET', '/media', {
      token: owner,
      query: '?limit=10&type=image',
    });
    expect(list.body.items.map((i) => i.assetId)).toEqual([params.id]);

    const tagged = await api.call('PATCH', '/media/{id}/metadata', {
      token: owner,
      params,
      body: { set: { reviewed: 'yes' }, remove: ['project'] },
    });
    expect(tagged.body).toEqual({ assetId: params.id, metadata: { reviewed: 'yes' } });

    const grants = [{ principal: 'group:qa', permission: 'read' }];
    expect(
      (await api.call('PUT', '/media/{id}/acl', { token: owner, params, body: { grants } })).body,
    ).toEqual({
      assetId: params.id,
      grants,
    });
    expect((await api.call('GET', '/media/{id}/acl', { token: owner, params })).body.grants).toEqual(grants);

    const content = await api.call('GET', '/media/{id}/content', { token: owner, params });
    expect(content.status).toBe(302);
    const location = new URL(content.headers.get('location')!);
    const delivered = await fetch(location);
    expect(Buffer.from(await delivered.arrayBuffer()).equals(png)).toBe(true);
    const origin = { scope: 'd', assetId: params.id, path: 'original' };
    const originPath = '/origin/{scope}/{assetId}/{path}';
    expect((await api.call('HEAD', originPath, { params: origin, query: location.search })).status).toBe(200);
    const range = await api.call('GET', originPath, {
      params: origin,
      query: location.search,
      headers: { range: 'bytes=0-7' },
    });
    expect(range.status).toBe(206);
    expect(
      (
        await api.call('GET', originPath, {
          params: origin,
          query: location.search,
          headers: { range: 'bytes=999999-' },
        })
      ).status,
    ).toBe(416);
    expect((await api.call('GET', originPath, { params: origin, query: '?md5=x&expires=1' })).status).toBe(
      403,
    );
    expect(
      (await api.call('GET', '/media/{id}/content', { token: owner, params, query: '?rendition=nope' }))
        .status,
    ).toBe(404);

    const deleted = await api.call('DELETE', '/media/{id}', { token: owner, params });
    expect(deleted.status).toBe(202);
  });

  it('answers a resumable multipart session as documented', async () => {
    const ticket = await api.call<{ assetId: string; upload: { method: string } }>(
      'POST',
      '/media/upload-url',
      {
        token: owner,
        body: { filename: 'big.png', contentType: 'image/png', sizeBytes: 6 * 1024 ** 2, multipart: true },
      },
    );
    expect(ticket.body.upload.method).toBe('MULTIPART');
    const params = { id: ticket.body.assetId };
    const session = await api.call<{ missing: unknown[] }>('GET', '/media/{id}/upload', {
      token: owner,
      params,
    });
    expect(session.body.missing).toHaveLength(2);
    // Completing a multipart upload without its parts conflicts with the upload's state: 409, not a bad request.
    expect((await api.call('POST', '/media/{id}/complete', { token: owner, params })).status).toBe(409);
    expect((await api.call('DELETE', '/media/{id}/upload', { token: owner, params })).status).toBe(202);
    // The workflow deletes the record: the session is over once it has.
    await eventually(
      'the aborted upload to be over',
      () => api.call('GET', '/media/{id}/upload', { token: owner, params }),
      (r) => r.status === 409,
    );
  });

  it('answers webhooks, operator views, storage events and health as documented', async () => {
    // An owner without assets: nothing is ever delivered to the unreachable URL.
    const hooks = await platform.token('7002');
    const created = await api.call<{ webhookId: string }>('POST', '/webhooks', {
      token: hooks,
      body: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(created.status).toBe(201);
    expect((await api.call('POST', '/webhooks', { token: hooks, body: { url: 'ftp://x/' } })).status).toBe(
      400,
    );
    expect((await api.call('GET', '/webhooks', { token: hooks })).body.webhooks).toHaveLength(1);
    const params = { id: created.body.webhookId };
    expect((await api.call('DELETE', '/webhooks/{id}', { token: hooks, params })).status).toBe(204);
    expect((await api.call('DELETE', '/webhooks/{id}', { token: hooks, params })).status).toBe(404);

    const operator = await platform.token('7009', { role: 'operator' });
    expect((await api.call('GET', '/admin/failures', { token: operator })).body).toEqual({
      failures: [],
      next: null,
    });
    // A failure needs a broken stage; written directly, the listing's item shape is checked without one.
    const failed = await requestUpload(platform.baseUrl, hooks, {
      filename: 'f.png',
      contentType: 'image/png',
      sizeBytes: 9,
    });
    await platform.db
      .updateTable('media_assets')
      .set({
        status: 'failed',
        failed_stage: 'metadata',
        status_reason: 'metadata failed: test',
        failure_attempts: 1,
      })
      .where('asset_id', '=', failed.body.assetId)
      .execute();
    const failures = await api.call('GET', '/admin/failures', { token: operator, query: '?limit=1' });
    expect(failures.body).toMatchObject({
      failures: [{ assetId: failed.body.assetId, stage: 'metadata', attempts: 1 }],
      next: expect.any(String),
    });
    const next = (failures.body as { next: string }).next;
    const after = await api.call('GET', '/admin/failures', { token: operator, query: `?before=${next}` });
    expect(after.body).toEqual({ failures: [], next: null });
    expect((await api.call('GET', '/admin/failures', { token: owner })).status).toBe(404);
    // A cursor the API did not issue is refused, not read as "from the start" (nor sent to Postgres).
    const notIssued = Buffer.from(`${new Date().toISOString()}|not-a-uuid`).toString('base64url');
    for (const query of ['?limit=0', '?before=garbage', `?before=${notIssued}`]) {
      expect((await api.call('GET', '/admin/failures', { token: operator, query })).status, query).toBe(400);
    }
    const missing = { id: randomUUID() };
    expect((await api.call('POST', '/media/{id}/retry', { token: operator, params: missing })).status).toBe(
      404,
    );
    expect((await api.call('POST', '/media/{id}/restore', { token: owner, params: missing })).status).toBe(
      404,
    );

    const secret = { 'x-assetline-storage-secret': STORAGE_EVENTS_SECRET };
    const events = await api.call('POST', '/storage-events', { headers: secret, body: { Records: [{}] } });
    expect(events.body).toEqual({ signalled: 0, ignored: 1 });
    expect((await api.call('POST', '/storage-events', { body: { Records: [] } })).status).toBe(401);

    expect((await api.call('GET', '/healthz')).status).toBe(200);
    expect((await api.call('GET', '/readyz')).status).toBe(200);
    expect((await api.call('GET', '/openapi.json')).status).toBe(200);
  });

  it('answers errors as documented problem documents', async () => {
    expect((await api.call('GET', '/media')).status).toBe(401);
    expect(
      (await api.call('GET', '/media/{id}', { token: owner, params: { id: randomUUID() } })).status,
    ).toBe(404);
    expect(
      (await api.call('GET', '/media/{id}', { token: owner, params: { id: 'not-a-uuid' } })).status,
    ).toBe(400);
    expect((await api.call('GET', '/media', { token: owner, query: '?status=bogus' })).status).toBe(400);

    const invalid = await api.call<{ errors: { field: string }[] }>('POST', '/media/upload-url', {
      token: owner,
      body: { filename: '', contentType: 'image/png', sizeBytes: 0, extra: 1 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e) => e.field).sort()).toEqual(['filename', 'request body', 'sizeBytes']);
    const notJson = await api.call('POST', '/media/upload-url', { token: owner, rawBody: '{"filename":' });
    expect(notJson.status).toBe(400);
    const tooLarge = await api.call('POST', '/media/upload-url', {
      token: owner,
      rawBody: JSON.stringify({ filename: 'x'.repeat(70_000) }),
    });
    expect(tooLarge.status).toBe(413);
    const latin1 = await api.call('POST', '/media/upload-url', {
      token: owner,
      rawBody: '{}',
      headers: { 'content-type': 'application/json; charset=latin1' },
    });
    expect(latin1.body).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    // A method the document does not list for a known path: 405 naming the ones it does, before authentication.
    const trace = await traceRequest(`${platform.baseUrl}/media/${randomUUID()}`);
    expect(trace.status).toBe(405);
    expect(trace.headers.allow).toBe('GET, DELETE, HEAD, OPTIONS');
    expect(trace.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(trace.body)).toMatchObject({ status: 405, title: 'Method Not Allowed' });
    // The most specific path decides: /media/upload-url is not /media/{id}.
    const put = await request('PUT', `${platform.baseUrl}/media/upload-url`, { token: owner });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'POST, OPTIONS']);
    const options = await request('OPTIONS', `${platform.baseUrl}/webhooks`);
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'POST, GET, HEAD, OPTIONS']);
    // An unknown path is no method problem: authentication first, then 404.
    expect((await traceRequest(`${platform.baseUrl}/no/such/path`)).status).toBe(401);

    const badTags = await api.call('PATCH', '/media/{id}/metadata', {
      token: owner,
      params: { id: randomUUID() },
      body: { set: { 'media.width': '1' } },
    });
    // Access is decided first: an unknown asset is 404 whatever the body says.
    expect(badTags.status).toBe(404);
  });

  // Last: compiling every schema blocks the event loop for seconds, long enough for the server to close the pooled
  // keep-alive connection unnoticed, and the next request on it would be reset.
  it('is a valid OpenAPI 3.1 document whose every schema compiles', async () => {
    expect(api.document.openapi).toMatch(/^3\.1\.\d+$/);
    const result = await new Validator().validate(api.document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(api.compileEverySchema()).toBeGreaterThan(40);
  });
});
