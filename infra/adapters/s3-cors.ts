import {
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Bucket } from './s3-client';

/**
 * The bucket's CORS rule for browsers that PUT to pre-signed URLs (whole objects and multipart parts). `ETag` is
 * exposed because a browser completing a multipart upload must read each part's ETag; without it the script sees
 * no such header. The rule names no credentials: a pre-signed URL carries its own authorisation.
 */
export function browserUploadRule(origins: string[]) {
  return {
    AllowedOrigins: origins,
    AllowedMethods: ['PUT', 'GET', 'HEAD'],
    AllowedHeaders: ['*'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 3000,
  };
}

/** Replaces the bucket's CORS configuration with the browser upload rule; no origins removes it. */
export async function putBrowserUploadCors(at: S3Bucket, origins: string[]): Promise<void> {
  // A rule must name an origin: with none configured, browsers are turned away again.
  if (origins.length === 0) {
    await at.s3.send(new DeleteBucketCorsCommand({ Bucket: at.bucket }));
    return;
  }
  await at.s3.send(
    new PutBucketCorsCommand({
      Bucket: at.bucket,
      CORSConfiguration: { CORSRules: [browserUploadRule(origins)] },
    }),
  );
}

/** The origins the bucket's rules allow; empty when it has no CORS configuration. */
export async function corsOrigins(at: S3Bucket): Promise<string[]> {
  try {
    const out = await at.s3.send(new GetBucketCorsCommand({ Bucket: at.bucket }));
    return (out.CORSRules ?? []).flatMap((r) => r.AllowedOrigins ?? []);
  } catch (err) {
    if (err instanceof S3ServiceException && err.name === 'NoSuchCORSConfiguration') return [];
    throw err;
  }
}
