import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { streamIntoSink, type ByteSink } from './byte-sink';
import { httpReadInto, UnsupportedAnswerError } from './http-read-into';
import { RangeNotSatisfiableError, type ByteRange, type ObjectHead, type RangedRead } from './object-store';
import {
  CONNECT_TIMEOUT_MS,
  RESPONSE_TIMEOUT_MS,
  isNotFound,
  isRangeNotSatisfiable,
  type S3Bucket,
} from './s3-client';

export async function headObject(at: S3Bucket, key: string): Promise<ObjectHead | null> {
  try {
    const out = await at.s3.send(new HeadObjectCommand({ Bucket: at.bucket, Key: key }));
    return { sizeBytes: out.ContentLength ?? 0, etag: out.ETag, contentType: out.ContentType };
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export async function readObject(at: S3Bucket, key: string): Promise<Readable> {
  const out = await at.s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: key }));
  if (!(out.Body instanceof Readable)) throw new Error(`S3 returned no stream for ${key}`);
  return out.Body;
}

export async function readObjectInto(
  at: S3Bucket,
  key: string,
  sink: ByteSink,
  signal?: AbortSignal,
): Promise<number | null> {
  const command = new GetObjectCommand({ Bucket: at.bucket, Key: key });
  const url = new URL(await getSignedUrl(at.s3, command, { expiresIn: 300 }));
  if (url.protocol === 'http:') {
    try {
      return await httpReadInto(url, sink, {
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        idleTimeoutMs: RESPONSE_TIMEOUT_MS,
        signal,
      });
    } catch (err) {
      if (!(err instanceof UnsupportedAnswerError)) throw err;
    }
  }
  // Over TLS the SDK's client decrypts into buffers of its own anyway; the bytes are copied into the sink.
  let body: Readable;
  try {
    body = await readObject(at, key);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const stop = () => body.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal?.addEventListener('abort', stop);
  try {
    return await streamIntoSink(body, sink);
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

export async function readObjectRange(
  at: S3Bucket,
  key: string,
  range?: ByteRange,
): Promise<RangedRead | null> {
  const header =
    range && ('suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`);
  try {
    const out = await at.s3.send(new GetObjectCommand({ Bucket: at.bucket, Key: key, Range: header }));
    if (!(out.Body instanceof Readable)) throw new Error(`S3 returned no stream for ${key}`);
    const contentLength = out.ContentLength ?? 0;
    // A server may ignore the range and send everything; then there is no Content-Range and the answer is whole.
    const total = out.ContentRange ? Number(out.ContentRange.split('/')[1]) : contentLength;
    return {
      body: out.Body,
      contentLength,
      contentRange: out.ContentRange,
      etag: out.ETag,
      contentType: out.ContentType,
      totalSize: Number.isFinite(total) ? total : contentLength,
    };
  } catch (err) {
    if (isNotFound(err)) return null;
    if (isRangeNotSatisfiable(err)) {
      const head = await headObject(at, key);
      if (!head) return null;
      throw new RangeNotSatisfiableError(head.sizeBytes);
    }
    throw err;
  }
}

export async function readObjectHead(at: S3Bucket, key: string, bytes: number): Promise<Buffer> {
  try {
    const out = await at.s3.send(
      new GetObjectCommand({ Bucket: at.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
    );
    return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  } catch (err) {
    // A zero-byte object has no satisfiable range.
    if (isRangeNotSatisfiable(err)) return Buffer.alloc(0);
    throw err;
  }
}
