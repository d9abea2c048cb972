import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../api/concurrency-limit';
import { problemHandler } from '../api/problem';
import { createLogger } from '../infra/logger';
import { eventually, request } from './helpers/http';

/** The API's door under a burst: a few requests served at once, the rest in arrival order, a bounded queue. */
describe('concurrencyLimit', () => {
  let server: Server;
  let base: string;
  const arrived: string[] = [];
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  let closedSockets = 0;
  let inFlight = 0;
  let mostInFlight = 0;

  beforeAll(async () => {
    const app = express();
    app.use((req, _res, next) => {
      arrived.push(req.path.slice(1));
      req.socket.once('close', () => (closedSockets += 1));
      next();
    });
    app.use(concurrencyLimit(2, 2));
    // Each request keeps its slot until the test opens its gate.
    app.get('/:name', async (req, res) => {
      const name = req.params.name;
      started.push(name);
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      await new Promise<void>((resolve) => gates.set(name, resolve));
      inFlight -= 1;
      res.json({ name });
    });
    app.use(problemHandler(createLogger('test', 'silent')));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const get = (name: string, signal?: AbortSignal) =>
    fetch(`${base}/${name}`, { signal }).then(async (res) => ({
      status: res.status,
      body: (await res.json()) as { name: string },
    }));
  const arrival = (name: string) =>
    eventually(
      `${name} to arrive`,
      async () => arrived,
      (a) => a.includes(name),
    );
  const open = (name: string) =>
    eventually(`${name} to start`, async () => gates.get(name), Boolean).then((release) => release!());

  it('serves two at once, then the waiting ones in arrival order; a full queue answers 503 at once', async () => {
    const answers = ['a', 'b', 'c', 'd'].map((name) => get(name));
    await eventually(
      'a and b to start',
      async () => [...started],
      (s) => s.length === 2,
    );
    await Promise.all(['c', 'd'].map(arrival));

    const refused = await request('GET', `${base}/e`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toBe('the API is busy: 2 requests in progress, 2 waiting');

    for (const name of ['a', 'b', 'c', 'd']) await open(name);
    expect((await Promise.all(answers)).map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(mostInFlight).toBe(2);
  });

  it('skips a request whose client gave up while it waited', async () => {
    const served = [get('f'), get('g')];
    await Promise.all(['f', 'g'].map(arrival));
    const abandon = new AbortController();
    const abandoned = get('h', abandon.signal).catch((err: Error) => err.name);
    await arrival('h');
    const socketsBefore = closedSockets;
    abandon.abort();
    expect(await abandoned).toBe('AbortError');
    await eventually(
      'the server to see h go',
      async () => closedSockets,
      (n) => n > socketsBefore,
    );
    const next = get('i');
    await arrival('i');

    await open('f');
    await open('i');
    await open('g');
    expect((await Promise.all([...served, next])).map((a) => a.body.name)).toEqual(['f', 'g', 'i']);
    expect(started).not.toContain('h');
  });
});
