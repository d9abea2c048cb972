import { Readable } from 'node:stream';
import {
  type StorageClass,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Upload } from '@aws-sdk/lib-storage';
import { streamIntoSink, type ByteSink } from './byte-sink';
import { httpReadInto, UnsupportedAnswerError } from './http-read-into';
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

export interface S3Settings {
  endpoint?: string | undefined;
  publicEndpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** The storage class objects are written with (a tier's STANDARD_IA, GLACIER_IR); unset: the bucket's default. */
  storageClass?: string | undefined;
}

// A store that is away must fail a request in seconds, not hang it: a blackholed address fails the connect, a
// server that accepts and never answers fails the wait for the response's headers (which includes sending the
// body, at most a 5 MiB part). Each of the SDK's 3 attempts gets these.
const CONNECT_TIMEOUT_MS = 2_000;
const RESPONSE_TIMEOUT_MS = 30_000;
// Server-side work (a copy of up to 5 GiB, assembling a multipart upload) may answer only when it is done.
const LONG_OPERATION = { requestTimeout: 30 * 60_000 };

function client(settings: S3Settings, endpoint: string | undefined): S3Client {
  return new S3Client({
    endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // The SDK's default checksums would add CRC headers to pre-signed URLs that browsers cannot reproduce, and
    // S3-compatible servers handle them unevenly; integrity is checked by our own SHA-256 instead.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: RESPONSE_TIMEOUT_MS,
      // Without it the SDK only logs a warning when requestTimeout passes, and keeps waiting.
      throwOnRequestTimeout: true,
    },
  });
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  private readonly s3: S3Client;
  private readonly signer: S3Client;
  private readonly storageClass: StorageClass | undefined;

  constructor(settings: S3Settings) {
    this.bucket = settings.bucket;
    this.storageClass = settings.storageClass as StorageClass | undefined;
    this.s3 = client(settings, settings.endpoint);
    this.signer = settings.publicEndpoint ? client(settings, settings.publicEndpoint) : this.s3;
  }

  async presignPut(
    key: string,
    opts: { contentType: string; expiresInSeconds: number },
  ): Promise<PresignedUpload> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: opts.contentType });
    const url = await getSignedUrl(this.signer, command, {
      expiresIn: opts.expiresInSeconds,
      signableHeaders: new Set(['content-type']),
    });
    return {
      method: 'PUT',
      url,
      headers: { 'Content-Type': opts.contentType },
      expiresAt: new Date(Date.now() + opts.expiresInSeconds * 1000),
    };
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { sizeBytes: out.ContentLength ?? 0, etag: out.ETag, contentType: out.ContentType };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async read(key: string): Promise<Readable> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!(out.Body instanceof Readable)) throw new Error(`S3 returned no stream for ${key}`);
    return out.Body;
  }

  async readInto(key: string, sink: ByteSink, signal?: AbortSignal): Promise<number | null> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key });
    const url = new URL(await getSignedUrl(this.s3, command, { expiresIn: 300 }));
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
      body = await this.read(key);
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

  async readRange(key: string, range?: ByteRange): Promise<RangedRead | null> {
    const header =
      range && ('suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: header }));
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
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) {
        const head = await this.head(key);
        if (!head) return null;
        throw new RangeNotSatisfiableError(head.sizeBytes);
      }
      throw err;
    }
  }

  async readHead(key: string, bytes: number): Promise<Buffer> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
      );
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    } catch (err) {
      // A zero-byte object has no satisfiable range.
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.s3.send(
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
      client: this.s3,
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
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async createMultipartUpload(key: string, opts: { contentType: string }): Promise<string> {
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: opts.contentType }),
    );
    if (!out.UploadId) throw new Error(`S3 returned no upload id for ${key}`);
    return out.UploadId;
  }

  async presignUploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return getSignedUrl(
      this.signer,
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: expiresInSeconds },
    );
  }

  async listParts(key: string, uploadId: string): Promise<UploadedPart[] | null> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.s3.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const p of page.Parts ?? []) {
          parts.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', sizeBytes: p.Size ?? 0 });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (err) {
      if (
        err instanceof S3ServiceException &&
        (err.name === 'NoSuchUpload' || err.$metadata.httpStatusCode === 404)
      ) {
        return null;
      }
      throw err;
    }
    return parts;
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
      LONG_OPERATION,
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    await this.s3.send(
      new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
    );
  }

  async abortMultipartUploads(key: string): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== key || !upload.UploadId) continue;
        await this.s3.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: upload.UploadId }),
        );
        aborted += 1;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async listPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ objects: ListedObject[]; next: ListCursor }> {
    // StartAfter (a key) rather than a continuation token: the cursor stays meaningful across processes and retries.
    const page = await this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: limit,
        ...(cursor ? { StartAfter: cursor } : {}),
      }),
    );
    const objects = (page.Contents ?? []).flatMap((item) =>
      item.Key
        ? [{ key: item.Key, lastModified: item.LastModified ?? new Date(0), sizeBytes: item.Size ?? 0 }]
        : [],
    );
    const last = objects.at(-1);
    return { objects, next: page.IsTruncated && last ? last.key : null };
  }

  async listMultipartUploadsPage(
    prefix: string,
    cursor: ListCursor,
    limit: number,
  ): Promise<{ uploads: MultipartUploadInfo[]; next: ListCursor }> {
    // The key marker alone: versitygw refuses the upload-id marker it hands out. A page that ends amid several
    // uploads at one key skips the rest of them, which a periodic sweep picks up on a later run.
    const page = await this.s3.send(
      new ListMultipartUploadsCommand({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxUploads: limit,
        ...(cursor ? { KeyMarker: cursor } : {}),
      }),
    );
    const uploads = (page.Uploads ?? []).flatMap((u) =>
      u.Key && u.UploadId
        ? [{ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) }]
        : [],
    );
    const next = page.IsTruncated ? (page.NextKeyMarker ?? uploads.at(-1)?.key ?? null) : null;
    return { uploads, next };
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.list(prefix);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
    return keys.length;
  }

  async ping(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  destroy(): void {
    this.s3.destroy();
    if (this.signer !== this.s3) this.signer.destroy();
  }
}
