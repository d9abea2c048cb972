import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNginx, type NginxHandle } from '../devstack/nginx';
import { freePort } from '../devstack/ports';
import { ViewerCountry } from '../api/viewer-country';
import { MmdbCountryLookup } from '../infra/adapters/geoip-country';
import { getFrom, request, type AnswerFrom as Answer } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { SETTLED, requestUpload, sha256, uploadFile, waitForStatus } from './helpers/media';
import { countryRecord, writeMmdb } from './helpers/mmdb-writer';
import { DELIVERY_SECRET, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/**
 * Regional rights through the real nginx edge (geoip2 module, a MaxMind database generated here) and the real API:
 * every loopback source address below is a country in that database, and requests are bound to it.
 */
const DE = '127.0.0.2';
const US = '127.0.0.3';
const FR = '127.0.0.4';
const NOWHERE = '127.0.0.5'; // in no network of the database
const PROXY = '127.0.0.1'; // GEO_TRUSTED_PROXIES' default

describe('regional rights: policy API, viewer country, 451 at the edge and the origin', () => {
  let platform: TestPlatform;
  let nginx: NginxHandle;
  let owner: string;
  let image: Buffer;
  let imageId: string;
  /** The PURGE requests the platform sent to CDN_PURGE_URL. */
  const purges: string[] = [];
  let purgeReceiver: http.Server;

  beforeAll(async () => {
    purgeReceiver = http.createServer((req, res) => {
      if (req.method === 'PURGE') purges.push(req.url!);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => purgeReceiver.listen(0, '127.0.0.1', resolve));
    const purgePort = (purgeReceiver.address() as { port: number }).port;
    const dir = path.join(inject('stack').tmpDir, uniqueName('regions'));
    await fs.mkdir(dir, { recursive: true });
    const database = path.join(dir, 'country.mmdb');
    await fs.writeFile(
      database,
      writeMmdb({
        [`${DE}/32`]: countryRecord('DE', 'Germany'),
        [`${US}/32`]: countryRecord('US', 'United States'),
        [`${FR}/32`]: countryRecord('FR', 'France'),
      }),
    );
    const edgePort = await freePort();
    platform = await startPlatform({
      deliveryBaseUrl: `http://127.0.0.1:${edgePort}`,
      cdnPurgeUrl: `http://127.0.0.1:${purgePort}/purge`,
      viewerCountry: new ViewerCountry({
        trustedProxies: [
          { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
          { address: '::1', prefix: 128, family: 'ipv6' },
        ],
        countryHeader: 'CF-IPCountry',
        lookup: MmdbCountryLookup.open(database),
      }),
    });
    nginx = await startNginx({
      dataDir: path.join(dir, 'nginx'),
      port: edgePort,
      originUrl: platform.baseUrl,
      signingSecret: DELIVERY_SECRET,
      geo: { databasePath: database },
    });
    owner = await platform.token('5001');
    image = await noisyPng(64, 48);
    imageId = await uploadFile(platform.baseUrl, owner, image, 'image/png', 'regions.png');
    expect(await waitForStatus(platform.baseUrl, owner, imageId, SETTLED, 240_000)).toMatchObject({
      status: 'ready',
    });
  }, 300_000);
  afterAll(async () => {
    await nginx?.stop();
    await platform?.stop();
    purgeReceiver?.closeAllConnections();
    purgeReceiver?.close();
  });

  const setPolicy = (body: unknown, token = owner, id = imageId) =>
    request('PUT', `${platform.baseUrl}/media/${id}/regions`, { token, body });

  /** A delivery URL as a client is handed it (through the edge). */
  async function deliveryUrl(): Promise<URL> {
    const res = await fetch(`${platform.baseUrl}/media/${imageId}/content`, {
      headers: { authorization: `Bearer ${owner}` },
      redirect: 'manual',
    });
    expect(res.status, await res.clone().text()).toBe(302);
    return new URL(res.headers.get('location')!);
  }
  const originUrl = (edge: URL) => `${platform.baseUrl}/origin${edge.pathname}${edge.search}`;

  function expectRefused(answer: Answer, country: string, by: 'edge' | 'origin') {
    expect(answer.status, answer.body.toString()).toBe(451);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    const problem = answer.json();
    expect(problem).toMatchObject({ status: 451, title: 'Unavailable For Legal Reasons', country });
    expect(problem.detail).toContain(`(${country})`);
    // Who answered: the edge's instance is the client's path, the origin's its own.
    expect(String(problem.instance)).toMatch(by === 'edge' ? /^\/d\// : /^\/origin\/d\//);
  }
  const expectServed = (answer: Answer) => {
    expect(answer.status, answer.body.toString()).toBe(200);
    expect(sha256(answer.body)).toBe(sha256(image));
  };

  it('allow [DE]: bytes in Germany; 451 problem+json at the edge in the US and for an unknown address', async () => {
    const set = await setPolicy({ allow: ['de'] });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({ assetId: imageId, regions: { mode: 'allow', countries: ['DE'] } });
    const shown = await request('GET', `${platform.baseUrl}/media/${imageId}`, { token: owner });
    expect(shown.body.regions).toEqual({ mode: 'allow', countries: ['DE'] });

    const url = await deliveryUrl();
    expect(url.searchParams.get('geo')).toBe('allow.DE');
    expectServed(await getFrom(DE, url.href));
    expectRefused(await getFrom(US, url.href), 'US', 'edge');
    expectRefused(await getFrom(NOWHERE, url.href), 'unknown', 'edge');
    expectRefused(await getFrom(FR, url.href), 'FR', 'edge');
  });

  it('purges the edge when the policy changes, not when a change is refused', async () => {
    const ofImage = () => purges.filter((p) => p.includes(imageId));
    const before = ofImage().length;
    expect((await setPolicy({ allow: ['FR'] })).status).toBe(200);
    expect(ofImage().slice(before).sort()).toEqual([`/purge/d/${imageId}/*`, `/purge/p/${imageId}/*`]);
    expect((await setPolicy({ allow: ['ZZ'] })).status).toBe(400);
    expect(ofImage().length).toBe(before + 2);
  });

  it('block [US]: the reverse', async () => {
    expect((await setPolicy({ block: ['US'] })).body).toMatchObject({
      regions: { mode: 'block', countries: ['US'] },
    });
    const url = await deliveryUrl();
    expect(url.searchParams.get('geo')).toBe('block.US');
    expectRefused(await getFrom(US, url.href), 'US', 'edge');
    expectServed(await getFrom(DE, url.href));
    expectServed(await getFrom(NOWHERE, url.href));
  });

  it('GET /media/{id}/content issues no URL to a viewer it knows is refused (a trusted proxy says the country)', async () => {
    expect((await setPolicy({ block: ['US'] })).status).toBe(200);
    const content = (country: string) =>
      fetch(`${platform.baseUrl}/media/${imageId}/content`, {
        headers: { authorization: `Bearer ${owner}`, 'cf-ipcountry': country },
        redirect: 'manual',
      });
    const refused = await content('US');
    expect(refused.status).toBe(451);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ country: 'US', title: 'Unavailable For Legal Reasons' });
    expect(refused.headers.get('location')).toBeNull();
    const allowed = await content('DE');
    expect(allowed.status).toBe(302);
    expect(new URL(allowed.headers.get('location')!).searchParams.get('geo')).toBe('block.US');
  });

  it('a token whose policy was stripped or edited is refused (403) at the edge and at the origin', async () => {
    await setPolicy({ allow: ['DE'] });
    const url = await deliveryUrl();
    const stripped = new URL(url);
    stripped.searchParams.delete('geo');
    const edited = new URL(url);
    edited.searchParams.set('geo', 'allow.DE.US');
    const flipped = new URL(url);
    flipped.searchParams.set('geo', 'block.DE');
    for (const forged of [stripped, edited, flipped]) {
      expect((await getFrom(US, forged.href)).status, forged.search).toBe(403);
      expect((await getFrom(US, originUrl(forged))).status, forged.search).toBe(403);
    }
  });

  it('believes a country header only from a trusted proxy, at the edge and at the origin', async () => {
    await setPolicy({ allow: ['DE'] });
    const url = await deliveryUrl();
    const claimDE = { 'CF-IPCountry': 'DE', 'X-Viewer-Country': 'DE' };
    // From the US, claiming Germany: the claim is ignored (and the edge overwrites it for the origin).
    expectRefused(await getFrom(US, url.href, claimDE), 'US', 'edge');
    expectRefused(await getFrom(US, originUrl(url), claimDE), 'US', 'origin');
    expectRefused(await getFrom(NOWHERE, url.href, { 'CF-IPCountry': 'DE' }), 'unknown', 'edge');
    // A trusted proxy (loopback) saying Germany, in either header.
    expectServed(await getFrom(PROXY, url.href, { 'CF-IPCountry': 'DE' }));
    expectServed(await getFrom(PROXY, originUrl(url), { 'X-Viewer-Country': 'DE' }));
    expectServed(await getFrom(PROXY, originUrl(url), { 'CF-IPCountry': 'DE' }));
    // ... saying the US, or nothing (its own address is not the viewer's).
    expectRefused(await getFrom(PROXY, url.href, { 'CF-IPCountry': 'US' }), 'US', 'edge');
    expectRefused(await getFrom(PROXY, url.href), 'unknown', 'edge');
    expectRefused(await getFrom(PROXY, originUrl(url), { 'X-Viewer-Country': 'US' }), 'US', 'origin');
  });

  it('the origin reached directly refuses too, and enforces the current policy over an older token', async () => {
    await setPolicy({ allow: ['DE', 'FR'] });
    const url = await deliveryUrl();
    expect(url.searchParams.get('geo')).toBe('allow.DE.FR');
    expectServed(await getFrom(DE, originUrl(url)));
    expectRefused(await getFrom(US, originUrl(url)), 'US', 'origin');
    expectRefused(await getFrom(NOWHERE, originUrl(url)), 'unknown', 'origin');

    // France is dropped: the old token still names it, so the edge lets a French viewer through; the origin
    // checks the asset's policy now and refuses.
    await setPolicy({ allow: ['DE'] });
    expectRefused(await getFrom(FR, url.href), 'FR', 'origin');
    // The edge passes that viewer on, but tells the origin the country itself: a forged claim does not get through.
    expectRefused(
      await getFrom(FR, url.href, { 'X-Viewer-Country': 'DE', 'CF-IPCountry': 'DE' }),
      'FR',
      'origin',
    );
    expectServed(await getFrom(DE, url.href));
  });

  it('clearing the policy ({}) serves everyone with a URL that binds none', async () => {
    const cleared = await setPolicy({});
    expect(cleared.body).toEqual({ assetId: imageId, regions: null });
    expect(
      (await request('GET', `${platform.baseUrl}/media/${imageId}`, { token: owner })).body.regions,
    ).toBe(null);
    const url = await deliveryUrl();
    expect(url.searchParams.has('geo')).toBe(false);
    for (const from of [DE, US, NOWHERE]) expectServed(await getFrom(from, url.href));
  });

  it('takes a policy with the upload request too, refusing a bad one before any row exists', async () => {
    const upload = (regions: unknown) =>
      requestUpload(platform.baseUrl, owner, {
        filename: 'r.png',
        contentType: 'image/png',
        sizeBytes: 100,
        regions,
      });
    const ticket = await upload({ block: ['us', 'RU'] });
    expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);
    const shown = await request('GET', `${platform.baseUrl}/media/${ticket.body.assetId}`, { token: owner });
    expect(shown.body.regions).toEqual({ mode: 'block', countries: ['RU', 'US'] });

    const before = await platform.db
      .selectFrom('media_assets')
      .select(platform.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    for (const [regions, field] of [
      [{ allow: ['ZZ'] }, 'regions.allow.0'],
      [{ allow: ['DE'], block: ['US'] }, 'regions.block'],
      [{ block: [] }, 'regions.block'],
    ] as const) {
      const refused = await upload(regions);
      expect(refused.status, JSON.stringify(refused.body)).toBe(400);
      expect(
        (refused.body as unknown as { errors: { field: string }[] }).errors.map((e) => e.field),
      ).toContain(field);
    }
    const after = await platform.db
      .selectFrom('media_assets')
      .select(platform.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('refuses hostile policies with 400 naming the field, strangers with 404, readers with 403, deleted assets with 409', async () => {
    const invalid = async (body: unknown, field: string) => {
      const res = await setPolicy(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
    };
    await setPolicy({ block: ['RU'] });
    await invalid({ allow: ['DE', 'ZZ'] }, 'allow.1');
    await invalid({ block: ['GER'] }, 'block.0');
    await invalid({ allow: ['DE'], block: ['US'] }, 'block');
    await invalid({ allow: [] }, 'allow');
    await invalid({ allow: null }, 'allow');
    await invalid({ block: Array.from({ length: 251 }, () => 'DE') }, 'block');
    await invalid({ mode: 'allow', countries: ['DE'] }, 'request body');
    // Nothing refused changed the policy.
    const shown = await request('GET', `${platform.baseUrl}/media/${imageId}`, { token: owner });
    expect(shown.body.regions).toEqual({ mode: 'block', countries: ['RU'] });

    const stranger = await platform.token('5002');
    const reader = await platform.token('5003');
    const granted = await request('PUT', `${platform.baseUrl}/media/${imageId}/acl`, {
      token: owner,
      body: { grants: [{ principal: 'user:5003', permission: 'write' }] },
    });
    expect(granted.status).toBe(200);
    expect((await setPolicy({ allow: ['DE'] }, stranger)).status).toBe(404);
    expect((await setPolicy({ allow: ['DE'] }, reader)).status).toBe(403);

    const doomed = await uploadFile(platform.baseUrl, owner, await noisyPng(16, 16), 'image/png', 'd.png');
    await waitForStatus(platform.baseUrl, owner, doomed, SETTLED, 120_000);
    expect((await request('DELETE', `${platform.baseUrl}/media/${doomed}`, { token: owner })).status).toBe(
      202,
    );
    await waitForStatus(platform.baseUrl, owner, doomed, ['deleted'], 60_000);
    const refused = await setPolicy({ allow: ['DE'] }, owner, doomed);
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
  }, 180_000);
});
