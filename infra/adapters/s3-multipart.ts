import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ListCursor, MultipartUploadInfo, UploadedPart } from './object-store';
import { LONG_OPERATION, type S3Bucket } from './s3-client';

export async function createMultipartUpload(
  at: S3Bucket,
  key: string,
  opts: { contentType: string },
): Promise<string> {
  const out = await at.s3.send(
    new CreateMultipartUploadCommand({ Bucket: at.bucket, Key: key, ContentType: opts.contentType }),
  );
  if (!out.UploadId) throw new Error(`S3 returned no upload id for ${key}`);
  return out.UploadId;
}

export async function listParts(at: S3Bucket, key: string, uploadId: string): Promise<UploadedPart[] | null> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await at.s3.send(
        new ListPartsCommand({
          Bucket: at.bucket,
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

export async function completeMultipartUpload(
  at: S3Bucket,
  key: string,
  uploadId: string,
  parts: { partNumber: number; etag: string }[],
): Promise<void> {
  await at.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: at.bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    }),
    LONG_OPERATION,
  );
}

export async function abortMultipartUpload(at: S3Bucket, key: string, uploadId: string): Promise<void> {
  await at.s3.send(new AbortMultipartUploadCommand({ Bucket: at.bucket, Key: key, UploadId: uploadId }));
}

export async function abortMultipartUploads(at: S3Bucket, key: string): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await at.s3.send(
      new ListMultipartUploadsCommand({
        Bucket: at.bucket,
        Prefix: key,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (upload.Key !== key || !upload.UploadId) continue;
      await at.s3.send(
        new AbortMultipartUploadCommand({ Bucket: at.bucket, Key: key, UploadId: upload.UploadId }),
      );
      aborted += 1;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
  return aborted;
}

export async function listMultipartUploadsPage(
  at: S3Bucket,
  prefix: string,
  cursor: ListCursor,
  limit: number,
): Promise<{ uploads: MultipartUploadInfo[]; next: ListCursor }> {
  // The key marker alone: versitygw refuses the upload-id marker it hands out. A page that ends amid several
  // uploads at one key skips the rest of them, which a periodic sweep picks up on a later run.
  const page = await at.s3.send(
    new ListMultipartUploadsCommand({
      Bucket: at.bucket,
      Prefix: prefix,
      MaxUploads: limit,
      ...(cursor ? { KeyMarker: cursor } : {}),
    }),
  );
  const uploads = (page.Uploads ?? []).flatMap((u) =>
    u.Key && u.UploadId ? [{ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? new Date(0) }] : [],
  );
  const next = page.IsTruncated ? (page.NextKeyMarker ?? uploads.at(-1)?.key ?? null) : null;
  return { uploads, next };
}
