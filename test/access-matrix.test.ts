import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonResponse } from './helpers/http';
import { requestUpload, SETTLED, uploadFile, waitForStatus } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { ApiContract } from './helpers/openapi';
import { startPlatform, type TestPlatform } from './helpers/stack';

const OWNER = '8101';
const STRANGER = '8102';
const READER = '8103';
const MEMBER = '8104';
const OPERATOR = '8105';
const GRANTS = [
  { principal: 'group:reviewers', permission: 'read' },
  { principal: `user:${READER}`, permission: 'read' },
];

const PRINCIPALS = ['nobody', 'stranger', 'reader', 'member', 'owner', 'operator'] as const;
type Principal = (typeof PRINCIPALS)[number];

interface Row {
  route: string;
  /** The asset the call is made on: the ready one (default) or a pending upload. */
  on?: 'ready' | 'pending';
  /** The call uses its asset up: every principal gets a fresh pending upload, shared like the others. */
  consumes?: boolean;
  body?: unknown;
  query?: string;
  /** Statuses for: no token, another owner, a user:<id> reader, a group:<name> reader, the owner, an operator. */
  expected: [number, number, number, number, number, number];
}

// Assets a caller may not read are 404 like missing ones; readers who may not write or delete get 403.
const MATRIX: Row[] = [
  { route: 'GET /media/{id}', expected: [401, 404, 200, 200, 200, 200] },
  { route: 'GET /media/{id}/content', expected: [401, 404, 302, 302, 302, 302] },
  // Readable, but the matrix's asset is an image: thumbnails at a time are for videos.
  { route: 'GET /media/{id}/thumbnail', query: '?time=0', expected: [401, 404, 409, 409, 409, 409] },
  {
    route: 'PATCH /media/{id}/metadata',
    body: { set: { reviewed: 'yes' } },
    expected: [401, 404, 403, 403, 200, 200],
  },
  { route: 'GET /media/{id}/acl', expected: [401, 404, 403, 403, 200, 200] },
  // The same grants again: the matrix's asset keeps its readers.
  { route: 'PUT /media/{id}/acl', body: { grants: GRANTS }, expected: [401, 404, 403, 403, 200, 200] },
  // No policy again ({}): the matrix's asset stays deliverable everywhere.
  { route: 'PUT /media/{id}/regions', body: {}, expected: [401, 404, 403, 403, 200, 200] },
  { route: 'GET /media/{id}/visibility', expected: [401, 404, 403, 403, 200, 200] },
  // Private again: the matrix's asset keeps its visibility.
  {
    route: 'PUT /media/{id}/visibility',
    body: { visibility: 'private' },
    expected: [401, 404, 403, 403, 200, 200],
  },
  // A ready asset has nothing left to complete: the answer is its status.
  { route: 'POST /media/{id}/complete', expected: [401, 404, 403, 403, 202, 202] },
  { route: 'GET /media/{id}/upload', on: 'pending', expected: [401, 404, 403, 403, 200, 200] },
  {
    route: 'DELETE /media/{id}/upload',
    on: 'pending',
    consumes: true,
    expected: [401, 404, 403, 403, 202, 202],
  },
  { route: 'DELETE /media/{id}', on: 'pending', consumes: true, expected: [401, 404, 403, 403, 202, 202] },
  // Not in the trash: access is granted, the state is wrong.
  { route: 'POST /media/{id}/restore', expected: [401, 404, 403, 403, 409, 409] },
  // Hidden from all but operators; only a failed asset can be retried.
  { route: 'POST /media/{id}/retry', expected: [401, 404, 404, 404, 404, 409] },
  { route: 'GET /admin/failures', expected: [401, 404, 404, 404, 404, 200] },
];

describe('access matrix: every asset route × every kind of caller', () => {
  let platform: TestPlatform;
  let api: ApiContract;
  let tokens: Record<Principal, string | undefined>;
  let ready: string;
  let pending: string;

  /** A pending upload of the owner's, shared like the ready one. */
  async function pendingAsset(): Promise<string> {
    const ticket = await requestUpload(platform.baseUrl, tokens.owner!, {
      filename: 'pending.png',
      contentType: 'image/png',
      sizeBytes: 100,
    });
    expect(ticket.status).toBe(201);
    await share(ticket.body.assetId);
    return ticket.body.assetId;
  }

  async function share(assetId: string): Promise<void> {
    const res = await api.call('PUT', '/media/{id}/acl', {
      token: tokens.owner,
      params: { id: assetId },
      body: { grants: GRANTS },
    });
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    platform = await startPlatform();
    api = await ApiContract.load(platform.baseUrl);
    tokens = {
      nobody: undefined,
      stranger: await platform.token(STRANGER),
      reader: await platform.token(READER),
      member: await platform.token(MEMBER, { groups: ['reviewers'] }),
      owner: await platform.token(OWNER),
      operator: await platform.token(OPERATOR, { role: 'operator' }),
    };
    ready = await uploadFile(platform.baseUrl, tokens.owner!, await noisyPng(32, 32), 'image/png', 'm.png');
    expect((await waitForStatus(platform.baseUrl, tokens.owner!, ready, SETTLED)).status).toBe('ready');
    await share(ready);
    pending = await pendingAsset();
  });
  afterAll(async () => platform?.stop());

  it.each(MATRIX)('$route', async (row) => {
    const [method, template] = row.route.split(' ') as [string, string];
    const call = (principal: Principal, id: string): Promise<JsonResponse> =>
      api.call(method, template, {
        token: tokens[principal],
        params: { id },
        body: row.body,
        query: row.query,
      });

    const answers: number[] = [];
    for (const principal of PRINCIPALS) {
      const id = row.consumes ? await pendingAsset() : row.on === 'pending' ? pending : ready;
      const res = await call(principal, id);
      answers.push(res.status);
      if (res.status === 404 && template.includes('{id}')) {
        // A hidden asset and one that does not exist must be indistinguishable, detail and all.
        const unknownId = randomUUID();
        const unknown = await call(principal, unknownId);
        expect(unknown.status).toBe(404);
        expect({ ...res.body, instance: String(res.body.instance).replace(id, unknownId) }).toEqual(
          unknown.body,
        );
      }
    }
    // ApiContract has checked each answer: documented status, problem+json for errors, body matching its schema.
    expect(Object.fromEntries(PRINCIPALS.map((p, i) => [p, answers[i]]))).toEqual(
      Object.fromEntries(PRINCIPALS.map((p, i) => [p, row.expected[i]])),
    );
  });
});

const EDITOR = '8106';
const VIEWERS = ['nobody', 'stranger', 'reader', 'member', 'editor', 'owner', 'operator'] as const;
type Viewer = (typeof VIEWERS)[number];

// Who sees the asset (GET /media/{id}) at each visibility; its content route answers 302 where this is 200.
const SEEN_BY: Record<string, [number, number, number, number, number, number, number]> = {
  draft: [401, 404, 404, 404, 200, 200, 200],
  private: [401, 404, 200, 200, 200, 200, 200],
  unlisted: [401, 200, 200, 200, 200, 200, 200],
  public: [401, 200, 200, 200, 200, 200, 200],
};

describe('access matrix: every visibility × every kind of caller', () => {
  let platform: TestPlatform;
  let api: ApiContract;
  let tokens: Record<Viewer, string | undefined>;
  let assetId: string;

  beforeAll(async () => {
    platform = await startPlatform();
    api = await ApiContract.load(platform.baseUrl);
    tokens = {
      nobody: undefined,
      stranger: await platform.token(STRANGER),
      reader: await platform.token(READER),
      member: await platform.token(MEMBER, { groups: ['reviewers'] }),
      editor: await platform.token(EDITOR),
      owner: await platform.token(OWNER),
      operator: await platform.token(OPERATOR, { role: 'operator' }),
    };
    assetId = await uploadFile(platform.baseUrl, tokens.owner!, await noisyPng(24, 24), 'image/png', 'v.png');
    expect((await waitForStatus(platform.baseUrl, tokens.owner!, assetId, SETTLED)).status).toBe('ready');
    const grants = [...GRANTS, { principal: `user:${EDITOR}`, permission: 'write' }];
    const shared = await api.call('PUT', '/media/{id}/acl', {
      token: tokens.owner,
      params: { id: assetId },
      body: { grants },
    });
    expect(shared.status).toBe(200);
  });
  afterAll(async () => platform?.stop());

  it.each(Object.keys(SEEN_BY))('%s', async (visibility) => {
    const set = await api.call('PUT', '/media/{id}/visibility', {
      token: tokens.owner,
      params: { id: assetId },
      body: { visibility },
    });
    expect(set.status).toBe(200);
    const seen: Record<string, number> = {};
    const delivered: Record<string, number> = {};
    for (const viewer of VIEWERS) {
      const opts = { token: tokens[viewer], params: { id: assetId } };
      seen[viewer] = (await api.call('GET', '/media/{id}', opts)).status;
      delivered[viewer] = (await api.call('GET', '/media/{id}/content', opts)).status;
    }
    const expected = SEEN_BY[visibility]!;
    expect(seen).toEqual(Object.fromEntries(VIEWERS.map((v, i) => [v, expected[i]])));
    expect(delivered).toEqual(
      Object.fromEntries(VIEWERS.map((v, i) => [v, expected[i] === 200 ? 302 : expected[i]])),
    );
  });
});
