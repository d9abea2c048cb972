import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, request } from './helpers/http';
import { putBytes, requestUpload, sha256, SETTLED, waitForStatus, type UploadTicket } from './helpers/media';
import { noisyPng } from './helpers/generate-media';
import { startReceiver, type Receiver } from './helpers/webhook-receiver';
import { startPlatform, type TestPlatform } from './helpers/stack';

const OWNER = '9301';
const STRANGER = '9302';
const READER = '9303';
const EDITOR = '9304';

interface Release {
  assetId: string;
  visibility: string;
  publishAt: string | null;
  publishAs: string | null;
  unpublishAt: string | null;
  releasedAt: string | null;
}

describe('visibility and scheduled release, through the API, the workflow and the webhooks', () => {
  let platform: TestPlatform;
  let tokens: Record<'owner' | 'stranger' | 'reader' | 'editor', string>;
  let receiver: Receiver;
  let image: Buffer;

  const api = (method: string, path: string, token?: string, body?: unknown) =>
    request(method, `${platform.baseUrl}${path}`, { token, body });
  const setVisibility = (assetId: string, body: unknown, token = tokens.owner) =>
    request<Release>('PUT', `${platform.baseUrl}/media/${assetId}/visibility`, { token, body });
  const statusFor = async (who: keyof typeof tokens, assetId: string) =>
    (await api('GET', `/media/${assetId}`, tokens[who])).status;
  /** Where GET /media/{id}/content sends this caller (the Location), or its status when refused. */
  const contentFor = async (who: keyof typeof tokens, assetId: string) => {
    const res = await request('GET', `${platform.baseUrl}/media/${assetId}/content`, {
      token: tokens[who],
      redirect: 'manual',
    });
    return res.status === 302 ? new URL(res.headers.get('location')!) : res.status;
  };
  const events = (assetId: string, type: string) =>
    receiver.requests
      .map(
        (r) => JSON.parse(r.body) as { type: string; assetId: string; eventId: string; visibility?: unknown },
      )
      .filter((e) => e.assetId === assetId && e.type === type);

  /** A ready image of the owner's, uploaded with the visibility given, shared with the reader and the editor. */
  async function readyAsset(upload: Record<string, unknown> = {}): Promise<string> {
    const ticket = await requestUpload(platform.baseUrl, tokens.owner, {
      filename: 'release.png',
      contentType: 'image/png',
      sizeBytes: image.length,
      ...upload,
    });
    expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
    const { assetId } = ticket.body;
    expect(await putBytes(ticket.body as UploadTicket, image)).toBe(200);
    expect((await api('POST', `/media/${assetId}/complete`, tokens.owner)).status).toBe(202);
    const grants = [
      { principal: `user:${READER}`, permission: 'read' },
      { principal: `user:${EDITOR}`, permission: 'write' },
    ];
    expect((await api('PUT', `/media/${assetId}/acl`, tokens.owner, { grants })).status).toBe(200);
    expect((await waitForStatus(platform.baseUrl, tokens.owner, assetId, SETTLED)).status).toBe('ready');
    return assetId;
  }

  beforeAll(async () => {
    platform = await startPlatform();
    tokens = {
      owner: await platform.token(OWNER),
      stranger: await platform.token(STRANGER),
      reader: await platform.token(READER),
      editor: await platform.token(EDITOR),
    };
    image = await noisyPng(48, 32);
    receiver = await startReceiver(() => 200);
    const hook = await api('POST', '/webhooks', tokens.owner, { url: receiver.url });
    expect(hook.status).toBe(201);
    receiver.secret = String(hook.body.secret);
  });
  afterAll(async () => {
    await receiver?.close();
    await platform?.stop();
  });

  it('a draft processes fully for its owner and editors, and is hidden from readers and strangers', async () => {
    const draft = await readyAsset({ visibility: 'draft' });
    expect((await api('GET', `/media/${draft}`, tokens.owner)).body).toMatchObject({
      visibility: 'draft',
      publishAt: null,
      releasedAt: null,
    });
    expect(await statusFor('owner', draft)).toBe(200);
    expect(await statusFor('editor', draft)).toBe(200);
    expect(await statusFor('reader', draft)).toBe(404);
    expect(await statusFor('stranger', draft)).toBe(404);
    // The owner previews it: a signed URL, and its bytes.
    const preview = await contentFor('owner', draft);
    expect(preview).toBeInstanceOf(URL);
    expect((preview as URL).pathname).toBe(`/origin/d/${draft}/original`);
    const bytes = Buffer.from(await (await fetch(preview as URL)).arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(image));

    // Private: grants decide; unlisted: anyone with the id, with a stable unsigned URL; public likewise.
    expect((await setVisibility(draft, { visibility: 'private' })).status).toBe(200);
    expect([await statusFor('reader', draft), await statusFor('stranger', draft)]).toEqual([200, 404]);
    expect((await setVisibility(draft, { visibility: 'unlisted' })).body.visibility).toBe('unlisted');
    expect(await statusFor('stranger', draft)).toBe(200);
    const open = (await contentFor('stranger', draft)) as URL;
    expect(open.pathname).toBe(`/origin/p/${draft}/original`);
    expect((await fetch(open)).status).toBe(200);
    // Readers and strangers may look but not decide who else may.
    expect((await setVisibility(draft, { visibility: 'public' }, tokens.stranger)).status).toBe(403);
    expect((await setVisibility(draft, { visibility: 'public' }, tokens.editor)).status).toBe(403);
  });

  it('a scheduled release: hidden until publishAt, open until unpublishAt, one event each, the workflow keeping time', async () => {
    const assetId = await readyAsset({ visibility: 'draft' });
    const publishAt = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000);
    const unpublishAt = new Date(publishAt.getTime() + 6_000);
    const scheduled = await setVisibility(assetId, {
      visibility: 'public',
      publishAt: publishAt.toISOString(),
      unpublishAt: unpublishAt.toISOString(),
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body).toEqual({
      assetId,
      visibility: 'draft',
      publishAt: publishAt.toISOString(),
      publishAs: 'public',
      unpublishAt: unpublishAt.toISOString(),
      releasedAt: null,
    });
    // Operators find it in the Temporal UI's query language.
    const found = await eventually(
      'the workflow searchable by its release',
      async () => {
        const ids: string[] = [];
        const query = `Visibility = "draft" AND PublishAt > "${new Date(publishAt.getTime() - 1000).toISOString()}"`;
        for await (const wf of platform.temporal.workflow.list({ query })) ids.push(wf.workflowId);
        return ids;
      },
      (ids) => ids.length > 0,
    );
    expect(found).toEqual([`asset-${assetId}`]);

    // Before the release: no token for anyone but the owner, whose own URL stops at the unpublish instant.
    expect(await statusFor('stranger', assetId)).toBe(404);
    expect(await contentFor('reader', assetId)).toBe(404);
    // An editor sees the draft's record, but nobody but the owner gets its bytes before the release.
    expect(await statusFor('editor', assetId)).toBe(200);
    expect(await contentFor('editor', assetId)).toBe(403);
    const ownerUrl = (await contentFor('owner', assetId)) as URL;
    expect(Number(ownerUrl.searchParams.get('expires'))).toBe(Math.floor(unpublishAt.getTime() / 1000));

    const openedAt = await eventually(
      'the release',
      async () => ((await statusFor('stranger', assetId)) === 200 ? Date.now() : 0),
      (t) => t > 0,
    );
    expect(openedAt).toBeGreaterThanOrEqual(publishAt.getTime());
    const publicUrl = (await contentFor('stranger', assetId)) as URL;
    expect(publicUrl.pathname).toBe(`/origin/p/${assetId}/original`);
    expect(sha256(Buffer.from(await (await fetch(publicUrl)).arrayBuffer()))).toBe(sha256(image));
    expect((await api('GET', `/media/${assetId}`, tokens.owner)).body).toMatchObject({
      visibility: 'public',
      publishAt: null,
      releasedAt: publishAt.toISOString(),
      unpublishAt: unpublishAt.toISOString(),
    });

    // At unpublishAt the stable URL stops at once (the origin checks the instant), then the clock turns it private.
    await eventually(
      'the take-down',
      async () => (await fetch(publicUrl)).status,
      (s) => s === 404,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(unpublishAt.getTime());
    await eventually(
      'the asset private again',
      async () => (await api('GET', `/media/${assetId}`, tokens.owner)).body.visibility,
      (v) => v === 'private',
    );
    expect(await statusFor('stranger', assetId)).toBe(404);
    expect(await statusFor('reader', assetId)).toBe(200);

    const published = await eventually(
      'asset.published and asset.unpublished webhooks',
      async () => [events(assetId, 'asset.published'), events(assetId, 'asset.unpublished')],
      ([p, u]) => p!.length > 0 && u!.length > 0,
    );
    expect(published[0]).toEqual([
      expect.objectContaining({
        eventId: `${assetId}/asset.published/${publishAt.toISOString()}`,
        visibility: { from: 'draft', to: 'public' },
      }),
    ]);
    expect(published[1]).toEqual([
      expect.objectContaining({
        eventId: `${assetId}/asset.unpublished/${unpublishAt.toISOString()}`,
        visibility: { from: 'public', to: 'private' },
      }),
    ]);
    expect(receiver.requests.every((r) => r.verified)).toBe(true);
  });

  it('a publishAt in the past publishes now; a new schedule replaces the old one', async () => {
    const assetId = await readyAsset({ visibility: 'private' });
    const res = await setVisibility(assetId, {
      visibility: 'unlisted',
      publishAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(res.body).toMatchObject({ visibility: 'unlisted', publishAt: null, publishAs: null });
    expect(Date.parse(res.body.releasedAt!)).toBeGreaterThan(Date.now() - 10_000);
    expect(await statusFor('stranger', assetId)).toBe(200);

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const rescheduled = await setVisibility(assetId, { visibility: 'public', publishAt: later });
    // Held private until then: scheduling a release takes it out of sight now.
    expect(rescheduled.body).toMatchObject({ visibility: 'private', publishAt: later, publishAs: 'public' });
    expect(await statusFor('stranger', assetId)).toBe(404);
    expect((await api('GET', `/media/${assetId}/visibility`, tokens.owner)).body).toEqual(rescheduled.body);
  });

  it.each([
    [{ visibility: 'secret' }, 'visibility must be one of draft, private, unlisted, public'],
    [{}, 'visibility is required'],
    [{ visibility: 'public', publishAt: 'tomorrow' }, 'publishAt must be an ISO 8601 date-time'],
    [
      { visibility: 'draft', publishAt: new Date(Date.now() + 3_600_000).toISOString() },
      'visibility cannot be draft with a schedule',
    ],
    [
      {
        visibility: 'public',
        publishAt: new Date(Date.now() + 7_200_000).toISOString(),
        unpublishAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
      'unpublishAt must be after publishAt',
    ],
    [
      { visibility: 'public', unpublishAt: new Date(Date.now() - 1_000).toISOString() },
      'unpublishAt must be in the future',
    ],
    [{ visibility: 'public', audience: 'all' }, 'has unknown field(s): audience'],
  ])('refuses %j with 400 naming the field, and changes nothing', async (body, detail) => {
    const assetId = await readyAsset({ visibility: 'private' });
    const res = await setVisibility(assetId, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(String((res.body as unknown as { detail: string }).detail)).toContain(detail);
    expect((await api('GET', `/media/${assetId}/visibility`, tokens.owner)).body).toMatchObject({
      visibility: 'private',
      publishAt: null,
    });
  });

  it('refuses a schedule on a deleted asset (409) and an upload with a bad one (400)', async () => {
    const assetId = await readyAsset({ visibility: 'private' });
    expect((await api('DELETE', `/media/${assetId}`, tokens.owner)).status).toBe(202);
    await eventually(
      'the delete',
      async () => (await api('GET', `/media/${assetId}`, tokens.owner)).body.status,
      (s) => s === 'deleted',
    );
    const res = await setVisibility(assetId, {
      visibility: 'public',
      publishAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(res.status).toBe(409);
    expect(String((res.body as unknown as { detail: string }).detail)).toContain('asset is deleted');

    const bad = await requestUpload(platform.baseUrl, tokens.owner, {
      filename: 'x.png',
      contentType: 'image/png',
      sizeBytes: 10,
      visibility: 'draft',
      unpublishAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('cannot be draft with a schedule');
  });

  it("'*' is not a grant any more: the ACL refuses it and names the visibility instead", async () => {
    const assetId = await readyAsset();
    const res = await api('PUT', `/media/${assetId}/acl`, tokens.owner, {
      grants: [{ principal: '*', permission: 'read' }],
    });
    expect(res.status).toBe(400);
    expect(String(res.body.detail)).toContain('PUT /media/{id}/visibility');
  });
});
