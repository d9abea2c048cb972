import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ChunkHasher, sha256OfStream } from '../activities/hashing/hash';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A stream of `data` in pieces of uneven sizes, as a socket delivers them. */
function pieces(data: Buffer): Readable {
  const out: Buffer[] = [];
  for (let at = 0, n = 1; at < data.length; n = (n * 7919) % 300_001) {
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(out);
}

describe('hashing', () => {
  it('hashes streams on the hashing thread to the same SHA-256, several at once, across batch edges', async () => {
    const inputs = [0, 1, 1024 * 1024, 1024 * 1024 + 1, 9 * 1024 * 1024 + 12345].map((n) => randomBytes(n));
    const results = await Promise.all(inputs.map((data) => sha256OfStream(pieces(data))));
    expect(results).toEqual(inputs.map((data) => ({ sha256: sha256(data), bytes: data.length })));
  });

  it('forty hashes at once share the in-flight allowance and each gets its own digest', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => randomBytes(3 * 1024 * 1024 + i));
    const results = await Promise.all(inputs.map((data) => sha256OfStream(pieces(data))));
    expect(results).toEqual(inputs.map((data) => ({ sha256: sha256(data), bytes: data.length })));
  });

  it('rejects when the stream fails, and keeps hashing other streams afterwards', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(2 * 1024 * 1024));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(sha256OfStream(failing)).rejects.toThrow('connection reset');
    const data = randomBytes(3 * 1024 * 1024);
    expect((await sha256OfStream(pieces(data))).sha256).toBe(sha256(data));
  });

  it('chunk manifests split at chunk boundaries however the pieces fall', async () => {
    const data = randomBytes(2500);
    const hasher = new ChunkHasher(1000);
    for await (const piece of pieces(data)) hasher.update(piece as Buffer);
    expect(hasher.finish()).toEqual({
      chunkBytes: 1000,
      chunkSha256: [
        sha256(data.subarray(0, 1000)),
        sha256(data.subarray(1000, 2000)),
        sha256(data.subarray(2000)),
      ],
    });
  });
});
