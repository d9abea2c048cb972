import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startClamd, type ClamdHandle } from '../devstack';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import type { Scanner, ScanVerdict } from '../infra/adapters/scanner';
import { Slots } from '../activities/slots';
import { request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { putBytes, requestUpload, waitForStatus } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

describe('Slots', () => {
  it('hands slots out in arrival order, and a release frees exactly one', async () => {
    const slots = new Slots(1);
    const order: number[] = [];
    const first = await slots.acquire();
    const waiters = [2, 3].map((n) => slots.acquire().then((release) => (order.push(n), release)));
    expect(slots.queued).toBe(2);
    first();
    first(); // released twice: still one slot
    const second = await waiters[0]!;
    expect(order).toEqual([2]);
    expect(slots.queued).toBe(1);
    second();
    (await waiters[1]!)();
    expect(order).toEqual([2, 3]);
  });

  it('a waiter whose signal aborts stops waiting and takes no slot', async () => {
    const slots = new Slots(1);
    const held = await slots.acquire();
    const abort = new AbortController();
    const gaveUp = slots.acquire(abort.signal);
    const next = slots.acquire();
    abort.abort(new Error('cancelled'));
    await expect(gaveUp).rejects.toThrow('cancelled');
    held();
    (await next)();
    expect(slots.queued).toBe(0);
    await expect(slots.acquire(abort.signal)).rejects.toThrow('cancelled');
  });

  it('a waiter for every slot (a suspect input, alone) waits for all holders, and later arrivals wait behind it', async () => {
    const slots = new Slots(3);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const alone = slots.acquire(undefined, 3).then((release) => (order.push('alone'), release));
    // A slot is free, but the suspect arrived first: the newcomer does not slip in ahead of it.
    const later = slots.acquire().then((release) => (order.push('later'), release));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    a();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    b();
    const releaseAlone = await alone;
    expect(order).toEqual(['alone']);
    releaseAlone();
    (await later)();
    expect(order).toEqual(['alone', 'later']);
    expect(slots.queued).toBe(0);
  });

  it('a waiter for many that gives up lets those behind it in at once', async () => {
    const slots = new Slots(2);
    const held = await slots.acquire();
    const abort = new AbortController();
    const alone = slots.acquire(abort.signal, 2);
    const next = slots.acquire();
    abort.abort(new Error('cancelled'));
    await expect(alone).rejects.toThrow('cancelled');
    (await next)();
    held();
    expect(slots.queued).toBe(0);
  });
});

/** The real clamd, slowed and watched: how many scans are in it at once. */
class WatchedScanner implements Scanner {
  readonly name = 'clamd';
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly clamd: ClamdScanner) {}
  ping() {
    return this.clamd.ping();
  }
  async scan(stream: Readable, opts?: { signal?: AbortSignal }): Promise<ScanVerdict> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Long enough that scans arriving together would overlap without the limit.
      await new Promise((r) => setTimeout(r, 400));
      return await this.clamd.scan(stream, opts);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe('SCAN_CONCURRENCY: scans beyond the limit wait their turn', () => {
  let clamd: ClamdHandle;
  let platform: TestPlatform;
  let scanner: WatchedScanner;

  beforeAll(async () => {
    const dir = path.join(inject('stack').tmpDir, uniqueName('scan-slots'));
    await fs.mkdir(dir, { recursive: true });
    clamd = await startClamd({ dataDir: path.join(dir, 'clamd') });
    scanner = new WatchedScanner(new ClamdScanner({ host: clamd.host, port: clamd.port }));
    platform = await startPlatform({ scanner, scanConcurrency: 1 });
  });
  afterAll(async () => {
    await platform?.stop();
    await clamd?.stop();
  });

  it('four uploads completed together are scanned one at a time, and all become ready and clean', async () => {
    const token = await platform.token('8901');
    const images = await Promise.all([40, 41, 42, 43].map((side) => noisyPng(side, side)));
    const tickets = await Promise.all(
      images.map((data, i) =>
        requestUpload(platform.baseUrl, token, {
          filename: `s${i}.png`,
          contentType: 'image/png',
          sizeBytes: data.length,
        }),
      ),
    );
    await Promise.all(tickets.map((t, i) => putBytes(t.body, images[i]!)));
    await Promise.all(
      tickets.map((t) => request('POST', `${platform.baseUrl}/media/${t.body.assetId}/complete`, { token })),
    );
    for (const t of tickets) {
      const asset = await waitForStatus(platform.baseUrl, token, t.body.assetId, ['ready'], 60_000);
      expect(asset).toMatchObject({ status: 'ready', scan: { status: 'clean' } });
    }
    expect(scanner.maxInFlight).toBe(1);
  });
});
