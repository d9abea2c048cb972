import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, geoip2Module, nginxTempPaths, runNginx, type NginxHandle } from '../devstack';
import { queryString, signQuery } from '../domain/delivery/secure-link';
import { EDGE_GEOIP, interpolate, mountedConfig, repoPath } from './helpers/compose-file';
import { getFrom } from './helpers/http';
import { countryRecord, writeMmdb } from './helpers/mmdb-writer';

const run = promisify(execFile);

/**
 * docker-compose's edge as its image runs it, on this machine's Debian nginx and geoip2 module (Docker is not
 * needed): the image's entry point (scripts/edge-geoip.sh) writes the lookup from the mounted directory, nginx loads
 * the module as Debian's modules-enabled does, and compose's edge-config is included in the http block as the image's
 * conf.d is. A MaxMind database generated here places loopback source addresses in countries; the API's origin is a
 * stand-in that answers 200 and notes the country the edge told it.
 */
const DE = '127.0.0.2';
const US = '127.0.0.3';
const NOWHERE = '127.0.0.5'; // in no network of the database
const SECRET = interpolate('${DELIVERY_SIGNING_SECRET:-local-only-insecure-delivery-secret}');

interface Answer {
  status: number;
  body: string;
  /** The X-Viewer-Country the origin was sent; undefined when the edge answered itself. */
  toldOrigin: string | undefined;
}

let origin: http.Server;
let originPort: number;
const told = new Map<string, string>();
const edges: NginxHandle[] = [];

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    told.set(req.url!, String(req.headers['x-viewer-country'] ?? ''));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('from the origin');
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as { port: number }).port;
});

afterAll(async () => {
  await Promise.all(edges.map((e) => e.stop()));
  await new Promise((resolve) => origin.close(resolve));
});

/** The edge container's start: the entry point on a GEOIP_DIR with or without a database, then nginx. */
async function composeEdge(withDatabase: boolean): Promise<{ url: string; entryLog: string }> {
  const dir = await fs.mkdtemp(path.join(inject('stack').tmpDir, 'compose-edge-'));
  const geoDir = path.join(dir, 'geoip');
  await fs.mkdir(geoDir);
  if (withDatabase) {
    await fs.writeFile(
      path.join(geoDir, 'GeoLite2-Country.mmdb'),
      writeMmdb({
        [`${DE}/32`]: countryRecord('DE', 'Germany'),
        [`${US}/32`]: countryRecord('US', 'United States'),
      }),
    );
  }
  const lookup = path.join(dir, 'assetline-geoip.conf');
  const entry = await run('sh', [repoPath('scripts/edge-geoip.sh'), 'true'], {
    env: { ...process.env, ASSETLINE_GEOIP_DIR: geoDir, ASSETLINE_GEOIP_CONF: lookup },
  });

  const port = await freePort();
  // Only what differs outside the container: the include's path, the API's address and the listening address.
  const swaps: [string | RegExp, string][] = [
    [`include ${EDGE_GEOIP.conf};`, `include ${lookup};`],
    [/server api:\d+;/, `server 127.0.0.1:${originPort};`],
    [/listen 8080;/, `listen 127.0.0.1:${port};`],
  ];
  let conf = interpolate(mountedConfig('edge', '/etc/nginx/conf.d/default.conf'));
  for (const [from, to] of swaps) {
    expect(
      conf.match(typeof from === 'string' ? new RegExp(escape(from), 'g') : from)?.length,
      String(from),
    ).toBe(1);
    conf = conf.replace(from, to);
  }
  const edgeConf = path.join(dir, 'edge.conf');
  await fs.writeFile(edgeConf, conf);
  const edge = await runNginx({
    dataDir: path.join(dir, 'nginx'),
    port,
    render: ({ dataDir, user }) => `load_module ${geoip2Module()};
daemon off;
${user ? `user ${user};` : ''}
pid ${dataDir}/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log ${dataDir}/access.log;
${nginxTempPaths(dataDir)}
  include ${edgeConf};
}
`,
  });
  edges.push(edge);
  return { url: edge.url, entryLog: entry.stderr };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A signed URL of a fresh asset with the given policy, fetched from `from`. */
async function fetchSigned(
  edgeUrl: string,
  from: string,
  geo = '',
  headers: Record<string, string> = {},
  tamper = (query: string) => query,
): Promise<Answer> {
  const assetId = randomUUID();
  const query = tamper(queryString(signQuery(assetId, Math.floor(Date.now() / 1000) + 600, SECRET, geo)));
  const pathname = `/d/${assetId}/poster.jpg`;
  const answer = await getFrom(from, `${edgeUrl}${pathname}?${query}`, headers);
  return {
    status: answer.status,
    body: answer.body.toString('utf8'),
    toldOrigin: told.get(`/origin${pathname}?${query}`),
  };
}

const refusedIn = (answer: Answer, country: string) => {
  expect(answer.status, answer.body).toBe(451);
  expect(JSON.parse(answer.body)).toMatchObject({ status: 451, country });
  expect(answer.toldOrigin).toBeUndefined();
};

describe("docker-compose's edge: regional rights as its image runs them", () => {
  it('with a database in GEOIP_DIR: viewers are located by address, and the origin is told where', async () => {
    const { url, entryLog } = await composeEdge(true);
    expect(entryLog).toContain('GeoLite2-Country.mmdb');

    const fromDE = await fetchSigned(url, DE, 'allow.DE');
    expect(fromDE.status, fromDE.body).toBe(200);
    expect(fromDE.body).toBe('from the origin');
    expect(fromDE.toldOrigin).toBe('DE');
    refusedIn(await fetchSigned(url, US, 'allow.DE'), 'US');
    refusedIn(await fetchSigned(url, NOWHERE, 'allow.DE'), 'unknown');
    refusedIn(await fetchSigned(url, US, 'block.US'), 'US');
    expect((await fetchSigned(url, DE, 'block.US')).status).toBe(200);

    // A viewer's own claim counts for nothing, and never reaches the origin.
    refusedIn(
      await fetchSigned(url, US, 'allow.DE', { 'x-viewer-country': 'DE', 'cf-ipcountry': 'DE' }),
      'US',
    );
    const claimed = await fetchSigned(url, DE, 'block.US', { 'x-viewer-country': 'US' });
    expect(claimed.status).toBe(200);
    expect(claimed.toldOrigin).toBe('DE');
  });

  it('without one: nobody is located, so an allow list refuses everyone and a block list lets everyone in', async () => {
    const { url, entryLog } = await composeEdge(false);
    expect(entryLog).toContain('no GeoIP database');

    refusedIn(await fetchSigned(url, DE, 'allow.DE'), 'unknown');
    const blocked = await fetchSigned(url, US, 'block.US');
    expect(blocked.status, blocked.body).toBe(200);
    expect(blocked.toldOrigin).toBe('');
    expect((await fetchSigned(url, DE)).status).toBe(200);
    // The token still binds the policy: stripping it makes the token wrong.
    const stripped = await fetchSigned(url, DE, 'allow.DE', {}, (q) => q.replace('&geo=allow.DE', ''));
    expect(stripped.status).toBe(403);
    expect(stripped.toldOrigin).toBeUndefined();
  });
});
