import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookClient } from '../infra/adapters/webhook-client';
import { TargetRefused } from '../domain/webhooks/target-policy';
import { noisyPng } from './helpers/generate-media';
import { eventually, request } from './helpers/http';
import { uploadFile, waitForStatus } from './helpers/media';
import { startPlatform, type TestPlatform } from './helpers/stack';
import { startReceiver, type Receiver } from './helpers/webhook-receiver';

interface Registered {
  webhookId: string;
  url: string;
  secret: string;
  createdAt: string;
}

async function register(platform: TestPlatform, token: string, body: unknown) {
  return request<Registered>('POST', `${platform.baseUrl}/webhooks`, { token, body });
}

describe('webhooks', () => {
  let platform: TestPlatform;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await platform?.stop();
  });

  async function receiver(respond: Parameters<typeof startReceiver>[0]) {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  }

  it('registers, lists without secrets, and deletes only for the owner', async () => {
    const [owner, other] = await Promise.all([platform.token('11'), platform.token('12')]);
    const created = await register(platform, owner, { url: 'http://127.0.0.1:9/a?x=1' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'http://127.0.0.1:9/a?x=1', webhookId: expect.any(String) });
    expect(created.body.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(created.body.createdAt).getTime()).not.toBeNaN();

    const listed = await request('GET', `${platform.baseUrl}/webhooks`, { token: owner });
    expect(listed.body).toEqual({
      webhooks: [
        { webhookId: created.body.webhookId, url: created.body.url, createdAt: created.body.createdAt },
      ],
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    expect((await request('GET', `${platform.baseUrl}/webhooks`, { token: other })).body).toEqual({
      webhooks: [],
    });

    const url = `${platform.baseUrl}/webhooks/${created.body.webhookId}`;
    expect((await request('DELETE', url, { token: other })).status).toBe(404);
    expect(
      (await request('DELETE', `${platform.baseUrl}/webhooks/not-a-uuid`, { token: owner })).status,
    ).toBe(404);
    expect((await request('DELETE', url, { token: owner })).status).toBe(204);
    expect((await request('DELETE', url, { token: owner })).status).toBe(404);
    expect((await request('GET', `${platform.baseUrl}/webhooks`, { token: owner })).body).toEqual({
      webhooks: [],
    });
    expect((await request('GET', `${platform.baseUrl}/webhooks`)).status).toBe(401);
  });

  it.each([
    [{}, 'url is required'],
    [{ url: '/relative' }, 'url must be an absolute URL'],
    [{ url: 'ftp://example.com/' }, 'url must be an http or https URL'],
    [{ url: 'file:///etc/passwd' }, 'url must be an http or https URL'],
    [{ url: 'https://user:pass@example.com/' }, 'url must not contain credentials'],
    [{ url: `https://example.com/${'a'.repeat(2048)}` }, 'url must be at most 2048 characters'],
    [{ url: 'https://example.com/', secret: 'mine' }, 'has unknown field(s): secret'],
  ])('refuses %j with 400 naming the problem', async (body, detail) => {
    const res = await register(platform, await platform.token('13'), body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ detail: expect.stringContaining(detail) });
  });

  it('keeps each owner to 20 webhooks, even when registrations race', async () => {
    const token = await platform.token('14');
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) => register(platform, token, { url: `http://127.0.0.1:9/${i}` })),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(20);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(5);
    expect(refused[0]?.body).toMatchObject({ detail: expect.stringContaining('at most 20 webhooks') });
    const listed = await request<{ webhooks: unknown[] }>('GET', `${platform.baseUrl}/webhooks`, { token });
    expect(listed.body.webhooks).toHaveLength(20);
  });

  it('delivers every transition of an asset, signed, retrying failures and stopping at 410', async () => {
    const owner = '21';
    const token = await platform.token(owner);
    const ok = await receiver(() => 204);
    const flaky = await receiver((_, n) => (n <= 2 ? 500 : 200));
    const gone = await receiver(() => 410);
    const hooks = new Map<Receiver, Registered>();
    for (const r of [ok, flaky, gone]) {
      const res = await register(platform, token, { url: r.url });
      expect(res.status).toBe(201);
      r.secret = res.body.secret;
      hooks.set(r, res.body);
    }
    // Another owner's webhook hears nothing of this owner's assets.
    const bystander = await receiver(() => 204);
    bystander.secret = (
      await register(platform, await platform.token('22'), { url: bystander.url })
    ).body.secret;

    const assetId = await uploadFile(
      platform.baseUrl,
      token,
      await noisyPng(64, 48),
      'image/png',
      'hook.png',
    );
    await waitForStatus(platform.baseUrl, token, assetId, ['ready']);
    const events = await platform.db
      .selectFrom('asset_events')
      .selectAll()
      .where('asset_id', '=', assetId)
      .orderBy('occurred_at')
      .orderBy('event_id')
      .execute();
    expect(events.map((e) => e.to_status)).toEqual(
      expect.arrayContaining(['pending', 'processing', 'ready']),
    );
    const eventIds = events.map((e) => e.event_id);

    const deliveries = await eventually(
      'every delivery to settle',
      () =>
        platform.db.selectFrom('webhook_deliveries').selectAll().where('event_id', 'in', eventIds).execute(),
      (rows) => rows.length === eventIds.length * 3 && rows.every((r) => r.status !== 'pending'),
      60_000,
    );
    const rowsOf = (r: Receiver) => deliveries.filter((d) => d.webhook_id === hooks.get(r)?.webhookId);

    // Each event arrives as documented: the payload of its asset_events row, signed, with its id in a header.
    const expected = events.map((e) => ({
      eventId: e.event_id,
      type: 'asset.transition',
      assetId,
      ownerId: owner,
      from: e.from_status,
      to: e.to_status,
      stage: e.stage,
      reason: e.reason,
      occurredAt: new Date(e.occurred_at).toISOString(),
    }));
    const payloads = ok.requests.map((r) => JSON.parse(r.body) as { eventId: string; occurredAt: string });
    expect(ok.requests.every((r) => r.verified && r.contentType === 'application/json')).toBe(true);
    expect(ok.requests.map((r) => r.eventId)).toEqual(payloads.map((p) => p.eventId));
    // Deliveries run in parallel: the status sequence is recovered by occurredAt, as the README advises.
    const ordered = [...payloads].sort(
      (a, b) =>
        a.occurredAt.localeCompare(b.occurredAt) || eventIds.indexOf(a.eventId) - eventIds.indexOf(b.eventId),
    );
    expect(ordered).toEqual(expected);
    expect(
      rowsOf(ok).every((d) => d.status === 'delivered' && d.attempts === 1 && d.last_status_code === 204),
    ).toBe(true);
    expect(
      rowsOf(ok).every((d) => d.delivered_at !== null && d.delivery_id === `${d.event_id}/${d.webhook_id}`),
    ).toBe(true);

    // Two 500s, then 200: the same body three times, each attempt signed afresh, delivered on the third.
    for (const eventId of eventIds) {
      const attempts = flaky.requests.filter((r) => r.eventId === eventId);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
      expect(attempts.every((a) => a.verified)).toBe(true);
    }
    expect(
      rowsOf(flaky).every((d) => d.status === 'delivered' && d.attempts === 3 && d.last_status_code === 200),
    ).toBe(true);

    // 410 Gone ends the delivery after one attempt.
    expect(gone.requests.map((r) => r.eventId).sort()).toEqual([...eventIds].sort());
    expect(rowsOf(gone).map((d) => [d.status, d.attempts, d.last_status_code, d.last_error])).toEqual(
      eventIds.map(() => ['failed', 1, 410, 'receiver answered 410']),
    );

    expect(bystander.requests).toEqual([]);
  }, 90_000);
});

describe('webhook targets with the default config (private networks refused)', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startPlatform({ worker: false, allowPrivateNetworks: false });
  });
  afterAll(async () => platform?.stop());

  it.each([
    ['http://127.0.0.1/', '127.0.0.1 is a loopback address'],
    ['http://localhost:8080/hook', 'is a loopback address'],
    ['http://[::1]/', '::1 is a loopback address'],
    ['http://2130706433/', '127.0.0.1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is a loopback address'],
    ['http://0.0.0.0:3000/', '0.0.0.0 is an unspecified address'],
    ['https://10.1.2.3/', '10.1.2.3 is a private address'],
    ['https://192.168.0.10/', '192.168.0.10 is a private address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
    ['http://[fe80::1]/', 'fe80::1 is a link-local address'],
    ['http://no-such-host.invalid/', 'no-such-host.invalid does not resolve'],
  ])('refuses %s at registration (400)', async (url, detail) => {
    const res = await register(platform, await platform.token('31'), { url });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errors: [{ field: 'url', message: expect.stringContaining(detail) }] });
  });

  it('accepts a public address', async () => {
    const res = await register(platform, await platform.token('31'), { url: 'https://93.184.215.14/hook' });
    expect(res.status).toBe(201);
  });

  it('refuses at delivery a name that now resolves to loopback, without sending anything', async () => {
    const target = await startReceiver(() => 204);
    try {
      const client = new WebhookClient({ allowPrivateNetworks: false });
      const post = (url: string) => client.post(url, { 'content-type': 'application/json' }, '{}');
      // "localhost" stands for a registered public name re-pointed at an internal address (DNS rebinding).
      await expect(post(`http://localhost:${target.port}/hook`)).rejects.toBeInstanceOf(TargetRefused);
      await expect(post(`http://127.0.0.1:${target.port}/hook`)).rejects.toThrow('loopback');
      expect(target.requests).toEqual([]);
      // The same client with private networks allowed reaches it: the refusal above was the rule, not the network.
      const allowed = new WebhookClient({ allowPrivateNetworks: true });
      await expect(allowed.post(`http://127.0.0.1:${target.port}/hook`, {}, '{}')).resolves.toEqual({
        status: 204,
      });
    } finally {
      await target.close();
    }
  });
});
