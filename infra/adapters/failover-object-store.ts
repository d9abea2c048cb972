import type { Readable } from 'node:stream';
import { countingSink, type ByteSink } from './byte-sink';
import {
  RangeNotSatisfiableError,
  type ByteRange,
  type ListCursor,
  type ListedObject,
  type MultipartUploadInfo,
  type ObjectHead,
  type ObjectStore,
  type PresignedUpload,
  type RangedRead,
  type UploadedPart,
} from './object-store';

/**
 * The primary store, whose reads of blobs fall back to the replica when the primary fails (unreachable, 5xx).
 * "No such object" is an answer, not a failure: the replica is not asked. Writes and everything else stay on the
 * primary, which alone is authoritative.
 */
export class FailoverObjectStore implements ObjectStore {
  readonly bucket: string;

  constructor(
    private readonly primary: ObjectStore,
    private readonly replica: ObjectStore,
    private readonly onFailover: (op: string, key: string, err: unknown) => void = () => undefined,
  ) {
    this.bucket = primary.bucket;
  }

  private async failover<T>(op: string, key: string, read: (store: ObjectStore) => Promise<T>): Promise<T> {
    try {
      return await read(this.primary);
    } catch (err) {
      if (isAnswer(err)) throw err;
      this.onFailover(op, key, err);
      return read(this.replica);
    }
  }

  head(key: string): Promise<ObjectHead | null> {
    return this.failover('head', key, (s) => s.head(key));
  }

  read(key: string): Promise<Readable> {
    return this.failover('read', key, (s) => s.read(key));
  }

  /** Fails over only while nothing has reached the sink: bytes already given cannot be taken back. */
  async readInto(key: string, sink: ByteSink, signal?: AbortSignal): Promise<number | null> {
    const counting = countingSink(sink);
    try {
      return await this.primary.readInto(key, counting, signal);
    } catch (err) {
      if (isAnswer(err) || counting.bytes > 0 || signal?.aborted) throw err;
      this.onFailover('readInto', key, err);
      return this.replica.readInto(key, sink, signal);
    }
  }

  readRange(key: string, range?: ByteRange): Promise<RangedRead | null> {
    return this.failover('readRange', key, (s) => s.readRange(key, range));
  }

  readHead(key: string, bytes: number): Promise<Buffer> {
    return this.failover('readHead', key, (s) => s.readHead(key, bytes));
  }

  presignPut(key: string, opts: { contentType: string; expiresInSeconds: number }): Promise<PresignedUpload> {
    return this.primary.presignPut(key, opts);
  }

  copy(fromKey: string, toKey: string): Promise<void> {
    return this.primary.copy(fromKey, toKey);
  }

  write(key: string, body: Readable | Buffer | string, opts?: { contentType?: string }): Promise<void> {
    return this.primary.write(key, body, opts);
  }

  delete(key: string): Promise<void> {
    return this.primary.delete(key);
  }

  createMultipartUpload(key: string, opts: { contentType: string }): Promise<string> {
    return this.primary.createMultipartUpload(key, opts);
  }

  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return this.primary.presignUploadPart(key, uploadId, partNumber, expiresInSeconds);
  }

  listParts(key: string, uploadId: string): Promise<UploadedPart[] | null> {
    return this.primary.listParts(key, uploadId);
  }

  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    return this.primary.completeMultipartUpload(key, uploadId, parts);
  }

  abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    return this.primary.abortMultipartUpload(key, uploadId);
  }

  abortMultipartUploads(key: string): Promise<number> {
    return this.primary.abortMultipartUploads(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.primary.list(prefix);
  }

  listPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ objects: ListedObject[]; next: ListCursor }> {
    return this.primary.listPage(prefix, cursor, limit);
  }

  listMultipartUploadsPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ uploads: MultipartUploadInfo[]; next: ListCursor }> {
    return this.primary.listMultipartUploadsPage(prefix, cursor, limit);
  }

  deletePrefix(prefix: string): Promise<number> {
    return this.primary.deletePrefix(prefix);
  }

  ping(): Promise<void> {
    return this.primary.ping();
  }
}

/** The primary answered (no such key on a plain read, a range past the end): the replica would say the same. */
function isAnswer(err: unknown): boolean {
  if (err instanceof RangeNotSatisfiableError) return true;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
