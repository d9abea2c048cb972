import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { S3Settings } from './s3-settings';

// A store that is away must fail a request in seconds, not hang it: a blackholed address fails the connect, a
// server that accepts and never answers fails the wait for the response's headers (which includes sending the
// body, at most a 5 MiB part). Each of the SDK's 3 attempts gets these.
export const CONNECT_TIMEOUT_MS = 2_000;
export const RESPONSE_TIMEOUT_MS = 30_000;
// Server-side work (a copy of up to 5 GiB, assembling a multipart upload) may answer only when it is done.
export const LONG_OPERATION = { requestTimeout: 30 * 60_000 };

/** One bucket and the clients that reach it; `signer` signs URLs for the public endpoint (or is `s3`). */
export interface S3Bucket {
  readonly bucket: string;
  readonly s3: S3Client;
  readonly signer: S3Client;
}

export function createS3Client(settings: S3Settings, endpoint: string | undefined): S3Client {
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

export function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404)
  );
}

export function isRangeNotSatisfiable(err: unknown): boolean {
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416;
}
