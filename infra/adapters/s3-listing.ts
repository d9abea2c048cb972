import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { ListCursor, ListedObject } from './object-store';
import type { S3Bucket } from './s3-client';

export async function listKeys(at: S3Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await at.s3.send(
      new ListObjectsV2Command({ Bucket: at.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function listObjectsPage(
  at: S3Bucket,
  prefix: string,
  cursor: ListCursor,
  limit: number,
): Promise<{ objects: ListedObject[]; next: ListCursor }> {
  // StartAfter (a key) rather than a continuation token: the cursor stays meaningful across processes and retries.
  const page = await at.s3.send(
    new ListObjectsV2Command({
      Bucket: at.bucket,
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

export async function deletePrefix(at: S3Bucket, prefix: string): Promise<number> {
  const keys = await listKeys(at, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    await at.s3.send(
      new DeleteObjectsCommand({
        Bucket: at.bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
  return keys.length;
}
