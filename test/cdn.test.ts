import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecureLinkCdn } from '../infra/adapters/secure-link-cdn';
import { signedPrefix, verifySecureLink } from '../domain/delivery/secure-link';
import { freePort } from '../devstack/ports';
import { createLogger } from '../infra/logger';

const ID = '0b6f1c2e-1111-4222-8333-444455556666';
const SECRET = 'cdn-test-secret-0123456789';

/** SecureLinkCdn against a real HTTP server standing in for the edge's purge endpoint and cached URLs. */
describe('SecureLinkCdn', () => {
  const seen: { method: string; url: string }[] = [];
  let server: http.Server;
  let base: string;
  let purgeStatus = 200;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '' });
      if (req.method === 'PURGE') return void res.writeHead(purgeStatus).end();
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      res.writeHead(req.url === '/broken' ? 500 : 200).end('x'.repeat(100_000));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const cdn = (purgeUrl?: string) =>
    new SecureLinkCdn({
      baseUrl: 'https://edge.example/',
      signingSecret: SECRET,
      ttlSeconds: 600,
      purgeUrl,
      logger: createLogger('test', 'silent'),
      timeoutMs: 500,
    });

  it('signs a URL for the asset prefix, valid for the TTL; a public one is stable and unsigned', () => {
    const url = new URL(
      cdn().deliveryUrl(ID, 'hls/master.m3u8', { open: false, regions: null, notAfter: null }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`https://edge.example/d/${ID}/hls/master.m3u8`);
    const expires = Number(url.searchParams.get('expires'));
    expect(expires - Date.now() / 1000).toBeGreaterThan(595);
    expect(expires - Date.now() / 1000).toBeLessThanOrEqual(600);
    const verdict = verifySecureLink(signedPrefix(ID), url.searchParams.get('md5'), String(expires), SECRET);
    expect(verdict).toBe('valid');
    expect(cdn().deliveryUrl(ID, 'r/poster', { open: true, regions: null, notAfter: null })).toBe(
      `https://edge.example/p/${ID}/r/poster`,
    );
  });

  it('purges nothing without CDN_PURGE_URL, and both prefixes with it; a refusal throws', async () => {
    seen.length = 0;
    await cdn().purge(ID);
    expect(seen).toEqual([]);

    await cdn(`${base}/purge/`).purge(ID);
    expect(seen).toEqual([
      { method: 'PURGE', url: `/purge/d/${ID}/*` },
      { method: 'PURGE', url: `/purge/p/${ID}/*` },
    ]);
    purgeStatus = 404; // nothing cached: fine
    await expect(cdn(`${base}/purge`).purge(ID)).resolves.toBeUndefined();
    purgeStatus = 503;
    await expect(cdn(`${base}/purge`).purge(ID)).rejects.toThrow(/answered 503/);
  });

  it('warms every URL, and a failing, slow or unreachable one neither throws nor stops the others', async () => {
    seen.length = 0;
    const dead = `http://127.0.0.1:${await freePort()}/gone`;
    const started = Date.now();
    await cdn().warm([`${base}/a`, `${base}/broken`, `${base}/slow`, dead, `${base}/b`]);
    expect(Date.now() - started).toBeLessThan(1900);
    expect(seen.map((s) => s.url).sort()).toEqual(['/a', '/b', '/broken', '/slow']);
  });
});
