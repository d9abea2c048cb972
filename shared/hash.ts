import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** Manifest chunks: small enough to name a damaged range usefully, large enough to keep manifests short. */
export const CHUNK_BYTES = 8 * 1024 * 1024;

/** SHA-256 of a stream without holding it in memory; onProgress sees the running byte count. */
export async function sha256OfStream(
  stream: Readable,
  onProgress?: (bytes: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const { sha256, bytes } = await chunkedSha256OfStream(stream, undefined, onProgress);
  return { sha256, bytes };
}

/**
 * SHA-256 of a stream and, in the same pass, of each chunkBytes-long slice of it in order (the last may be
 * shorter; none without chunkBytes).
 */
export async function chunkedSha256OfStream(
  stream: Readable,
  chunkBytes: number | undefined,
  onProgress?: (bytes: number) => void,
): Promise<{ sha256: string; bytes: number; chunkSha256: string[] }> {
  const hash = createHash('sha256');
  const chunkSha256: string[] = [];
  let chunk: Hash | undefined;
  let inChunk = 0;
  let bytes = 0;
  for await (const data of stream) {
    const buf = data as Buffer;
    hash.update(buf);
    bytes += buf.length;
    // Stream pieces do not line up with chunk boundaries: split each piece where a chunk ends.
    for (let at = 0; chunkBytes && at < buf.length;) {
      chunk ??= createHash('sha256');
      const take = Math.min(chunkBytes - inChunk, buf.length - at);
      chunk.update(buf.subarray(at, at + take));
      at += take;
      inChunk += take;
      if (inChunk === chunkBytes) {
        chunkSha256.push(chunk.digest('hex'));
        chunk = undefined;
        inChunk = 0;
      }
    }
    onProgress?.(bytes);
  }
  if (chunk) chunkSha256.push(chunk.digest('hex'));
  return { sha256: hash.digest('hex'), bytes, chunkSha256 };
}

/** Inclusive byte ranges of the chunks whose hashes differ, e.g. "bytes 8388608-16777215". */
export function differingRanges(
  expected: readonly string[],
  actual: readonly string[],
  chunkBytes: number,
  sizeBytes: number,
): string[] {
  const ranges: string[] = [];
  const chunks = Math.max(expected.length, actual.length);
  for (let i = 0; i < chunks; i++) {
    if (expected[i] === actual[i]) continue;
    const start = i * chunkBytes;
    ranges.push(`bytes ${start}-${Math.min(start + chunkBytes, sizeBytes) - 1}`);
  }
  return ranges;
}
