import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startClamd, type ClamdHandle } from '../devstack';
import { ClamdReplyError } from '../infra/adapters/clamd-protocol';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import { NoScanner, ScannerLostError, ScannerUnavailableError } from '../infra/adapters/scanner';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { freshStore } from './helpers/stack';

// The EICAR test file, exactly these 68 bytes (our .hdb signature is the MD5 of the whole file: no trailing newline).
const EICAR = Buffer.from(
  ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!', '$H+H*'].join(''),
  'latin1',
);

/** Yields `data` in slices of the given sizes, cycling through them. */
function inChunks(data: Buffer, sizes: number[]): Readable {
  return Readable.from(
    (function* () {
      let offset = 0;
      for (let i = 0; offset < data.length; i++) {
        const size = sizes[i % sizes.length] ?? 1;
        yield data.subarray(offset, offset + size);
        offset += size;
      }
    })(),
  );
}

/** An endless stream of `chunkBytes` random bytes every `intervalMs`; `sent()` counts what was read from it. */
function slowStream(chunkBytes: number, intervalMs: number): { stream: Readable; read(): number } {
  let read = 0;
  const stream = Readable.from(
    (async function* () {
      for (;;) {
        await sleep(intervalMs);
        read += chunkBytes;
        yield randomBytes(chunkBytes);
      }
    })(),
  );
  return { stream, read: () => read };
}

describe('Scanner contract: ClamdScanner on a real clamd', () => {
  let tmpDir: string;
  let clamd: ClamdHandle;
  let smallClamd: ClamdHandle; // StreamMaxLength 1M; stopped by the last test
  let doomedClamd: ClamdHandle; // killed by the test of a scanner lost before its verdict
  let scanner: ClamdScanner;
  let store: S3ObjectStore;

  beforeAll(async () => {
    expect(EICAR.length).toBe(68);
    expect(createHash('md5').update(EICAR).digest('hex')).toBe('44d88612fea8a8f36de82e1278abb02f');
    tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-clamd-'));
    const timed = async (name: string, start: () => Promise<ClamdHandle>) => {
      const t0 = Date.now();
      const handle = await start();
      console.log(`${name} answered PING ${Date.now() - t0} ms after startClamd()`);
      return handle;
    };
    [clamd, doomedClamd, smallClamd, store] = await Promise.all([
      timed('clamd', () => startClamd({ dataDir: path.join(tmpDir, 'clamd') })),
      timed('clamd (to be killed)', () => startClamd({ dataDir: path.join(tmpDir, 'clamd-doomed') })),
      timed('clamd (StreamMaxLength 1M)', () =>
        startClamd({ dataDir: path.join(tmpDir, 'clamd-small'), streamMaxLength: '1M' }),
      ),
      freshStore(),
    ]);
    scanner = new ClamdScanner({ host: clamd.host, port: clamd.port });
  });

  afterAll(async () => {
    store?.destroy();
    await Promise.allSettled([clamd?.stop(), smallClamd?.stop(), doomedClamd?.stop()]);
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
  });

  it('answers ping', async () => {
    await expect(scanner.ping()).resolves.toBeUndefined();
  });

  it('finds the EICAR test file, also when it arrives split across many tiny INSTREAM chunks', async () => {
    const verdict = await scanner.scan(Readable.from([EICAR]));
    expect(verdict.verdict).toBe('infected');
    expect(verdict.verdict === 'infected' && verdict.signature).toContain('Eicar-Test-Signature');

    const tiny = new ClamdScanner({ host: clamd.host, port: clamd.port, chunkBytes: 5 });
    expect(await tiny.scan(inChunks(EICAR, [3, 17, 1, 40]))).toMatchObject({ verdict: 'infected' });
  });

  it('finds nothing in 5 MB of random bytes streamed in odd-sized chunks', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 7);
    const stream = inChunks(data, [1, 4093, 65_537, 333_333, 7, 1_000_003]);
    expect(await scanner.scan(stream)).toEqual({ verdict: 'clean' });
    expect(stream.readableEnded).toBe(true);
  });

  it('finds nothing in an empty stream', async () => {
    expect(await scanner.scan(Readable.from([]))).toEqual({ verdict: 'clean' });
  });

  it('scans an S3 object as it streams out of the store', async () => {
    await store.write('uploads/eicar.com', EICAR, { contentType: 'application/octet-stream' });
    await store.write('uploads/noise.bin', randomBytes(3 * 1024 * 1024 + 1));
    const infected = await scanner.scan(await store.read('uploads/eicar.com'));
    expect(infected.verdict === 'infected' && infected.signature).toContain('Eicar-Test-Signature');
    expect(await scanner.scan(await store.read('uploads/noise.bin'))).toEqual({ verdict: 'clean' });
  });

  it('accepts a stream of exactly StreamMaxLength bytes and refuses one byte more, never calling it clean', async () => {
    const small = new ClamdScanner({ host: smallClamd.host, port: smallClamd.port });
    expect(smallClamd.streamMaxBytes).toBe(1024 * 1024);
    const exact = randomBytes(1024 * 1024);
    expect(await small.scan(inChunks(exact, [100_000]))).toEqual({ verdict: 'clean' });

    const oneMore = Buffer.concat([exact, Buffer.from('x')]);
    const err = await small.scan(Readable.from([oneMore])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClamdReplyError);
    expect(err).toMatchObject({ sizeLimitExceeded: true, reply: 'INSTREAM size limit exceeded. ERROR' });
    expect((err as Error).message).toMatch(/size limit exceeded/);
  });

  it('refuses a stream well beyond StreamMaxLength with clamd reply or, if clamd hangs up first, as unavailable', async () => {
    const small = new ClamdScanner({ host: smallClamd.host, port: smallClamd.port });
    // clamd replies and closes as soon as the quota is used up; a write racing that close may lose the reply
    // (EPIPE/ECONNRESET before it was read). Either way: never clean.
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        small.scan(inChunks(randomBytes(3 * 1024 * 1024), [65_536])).catch((e: unknown) => e),
      ),
    );
    for (const result of results) {
      expect(result).toBeInstanceOf(Error);
      if (result instanceof ClamdReplyError) expect(result.message).toMatch(/size limit exceeded/);
      else expect(result).toBeInstanceOf(ScannerUnavailableError);
    }
    // With the limit known to the scanner, the refusal does not depend on that race.
    const knowing = new ClamdScanner({
      host: smallClamd.host,
      port: smallClamd.port,
      maxStreamBytes: smallClamd.streamMaxBytes,
    });
    const stream = inChunks(randomBytes(3 * 1024 * 1024), [65_536]);
    const err = await knowing.scan(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClamdReplyError);
    expect(err).toMatchObject({ sizeLimitExceeded: true });
    expect((err as Error).message).toMatch(/StreamMaxLength/);
    expect(stream.destroyed).toBe(true);
  });

  it('is unavailable (not clean) when nothing listens, and releases the stream', async () => {
    const port = await freePort();
    const nowhere = new ClamdScanner({ host: '127.0.0.1', port });
    const stream = Readable.from([EICAR]);
    await expect(nowhere.scan(stream)).rejects.toBeInstanceOf(ScannerUnavailableError);
    expect(stream.destroyed).toBe(true);
    await expect(nowhere.ping()).rejects.toBeInstanceOf(ScannerUnavailableError);
  });

  it('is unavailable when the input stream fails mid-scan', async () => {
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(100_000);
        await sleep(20);
        throw new Error('S3 connection reset');
      })(),
    );
    const err = await scanner.scan(failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScannerUnavailableError);
    expect((err as Error).message).toMatch(/S3 connection reset/);
  });

  it('times out (unavailable) when the server accepts but never answers', async () => {
    const server = net.createServer(() => {}); // swallows everything
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const mute = new ClamdScanner({ host: '127.0.0.1', port, timeoutMs: 300 });
      const t0 = Date.now();
      await expect(mute.scan(Readable.from([EICAR]))).rejects.toThrow(/no progress for 300 ms/);
      expect(Date.now() - t0).toBeLessThan(5000);
      await expect(mute.ping()).rejects.toBeInstanceOf(ScannerUnavailableError);
    } finally {
      server.close();
    }
  });

  it('stops at once when aborted, destroying the stream', async () => {
    const { stream } = slowStream(1024, 10);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 200);
    await expect(scanner.scan(stream, { signal: controller.signal })).rejects.toThrow('activity cancelled');
    expect(stream.destroyed).toBe(true);
  });

  it('NoScanner skips', async () => {
    const none = new NoScanner();
    const stream = Readable.from([EICAR]);
    expect(await none.scan(stream)).toEqual({ verdict: 'skipped', reason: 'no scanner configured' });
    await expect(none.ping()).resolves.toBeUndefined();
  });

  it('is lost (ScannerLostError, still unavailable) when clamd dies after the whole stream, before its verdict', async () => {
    const pid = Number(await fs.readFile(path.join(doomedClamd.dataDir, 'clamd.pid'), 'utf8'));
    const doomed = new ClamdScanner({ host: doomedClamd.host, port: doomedClamd.port });
    const input = new PassThrough();
    const scan = doomed.scan(input).catch((e: unknown) => e);
    input.write(randomBytes(64 * 1024));
    while (input.readableLength > 0) await sleep(5);
    // clamd stopped, the stream ends: the end-of-stream chunk goes out (the socket has room) and no verdict can come.
    process.kill(pid, 'SIGSTOP');
    input.end();
    while (!input.readableEnded) await sleep(5);
    for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r));
    // As a scanner crashing on the input: the connection drops with the whole stream in it.
    process.kill(pid, 'SIGKILL');
    const err = await scan;
    expect(err).toBeInstanceOf(ScannerLostError);
    expect(err).toBeInstanceOf(ScannerUnavailableError);
    expect((err as Error).message).toMatch(/after the whole stream \(65536 bytes\), before its verdict/);
  });

  // Last: stops smallClamd.
  it('is unavailable (not clean) when clamd goes away mid-scan', async () => {
    const small = new ClamdScanner({ host: smallClamd.host, port: smallClamd.port });
    const { stream, read } = slowStream(1024, 10); // ~100 KB/s: stays far below the 1M limit
    const scan = small.scan(stream).catch((e: unknown) => e);
    while (read() < 20 * 1024) await sleep(10);
    await smallClamd.stop();
    const err = await scan;
    expect(err).toBeInstanceOf(ScannerUnavailableError);
    // Gone before it had the whole input: an outage, not a sign of what the input does to it.
    expect(err).not.toBeInstanceOf(ScannerLostError);
    expect(stream.destroyed).toBe(true);
  });
});
