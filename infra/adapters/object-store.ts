import type { Readable } from 'node:stream';
import type { ByteSink } from './byte-sink';

export interface PresignedUpload {
  method: 'PUT';
  url: string;
  /** Headers the client must send with the PUT; they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  sizeBytes: number;
}

export interface ObjectHead {
  sizeBytes: number;
  etag: string | undefined;
  contentType: string | undefined;
}

export interface ListedObject {
  key: string;
  lastModified: Date;
  sizeBytes: number;
}

export interface MultipartUploadInfo {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Where a listing page stopped; null when there is nothing more. */
export type ListCursor = string | null;

/** Bytes start..end inclusive (end omitted: to the last byte), or the last `suffix` bytes. */
export type ByteRange = { start: number; end?: number } | { suffix: number };

export interface RangedRead {
  body: Readable;
  /** Bytes in `body`. */
  contentLength: number;
  /** `bytes <first>-<last>/<total>` when a range was read. */
  contentRange?: string | undefined;
  etag: string | undefined;
  contentType: string | undefined;
  totalSize: number;
}

/** The range starts beyond the object's last byte (an empty object has no satisfiable range). */
export class RangeNotSatisfiableError extends Error {
  constructor(readonly totalSize: number) {
    super(`range not satisfiable for an object of ${totalSize} bytes`);
    this.name = 'RangeNotSatisfiableError';
  }
}

/**
 * Everything the platform does with object storage. No logic lives here, only I/O, so a second implementation
 * (a local disk store, another cloud) passes the same contract tests (test/object-store.contract.test.ts).
 */
export interface ObjectStore {
  readonly bucket: string;
  presignPut(key: string, opts: { contentType: string; expiresInSeconds: number }): Promise<PresignedUpload>;
  /** null when there is no object at the key. */
  head(key: string): Promise<ObjectHead | null>;
  /** A stream of the object's bytes, never buffered whole. */
  read(key: string): Promise<Readable>;
  /**
   * A stream of the object's bytes, or of one range of them, with what an HTTP answer needs; null when there is no
   * object at the key. Throws RangeNotSatisfiableError when the range starts past the end.
   */
  readRange(key: string, range?: ByteRange): Promise<RangedRead | null>;
  /**
   * Reads the whole object into the sink's memory (for hashing gigabytes without a buffer per read); resolves with
   * the byte count, null when there is no object at the key. The signal stops the read.
   */
  readInto(key: string, sink: ByteSink, signal?: AbortSignal): Promise<number | null>;
  /** The first `bytes` bytes (fewer if the object is shorter); for content sniffing. */
  readHead(key: string, bytes: number): Promise<Buffer>;
  /** Server-side copy within the bucket; the bytes do not pass through this process. */
  copy(fromKey: string, toKey: string): Promise<void>;
  write(key: string, body: Readable | Buffer | string, opts?: { contentType?: string }): Promise<void>;
  /** Deleting a missing key succeeds: deletes are retried. */
  delete(key: string): Promise<void>;
  /** Starts a multipart upload whose parts the client PUTs itself; returns its upload id. */
  createMultipartUpload(key: string, opts: { contentType: string }): Promise<string>;
  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string>;
  /** The parts received so far, so a client can resume; null when the upload no longer exists. */
  listParts(key: string, uploadId: string): Promise<UploadedPart[] | null>;
  /** Assembles the object from the named parts; S3 checks each ETag. */
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
  /** Aborts unfinished multipart uploads at exactly this key; returns how many it aborted. */
  abortMultipartUploads(key: string): Promise<number>;
  list(prefix: string): Promise<string[]>;
  /**
   * One page (at most `limit`) of the objects below the prefix, in key order, with their age; pass `next` back to
   * continue. A sweep over a large bucket holds one page at a time.
   */
  listPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ objects: ListedObject[]; next: ListCursor }>;
  /** One page of the unfinished multipart uploads below the prefix, with when each was initiated. */
  listMultipartUploadsPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ uploads: MultipartUploadInfo[]; next: ListCursor }>;
  /** Deletes every object below the prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Throws when the store or its bucket cannot be reached. */
  ping(): Promise<void>;
}
