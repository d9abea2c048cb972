import type { Readable } from 'node:stream';
import {
  type StorageClass,
  CopyObjectCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ByteSink } from './byte-sink';
import type {
  ByteRange,
  ListCursor,
  ListedObject,
  MultipartUploadInfo,
  ObjectHead,
  ObjectStore,
  PresignedUpload,
  RangedRead,
  UploadedPart,
} from './object-store';
import { LONG_OPERATION, createS3Client, type S3Bucket } from './s3-client';
import * as cors from './s3-cors';
import * as listing from './s3-listing';
import * as multipart from './s3-multipart';
import * as presign from './s3-presign';
import * as reads from './s3-reads';
import type { S3Settings } from './s3-settings';

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  private readonly at: S3Bucket;
  private readonly storageClass: StorageClass | undefined;

  constructor(settings: S3Settings) {
    this.bucket = settings.bucket;
    this.storageClass = settings.storageClass as StorageClass | undefined;
    const s3 = createS3Client(settings, settings.endpoint);
    const signer = settings.publicEndpoint ? createS3Client(settings, settings.publicEndpoint) : s3;
    this.at = { bucket: this.bucket, s3, signer };
  }

  /**
   * Lets browsers on these origins PUT to the URLs this store pre-signs (S3's bucket CORS). Not part of ObjectStore:
   * it configures the bucket, once at start, and only the API's primary store needs it.
   */
  allowBrowserUploads(origins: string[]): Promise<void> {
    return cors.putBrowserUploadCors(this.at, origins);
  }

  browserUploadOrigins(): Promise<string[]> {
    return cors.corsOrigins(this.at);
  }

  presignPut(key: string, opts: { contentType: string; expiresInSeconds: number }): Promise<PresignedUpload> {
    return presign.presignPut(this.at, key, opts);
  }

  head(key: string): Promise<ObjectHead | null> {
    return reads.headObject(this.at, key);
  }

  read(key: string): Promise<Readable> {
    return reads.readObject(this.at, key);
  }

  readInto(key: string, sink: ByteSink, signal?: AbortSignal): Promise<number | null> {
    return reads.readObjectInto(this.at, key, sink, signal);
  }

  readRange(key: string, range?: ByteRange): Promise<RangedRead | null> {
    return reads.readObjectRange(this.at, key, range);
  }

  readHead(key: string, bytes: number): Promise<Buffer> {
    return reads.readObjectHead(this.at, key, bytes);
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.at.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
      }),
      LONG_OPERATION,
    );
  }

  async write(
    key: string,
    body: Readable | Buffer | string,
    opts: { contentType?: string } = {},
  ): Promise<void> {
    // lib-storage switches to multipart for large streams, so the size need not be known up front.
    await new Upload({
      client: this.at.s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: opts.contentType,
        StorageClass: this.storageClass,
      },
    }).done();
  }

  async delete(key: string): Promise<void> {
    await this.at.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  createMultipartUpload(key: string, opts: { contentType: string }): Promise<string> {
    return multipart.createMultipartUpload(this.at, key, opts);
  }

  presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return presign.presignUploadPart(this.at, key, uploadId, partNumber, expiresInSeconds);
  }

  listParts(key: string, uploadId: string): Promise<UploadedPart[] | null> {
    return multipart.listParts(this.at, key, uploadId);
  }

  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    return multipart.completeMultipartUpload(this.at, key, uploadId, parts);
  }

  abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    return multipart.abortMultipartUpload(this.at, key, uploadId);
  }

  abortMultipartUploads(key: string): Promise<number> {
    return multipart.abortMultipartUploads(this.at, key);
  }

  list(prefix: string): Promise<string[]> {
    return listing.listKeys(this.at, prefix);
  }

  listPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ objects: ListedObject[]; next: ListCursor }> {
    return listing.listObjectsPage(this.at, prefix, cursor, limit);
  }

  listMultipartUploadsPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ uploads: MultipartUploadInfo[]; next: ListCursor }> {
    return multipart.listMultipartUploadsPage(this.at, prefix, cursor, limit);
  }

  deletePrefix(prefix: string): Promise<number> {
    return listing.deletePrefix(this.at, prefix);
  }

  async ping(): Promise<void> {
    await this.at.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  destroy(): void {
    this.at.s3.destroy();
    if (this.at.signer !== this.at.s3) this.at.signer.destroy();
  }
}
