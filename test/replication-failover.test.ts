import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNginx, type NginxHandle } from '../devstack/nginx';
import { startVersitygw, type VersitygwHandle } from '../devstack/object-store';
import { freePort } from '../devstack/ports';
import type { S3ObjectStore } from '../infra/adapters/s3-object-store';
import { parseMaster, parseMediaPlaylist } from '../activities/media/tools/hls-playlist';
import { clip, noisyPng } from './helpers/generate-media';
import { SETTLED, uploadFile, waitForStatus } from './helpers/media';
import { DELIVERY_SECRET, freshStore, startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/**
 * REPLICA_S3_BUCKET end to end: the primary bucket on an S3 server of this test's own, the replica on the run's
 * server, the real nginx edge in front of the API. Once the primary's process is stopped, every kind of delivery
 * read (original, HLS master, media playlist, init, segment, thumbnail, poster, a thumbnail at a time made after
 * publishing) still answers 200 with the same bytes.
 */
describe('replication: renditions are replicated, and delivery reads fail over while the primary is down', () => {
  let dir: string;
  let primary: VersitygwHandle | undefined;
  let replica: S3ObjectStore;
  let platform: TestPlatform;
  let nginx: NginxHandle;
  let owner: string;
  let image: Buffer;
  let video: Buffer;
  let imageId: string;
  let clipId: string;
  const bucket = uniqueName('primary');
  const { s3AccessKey, s3SecretKey } = inject('stack');
  const startPrimary = (port?: number) =>
    startVersitygw({
      dataDir: path.join(dir, 'primary-s3'),
      accessKey: s3AccessKey,
      secretKey: s3SecretKey,
      buckets: [bucket],
      ...(port ? { port } : {}),
    });

  beforeAll(async () => {
    dir = path.join(inject('stack').tmpDir, uniqueName('replication'));
    await fs.mkdir(dir, { recursive: true });
    primary = await startPrimary();
    replica = await freshStore();
    const edgePort = await freePort();
    platform = await startPlatform({
      s3Endpoint: primary.endpoint,
      s3Bucket: bucket,
      replica,
      deliveryBaseUrl: `http://127.0.0.1:${edgePort}`,
    });
    nginx = await startNginx({
      dataDir: path.join(dir, 'nginx'),
      port: edgePort,
      originUrl: platform.baseUrl,
      signingSecret: DELIVERY_SECRET,
    });
    owner = await platform.token('7001');
    image = await noisyPng(300, 200);
    await clip(path.join(dir, 'clip.mp4'), { width: 320, height: 240, seconds: 2, audio: true });
    video = await fs.readFile(path.join(dir, 'clip.mp4'));
    [imageId, clipId] = await Promise.all([
      uploadFile(platform.baseUrl, owner, image, 'image/png', 'noise.png'),
      uploadFile(platform.baseUrl, owner, video, 'video/mp4', 'clip.mp4'),
    ]);
    for (const id of [imageId, clipId]) {
      expect(await waitForStatus(platform.baseUrl, owner, id, SETTLED, 240_000)).toMatchObject({
        status: 'ready',
      });
    }
  }, 300_000);
  afterAll(async () => {
    await nginx?.stop();
    await platform?.stop();
    await primary?.stop();
    replica?.destroy();
  });

  async function blobOf(id: string) {
    const asset = await platform.assets.findById(id);
    return (await platform.blobs.get(asset!.blob_sha256!))!;
  }

  /** The signed edge URL GET /media/:id/content hands out (not followed). */
  async function located(id: string, rendition?: string): Promise<string> {
    const query = rendition ? `?rendition=${rendition}` : '';
    const res = await fetch(`${platform.baseUrl}/media/${id}/content${query}`, {
      headers: { authorization: `Bearer ${owner}` },
      redirect: 'manual',
    });
    expect(res.status, await res.clone().text()).toBe(302);
    return res.headers.get('location')!;
  }

  /** The edge URL of a thumbnail at a time, made by the worker on the first request. */
  async function thumbnailAt(id: string, query: string): Promise<string> {
    const res = await fetch(`${platform.baseUrl}/media/${id}/thumbnail?${query}`, {
      headers: { authorization: `Bearer ${owner}` },
      redirect: 'manual',
    });
    expect(res.status, await res.clone().text()).toBe(302);
    return res.headers.get('location')!;
  }

  const fetchBytes = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };

  it('copies each blob and every published rendition (HLS ladder, thumbnails, poster) to the replica', async () => {
    for (const id of [imageId, clipId]) {
      const blob = await blobOf(id);
      const onPrimary = await platform.store.listPage(`renditions/${blob.sha256}/`, null, 1000);
      const onReplica = await replica.listPage(`renditions/${blob.sha256}/`, null, 1000);
      const sized = (o: { key: string; sizeBytes: number }) => `${o.key} ${o.sizeBytes}`;
      expect(onPrimary.objects.length).toBeGreaterThan(0);
      // Only the published attempt's prefix, on both sides.
      expect(onPrimary.objects.every((o) => o.key.startsWith(blob.rendition_prefix!))).toBe(true);
      expect(onReplica.objects.map(sized)).toEqual(onPrimary.objects.map(sized));
      expect((await replica.head(blob.object_key))?.sizeBytes).toBe(Number(blob.size_bytes));
    }
    const clipBlob = await blobOf(clipId);
    const keys = (await replica.list(clipBlob.rendition_prefix!)).map((k) =>
      k.slice(clipBlob.rendition_prefix!.length),
    );
    expect(keys).toEqual(expect.arrayContaining(['hls/master.m3u8', expect.stringMatching(/\.m4s$/)]));
  });

  it('serves the original, HLS and thumbnails through the edge with the primary stopped, byte for byte', async () => {
    const masterUrl = await located(clipId, 'hls');
    const master = await fetchBytes(masterUrl);
    expect(master.status).toBe(200);
    const variantUrl = new URL(parseMaster(master.body.toString())[0]!.uri, masterUrl).toString();
    const variant = await fetchBytes(variantUrl);
    const playlist = parseMediaPlaylist(variant.body.toString());
    const urls: Record<string, string> = {
      'image original': await located(imageId),
      'clip original': await located(clipId),
      'thumb-256': await located(imageId, 'thumb-256'),
      poster: await located(clipId, 'poster'),
      'HLS master': masterUrl,
      'HLS media playlist': variantUrl,
      'HLS init': new URL(playlist.map!, variantUrl).toString(),
      'HLS segment': new URL(playlist.segments[0]!.uri, variantUrl).toString(),
      // Made on this request (GET /media/{id}/thumbnail), after publishing: copied to the replica as it is made.
      'thumbnail at 1 s': await thumbnailAt(clipId, 'time=1&width=160'),
    };

    // With the primary up: what the edge serves is what was uploaded and what was published.
    const before: Record<string, Buffer> = {};
    for (const [what, url] of Object.entries(urls)) {
      const res = await fetchBytes(url);
      expect(res.status, what).toBe(200);
      before[what] = res.body;
    }
    expect(before['image original']!.equals(image)).toBe(true);
    expect(before['clip original']!.equals(video)).toBe(true);
    const clipBlob = await blobOf(clipId);
    const segmentPath = new URL(urls['HLS segment']!).pathname.split('/hls/')[1]!;
    const segmentKey = `${clipBlob.rendition_prefix}hls/${segmentPath}`;
    const published = Buffer.concat(await (await platform.store.read(segmentKey)).toArray());
    expect(before['HLS segment']!.equals(published)).toBe(true);
    const thumb = (await platform.blobs.renditions((await blobOf(imageId)).sha256)).find(
      (r) => r.name === 'thumb-256',
    )!;
    const thumbBytes = Buffer.concat(await (await platform.store.read(thumb.object_key)).toArray());
    expect(before['thumb-256']!.equals(thumbBytes)).toBe(true);

    const port = primary!.port;
    await primary!.stop();
    primary = undefined;
    // The primary is really gone: the API's own store cannot reach it.
    await expect(platform.store.head(segmentKey)).rejects.toThrow();

    for (const [what, url] of Object.entries(urls)) {
      const started = performance.now();
      const res = await fetchBytes(url);
      const ms = Math.round(performance.now() - started);
      if (process.env.REPLICATION_FIGURES) console.log(`${what}\t${res.body.length} bytes\t${ms} ms`);
      expect(res.status, `${what} with the primary stopped`).toBe(200);
      expect(res.body.equals(before[what]!), `${what} with the primary stopped`).toBe(true);
    }

    // Back on the same port and data: the primary answers again.
    primary = await startPrimary(port);
    expect((await platform.store.head(segmentKey))?.sizeBytes).toBe(published.length);
  });
});
