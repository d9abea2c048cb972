import type { Readable } from 'node:stream';

export interface PresignedUpload {
  method: 'PUT';
  url: string;
  /** Headers the client must send with the PUT; they are part of the signature. */
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface ObjectHead {
  sizeBytes: number;
  etag: string | undefined;
  contentType: string | undefined;
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
  /** The first `bytes` bytes (fewer if the object is shorter); for content sniffing. */
  readHead(key: string, bytes: number): Promise<Buffer>;
  /** Server-side copy within the bucket; the bytes do not pass through this process. */
  copy(fromKey: string, toKey: string): Promise<void>;
  write(key: string, body: Readable | Buffer | string, opts?: { contentType?: string }): Promise<void>;
  /** Deleting a missing key succeeds: deletes are retried. */
  delete(key: string): Promise<void>;
  /** Aborts unfinished multipart uploads at exactly this key; returns how many it aborted. */
  abortMultipartUploads(key: string): Promise<number>;
  list(prefix: string): Promise<string[]>;
  /** Deletes every object below the prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Throws when the store or its bucket cannot be reached. */
  ping(): Promise<void>;
}
