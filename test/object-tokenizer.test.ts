import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndOfStreamError } from 'strtok3';
import { ObjectTokenizer, ReadBudgetExceededError } from '../infra/adapters/object-tokenizer';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { freshStore } from './helpers/stack';

/** The tokenizer over ranged GETs, against the run's real S3 server. */
const UINT8 = { len: 1, get: (b: Uint8Array, o: number) => b[o]! };
const UINT32_BE = { len: 4, get: (b: Uint8Array, o: number) => Buffer.from(b).readUInt32BE(o) };

describe('ObjectTokenizer', () => {
  let store: S3ObjectStore;
  const data = randomBytes(300_000);
  const budget = { blockBytes: 4096, maxReads: 1000, maxBytes: 10 * 1024 * 1024 };

  beforeAll(async () => {
    store = await freshStore();
    await store.write('obj', data);
    await store.write('empty', Buffer.alloc(0));
  });
  afterAll(() => store?.destroy());

  it('returns the object bytes at any position and fetches a block only while it is not cached', async () => {
    const t = await ObjectTokenizer.open(store, 'obj', budget);
    expect(t.fileInfo.size).toBe(data.length);
    for (let i = 0; i < 60; i++) {
      const position = Math.floor(Math.random() * (data.length - 10_000));
      const length = 1 + Math.floor(Math.random() * 10_000);
      const target = new Uint8Array(length);
      expect(await t.peekBuffer(target, { position })).toBe(length);
      expect(Buffer.from(target).equals(data.subarray(position, position + length))).toBe(true);
    }
    const whole = new Uint8Array(data.length);
    t.setPosition(0);
    expect(await t.readBuffer(whole)).toBe(data.length);
    expect(Buffer.from(whole).equals(data)).toBe(true);
    // Every block is cached now: reading it all again costs nothing.
    const { reads, bytes } = t.stats;
    expect(await t.peekBuffer(whole, { position: 0 })).toBe(data.length);
    expect(t.stats).toEqual({ reads, bytes });
    expect(t.position).toBe(data.length);
  });

  it('follows strtok3 at the end: fewer bytes when allowed, EndOfStreamError otherwise', async () => {
    const t = await ObjectTokenizer.open(store, 'obj', budget);
    const target = new Uint8Array(100);
    expect(await t.peekBuffer(target, { position: data.length - 40, mayBeLess: true })).toBe(40);
    expect(Buffer.from(target.subarray(0, 40)).equals(data.subarray(-40))).toBe(true);
    await expect(t.peekBuffer(target, { position: data.length - 40 })).rejects.toBeInstanceOf(
      EndOfStreamError,
    );
    expect(await t.ignore(data.length + 1000)).toBe(data.length);
    await expect(t.readToken(UINT8)).rejects.toBeInstanceOf(EndOfStreamError);
    t.setPosition(10);
    expect(await t.readToken(UINT32_BE)).toBe(data.readUInt32BE(10));
  });

  it('opens an empty object with size 0 and refuses a missing key', async () => {
    const t = await ObjectTokenizer.open(store, 'empty', budget);
    expect(t.fileInfo.size).toBe(0);
    expect(await t.peekBuffer(new Uint8Array(8), { mayBeLess: true })).toBe(0);
    await expect(ObjectTokenizer.open(store, 'missing', budget)).rejects.toThrow('no object at missing');
  });

  it('stops at the budget: requests and bytes', async () => {
    const few = await ObjectTokenizer.open(store, 'obj', { ...budget, maxReads: 3 });
    for (const position of [50_000, 100_000]) await few.peekBuffer(new Uint8Array(10), { position });
    await expect(few.peekBuffer(new Uint8Array(10), { position: 200_000 })).rejects.toThrow(
      new ReadBudgetExceededError('3 ranged reads'),
    );
    const small = await ObjectTokenizer.open(store, 'obj', { ...budget, maxBytes: 64 * 1024 });
    await expect(small.peekBuffer(new Uint8Array(100_000), { position: 4096 })).rejects.toThrow(
      new ReadBudgetExceededError(`${64 * 1024} bytes`),
    );
    expect(small.stats).toEqual({ reads: 1, bytes: 4096 });
  });
});
