import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { startClamd, type ClamdHandle } from '../devstack';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import type { Scanner, ScanVerdict } from '../infra/adapters/scanner';
import { Slots } from '../activities/slots';
import { scanBlobActivity } from '../activities/scan-blob';
import { BlobRepository } from '../infra/adapters/blob-repository';
import { IntegrityRepository } from '../infra/adapters/integrity-repository';
import type { ObjectStore } from '../infra/adapters/object-store';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { createDb, type Db } from '../infra/db/database';
import { ScanExclusion } from '../infra/adapters/scan-exclusion';
import { sql } from 'kysely';
import { Barrier } from './helpers/barrier';
import { eventually, request } from './helpers/http';
import { noisyPng } from './helpers/generate-media';
import { putBytes, requestUpload, waitForStatus } from './helpers/media';
import { freshDatabase, freshStore, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

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

let clamd: ClamdHandle;
beforeAll(async () => {
  const dir = path.join(inject('stack').tmpDir, uniqueName('scan-slots'));
  await fs.mkdir(dir, { recursive: true });
  clamd = await startClamd({ dataDir: path.join(dir, 'clamd') });
});
afterAll(async () => {
  await clamd?.stop();
});

describe('SCAN_CONCURRENCY: scans beyond the limit wait their turn', () => {
  let platform: TestPlatform;
  let scanner: WatchedScanner;

  beforeAll(async () => {
    scanner = new WatchedScanner(new ClamdScanner({ host: clamd.host, port: clamd.port }));
    platform = await startPlatform({ scanner, scanConcurrency: 1 });
  });
  afterAll(async () => {
    await platform?.stop();
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

describe('scanBlob: an input the scanner went away on before is scanned alone', () => {
  let db: Db;
  let url: string;
  let store: S3ObjectStore;
  const barriers = new Map<string, Barrier>();
  const reads: string[] = [];

  beforeAll(async () => {
    ({ db, url } = await freshDatabase());
    store = await freshStore();
  });
  afterAll(async () => {
    await db?.destroy();
    store?.destroy();
  });

  /** The real store, each blob's read held at its barrier: the scan holds its slots and lock then, and has not begun. */
  function holdingReads(): ObjectStore {
    const held = Object.create(store) as ObjectStore;
    held.read = async (key, ...rest) => {
      reads.push(key);
      await barriers.get(key)?.pass();
      return store.read(key, ...rest);
    };
    return held;
  }

  /** One worker's scan activity on the real clamd; `on` is its own connection pool, as a process has. */
  const worker = (slots: Slots, on: Db = db, exclusion = false) =>
    scanBlobActivity({
      store: holdingReads(),
      blobs: new BlobRepository(on),
      scanner: new ClamdScanner({ host: clamd.host, port: clamd.port }),
      integrity: new IntegrityRepository(on),
      scanSlots: slots,
      ...(exclusion ? { scanExclusion: new ScanExclusion(on) } : {}),
    });

  async function blobsNamed<N extends string>(...names: N[]) {
    const made = await Promise.all(
      names.map(async (name) => {
        const bytes = randomBytes(64 * 1024);
        const blobKey = `blobs/${uniqueName(name)}`;
        await store.write(blobKey, bytes);
        barriers.set(blobKey, new Barrier());
        return [name, { sha256: createHash('sha256').update(bytes).digest('hex'), blobKey }] as const;
      }),
    );
    return Object.fromEntries(made) as Record<N, { sha256: string; blobKey: string }>;
  }
  const gate = (blob: { blobKey: string }) => barriers.get(blob.blobKey)!;
  const scanOn = (
    scan: ReturnType<typeof worker>,
    blob: { sha256: string; blobKey: string },
    lostBefore?: number,
  ) => new MockActivityEnvironment().run(scan, { ...blob, ...(lostBefore ? { lostBefore } : {}) });
  const manifestsOf = async (...blobs: { sha256: string }[]) =>
    db
      .selectFrom('blob_manifests')
      .select('sha256')
      .where(
        'sha256',
        'in',
        blobs.map((b) => b.sha256),
      )
      .execute();

  it('waits for every scan in flight, keeps later ones out until it is done, and each verdict and manifest lands', async () => {
    const slots = new Slots(2);
    const scan = worker(slots);
    const { a, b, suspect, c } = await blobsNamed('a', 'b', 'suspect', 'c');
    reads.length = 0;

    // Two ordinary scans hold both slots.
    const scans = [scanOn(scan, a), scanOn(scan, b)];
    await Promise.all([gate(a).reached, gate(b).reached]);
    // The suspect waits for both; an ordinary scan after it waits behind it, though a slot frees before.
    scans.push(scanOn(scan, suspect, 1));
    await eventually(
      'the suspect to queue',
      async () => slots.queued,
      (n) => n === 1,
      5_000,
    );
    scans.push(scanOn(scan, c));
    await eventually(
      'the later scan to queue',
      async () => slots.queued,
      (n) => n === 2,
      5_000,
    );

    gate(a).open();
    expect(await scans[0]).toEqual({ verdict: 'clean' });
    expect(slots.queued).toBe(2);
    expect(gate(suspect).used || gate(c).used).toBe(false);

    gate(b).open();
    await gate(suspect).reached;
    expect(await scans[1]).toEqual({ verdict: 'clean' });
    // The suspect is in the scanner alone: the later scan still waits.
    expect(slots.queued).toBe(1);
    expect(gate(c).used).toBe(false);

    gate(suspect).open();
    expect(await scans[2]).toEqual({ verdict: 'clean' });
    await gate(c).reached;
    gate(c).open();
    expect(await scans[3]).toEqual({ verdict: 'clean' });

    expect(reads).toEqual([a, b, suspect, c].map((blob) => blob.blobKey));
    // Each scan's read also made the blob's chunk manifest.
    expect(await manifestsOf(a, b, suspect, c)).toHaveLength(4);
  });

  it("across workers: it waits for another worker's scan in flight, and that worker's next scan waits behind it", async () => {
    // Two workers, each with its own slots and its own connections to the database the platform shares.
    const dbs = [createDb(url, 4), createDb(url, 4)] as const;
    try {
      const first = worker(new Slots(2), dbs[0], true);
      const second = worker(new Slots(2), dbs[1], true);
      const { a, suspect, b } = await blobsNamed('a', 'suspect', 'b');
      const waitingForLock = async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from pg_locks
              where locktype = 'advisory' and not granted`.execute(db)
          ).rows[0]!.n,
        );

      // The first worker scans A; the second worker's suspect waits for it, though its own slots are free.
      const scanA = scanOn(first, a);
      await gate(a).reached;
      const scanSuspect = scanOn(second, suspect, 1);
      await eventually('the suspect to wait for the lock', waitingForLock, (n) => n === 1, 5_000);
      // The first worker's next scan is compatible with A's, but queues behind the suspect.
      const scanB = scanOn(first, b);
      await eventually('the next scan to wait behind it', waitingForLock, (n) => n === 2, 5_000);
      expect(gate(suspect).used || gate(b).used).toBe(false);

      gate(a).open();
      expect(await scanA).toEqual({ verdict: 'clean' });
      await gate(suspect).reached;
      expect(gate(b).used).toBe(false);
      expect(await waitingForLock()).toBe(1);

      gate(suspect).open();
      expect(await scanSuspect).toEqual({ verdict: 'clean' });
      await gate(b).reached;
      gate(b).open();
      expect(await scanB).toEqual({ verdict: 'clean' });
      expect(await manifestsOf(a, suspect, b)).toHaveLength(3);
      expect(await waitingForLock()).toBe(0);
    } finally {
      await Promise.all(dbs.map((d) => d.destroy()));
    }
  });

  it('a worker that stops answering while it holds the lock loses it, and the suspect goes ahead', async () => {
    const holder = new ScanExclusion(db, { idleSeconds: 1, pingMs: 60_000 });
    const { suspect } = await blobsNamed('suspect');
    // A scan whose connection then says nothing, as a frozen worker's would.
    const hung = new Barrier();
    const held = holder.during('shared', () => hung.pass());
    await hung.reached;
    const scan = worker(new Slots(1), db, true);
    gate(suspect).open();
    expect(await scanOn(scan, suspect, 1)).toEqual({ verdict: 'clean' });
    // Postgres ended the silent session; its own work fails with that, and is retried as any scan would be.
    hung.open();
    await expect(held).rejects.toThrow();
  });
});
