import { PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { PresignedUpload } from './object-store';
import type { S3Bucket } from './s3-client';

// URLs handed to clients are signed by `signer`, whose endpoint is the one they can reach.

export async function presignPut(
  at: S3Bucket,
  key: string,
  opts: { contentType: string; expiresInSeconds: number },
): Promise<PresignedUpload> {
  const command = new PutObjectCommand({ Bucket: at.bucket, Key: key, ContentType: opts.contentType });
  const url = await getSignedUrl(at.signer, command, {
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

export async function presignUploadPart(
  at: S3Bucket,
  key: string,
  uploadId: string,
  partNumber: number,
  expiresInSeconds: number,
): Promise<string> {
  return getSignedUrl(
    at.signer,
    new UploadPartCommand({ Bucket: at.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
    { expiresIn: expiresInSeconds },
  );
}
