import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../infra/adapters/object-store';
import { FailoverObjectStore } from '../infra/adapters/failover-object-store';
import { sha256OfObject, sha256OfStream } from '../activities/hashing/hash';
import { freshStore, s3SettingsFor } from './helpers/stack';
import { collectingSink } from './helpers/collecting-sink';
import { sha256, someBytes } from './helpers/media';

/**
 * The behaviour every ObjectStore must have. A second implementation adds one line to `implementations` and must
 * pass unchanged.
 */
const implementations: { name: string; make: () => Promise<ObjectStore & { destroy?(): void }> }[] = [
  { name: 'S3ObjectStore on versitygw', make: () => freshStore() },
  {
    name: 'FailoverObjectStore over two buckets',
    make: async () => {
      const [primary, replica] = await Promise.all([freshStore(), freshStore()]);
      return Object.assign(new FailoverObjectStore(primary, replica), {
        destroy: () => [primary, replica].forEach((s) => s.destroy()),
      });
    },
  },
];

for (const impl of implementations) {
  describe(`ObjectStore contract: ${impl.name}`, () => {
    let store: ObjectStore & { destroy?(): void };
    beforeAll(async () => {
      store = await impl.make();
    });
    afterAll(() => store?.destroy?.());

    it('writes, heads, streams and deletes; a missing key is null and deleting it succeeds', async () => {
      const data = someBytes(6 * 1024 * 1024 + 3);
      await store.write('a/b/c.bin', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
        contentType: 'application/octet-stream',
      });
      expect(await store.head('a/b/c.bin')).toMatchObject({ sizeBytes: data.length });
      expect(await sha256OfStream(await store.read('a/b/c.bin'))).toEqual({
        sha256: sha256(data),
        bytes: data.length,
      });
      expect(await store.list('a/')).toEqual(['a/b/c.bin']);
      await store.delete('a/b/c.bin');
      expect(await store.head('a/b/c.bin')).toBeNull();
      await expect(store.delete('a/b/c.bin')).resolves.toBeUndefined();
      expect(await store.list('a/')).toEqual([]);
    });

    it('reads a whole object into a sink: the bytes the stream gives, 0 for an empty object, null when missing', async () => {
      const data = someBytes(5 * 1024 * 1024 + 77);
      await store.write('into/data.bin', data);
      await store.write('into/empty.bin', Buffer.alloc(0));
      expect(await sha256OfObject(store, 'into/data.bin')).toEqual({
        sha256: sha256(data),
        bytes: data.length,
      });
      expect(await sha256OfObject(store, 'into/empty.bin')).toEqual({
        sha256: sha256(Buffer.alloc(0)),
        bytes: 0,
      });
      expect(await sha256OfObject(store, 'into/none.bin')).toBeNull();

      // A sink with odd-sized spaces that asks for a pause every few pieces gets the same bytes.
      const sink = collectingSink(100_003);
      expect(await store.readInto('into/data.bin', sink)).toBe(data.length);
      expect(sink.bytes().equals(data)).toBe(true);
      expect(sink.waits()).toBeGreaterThan(0);

      const aborted = AbortSignal.abort(new Error('asset deleted'));
      await expect(sha256OfObject(store, 'into/data.bin', { signal: aborted })).rejects.toThrow(
        'asset deleted',
      );
    });

    it('issues a pre-signed PUT that stores exactly the bytes sent with the signed headers', async () => {
      const data = someBytes(12345);
      const presigned = await store.presignPut('up/one', { contentType: 'image/png', expiresInSeconds: 60 });
      expect(presigned.headers).toEqual({ 'Content-Type': 'image/png' });
      const res = await fetch(presigned.url, { method: 'PUT', headers: presigned.headers, body: data });
      expect(res.status).toBe(200);
      expect(await store.head('up/one')).toMatchObject({ sizeBytes: 12345, contentType: 'image/png' });
      expect((await sha256OfStream(await store.read('up/one'))).sha256).toBe(sha256(data));
    });

    it('refuses a pre-signed PUT whose signature was tampered with', async () => {
      const presigned = await store.presignPut('up/two', { contentType: 'image/png', expiresInSeconds: 60 });
      const tampered = presigned.url.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      );
      const res = await fetch(tampered, { method: 'PUT', headers: presigned.headers, body: 'x' });
      expect(res.status).toBe(403);
      expect(await store.head('up/two')).toBeNull();
    });

    it('aborts unfinished multipart uploads at a key and only at that key', async () => {
      const settings = s3SettingsFor(store.bucket);
      const s3 = new S3Client({
        endpoint: settings.endpoint,
        region: settings.region,
        forcePathStyle: true,
        credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      });
      for (const key of ['mp/target', 'mp/target-other']) {
        const { UploadId } = await s3.send(
          new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }),
        );
        await s3.send(
          new UploadPartCommand({
            Bucket: store.bucket,
            Key: key,
            UploadId,
            PartNumber: 1,
            Body: someBytes(100),
          }),
        );
      }
      expect(await store.abortMultipartUploads('mp/target')).toBe(1);
      expect(await store.abortMultipartUploads('mp/target')).toBe(0);
      expect(await store.abortMultipartUploads('mp/target-other')).toBe(1);
      s3.destroy();
    });

    it('lists page by page in key order with each object age, and unfinished multipart uploads with theirs', async () => {
      const before = Date.now() - 60_000;
      for (const name of ['c', 'a', 'e', 'b', 'd']) await store.write(`paged/${name}`, name);
      await store.write('pagedx/other', 'x');
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await store.listPage('paged/', cursor, 2);
        expect(page.objects.length).toBeLessThanOrEqual(2);
        for (const o of page.objects) {
          expect(o.lastModified.getTime()).toBeGreaterThan(before);
          expect(o.sizeBytes).toBe(1);
        }
        seen.push(...page.objects.map((o) => o.key));
        cursor = page.next;
        pages += 1;
      } while (cursor);
      expect(seen).toEqual(['paged/a', 'paged/b', 'paged/c', 'paged/d', 'paged/e']);
      expect(pages).toBe(3);
      expect(await store.listPage('nothing-here/', null, 10)).toEqual({ objects: [], next: null });

      const ids = [
        await store.createMultipartUpload('mpl/one', { contentType: 'video/mp4' }),
        await store.createMultipartUpload('mpl/two', { contentType: 'video/mp4' }),
        await store.createMultipartUpload('mpl/three', { contentType: 'video/mp4' }),
      ];
      await store.createMultipartUpload('mplx/elsewhere', { contentType: 'video/mp4' });
      const uploads: { key: string; uploadId: string }[] = [];
      cursor = null;
      do {
        const page = await store.listMultipartUploadsPage('mpl/', cursor, 2);
        for (const u of page.uploads) expect(u.initiated.getTime()).toBeGreaterThan(before);
        uploads.push(...page.uploads.map(({ key, uploadId }) => ({ key, uploadId })));
        cursor = page.next;
      } while (cursor);
      expect(uploads.map((u) => u.key).sort()).toEqual(['mpl/one', 'mpl/three', 'mpl/two']);
      expect(uploads.map((u) => u.uploadId).sort()).toEqual([...ids].sort());
    });

    it('reads the head of an object, copies server-side and deletes by prefix', async () => {
      const data = someBytes(10_000);
      await store.write('src/one', data);
      expect(Buffer.compare(await store.readHead('src/one', 4100), data.subarray(0, 4100))).toBe(0);
      expect((await store.readHead('src/one', 20_000)).length).toBe(10_000);
      await store.write('src/empty', Buffer.alloc(0));
      expect((await store.readHead('src/empty', 4100)).length).toBe(0);

      await store.copy('src/one', 'dst/deep/copy');
      expect((await sha256OfStream(await store.read('dst/deep/copy'))).sha256).toBe(sha256(data));
      await store.write('dst/deep/other', 'x');
      await store.write('dstx/keep', 'y');
      expect(await store.deletePrefix('dst/')).toBe(2);
      expect(await store.list('dst')).toEqual(['dstx/keep']);
      expect(await store.head('src/one')).not.toBeNull();
    });

    it('reads ranges with their Content-Range, the whole object without one, and refuses a range past the end', async () => {
      const data = someBytes(1000);
      await store.write('ranged/one', data, { contentType: 'video/mp4' });
      const bytesOf = async (read: { body: Readable } | null) => {
        const chunks: Buffer[] = [];
        for await (const c of read!.body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      };

      const whole = await store.readRange('ranged/one');
      expect(whole).toMatchObject({ contentLength: 1000, totalSize: 1000, contentType: 'video/mp4' });
      expect(whole?.etag).toBe((await store.head('ranged/one'))?.etag);
      expect(Buffer.compare(await bytesOf(whole), data)).toBe(0);

      for (const [range, first, last] of [
        [{ start: 0, end: 99 }, 0, 99],
        [{ start: 990 }, 990, 999],
        [{ start: 900, end: 5000 }, 900, 999],
        [{ suffix: 10 }, 990, 999],
      ] as const) {
        const part = await store.readRange('ranged/one', range);
        expect(part, JSON.stringify(range)).toMatchObject({
          contentLength: last - first + 1,
          contentRange: `bytes ${first}-${last}/1000`,
          totalSize: 1000,
        });
        expect(Buffer.compare(await bytesOf(part), data.subarray(first, last + 1))).toBe(0);
      }

      await expect(store.readRange('ranged/one', { start: 1000 })).rejects.toMatchObject({
        name: 'RangeNotSatisfiableError',
        totalSize: 1000,
      });
      expect(await store.readRange('ranged/missing')).toBeNull();
      expect(await store.readRange('ranged/missing', { start: 0, end: 1 })).toBeNull();
    });

    it('answers ping for its bucket', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
