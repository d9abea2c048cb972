import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EICAR_TEST_FILE, freePort, startClamd, type ClamdHandle } from '../devstack';
import { ClamdScanner } from '../infra/adapters/clamd-scanner';
import { sha256OfStream } from '../activities/hashing/hash';
import { eventually, request } from './helpers/http';
import { animatedGif, cameraJpeg, halfTransparentPng, onePagePdf, pngBomb } from './helpers/generate-media';
import { SETTLED, sha256, uploadFile, waitForStatus, type RenditionView } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/** Images, documents and hostile files through the whole pipeline, with a real clamd scanning. */
describe('image and document pipeline', () => {
  let platform: TestPlatform;
  let clamd: ClamdHandle;
  let token: string;
  let dir: string;

  beforeAll(async () => {
    const stack = inject('stack');
    dir = path.join(stack.tmpDir, uniqueName('images'));
    await fs.mkdir(dir, { recursive: true });
    clamd = await startClamd({ dataDir: path.join(dir, 'clamd') });
    platform = await startPlatform({ scanner: new ClamdScanner({ host: clamd.host, port: clamd.port }) });
    token = await platform.token('6006');
  });
  afterAll(async () => {
    await platform?.stop();
    await clamd?.stop();
  });

  const settle = (assetId: string) => waitForStatus(platform.baseUrl, token, assetId, SETTLED, 60_000);
  const renditionsOf = (asset: Record<string, unknown>) =>
    Object.fromEntries((asset.renditions as RenditionView[]).map((r) => [r.name, r]));

  async function downloadRendition(assetId: string, name: string): Promise<Buffer> {
    const asset = await platform.db
      .selectFrom('media_assets')
      .innerJoin('blob_renditions', 'blob_renditions.blob_sha256', 'media_assets.blob_sha256')
      .select('blob_renditions.object_key')
      .where('media_assets.asset_id', '=', assetId)
      .where('blob_renditions.name', '=', name)
      .executeTakeFirstOrThrow();
    const chunks: Buffer[] = [];
    for await (const c of await platform.store.read(asset.object_key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('a 4000×3000 camera JPEG (EXIF orientation 6, GPS) becomes upright WebP/JPEG renditions with its EXIF facts', async () => {
    const file = path.join(dir, 'camera.jpg');
    await cameraJpeg(file);
    const data = await fs.readFile(file);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/jpeg', 'IMG_0001.JPG');
    const asset = await settle(assetId);
    expect(asset).toMatchObject({ status: 'ready', contentType: 'image/jpeg', scan: { status: 'clean' } });
    expect(asset.media).toMatchObject({
      kind: 'image',
      width: 4000,
      height: 3000,
      orientation: 6,
      cameraMake: 'Canon',
      cameraModel: 'EOS R5',
    });
    const media = asset.media as { gpsLatitude: number; gpsLongitude: number; capturedAt: string };
    expect(media.gpsLatitude).toBeCloseTo(52 + 31 / 60 + 12.34 / 3600, 4);
    expect(media.gpsLongitude).toBeCloseTo(-(13 + 24 / 60 + 56.78 / 3600), 4);
    expect(typeof asset.placeholder).toBe('string');

    const r = renditionsOf(asset);
    expect(r['thumb-256']).toMatchObject({ mimeType: 'image/webp', width: 192, height: 256 });
    expect(r['thumb-1024']).toMatchObject({ mimeType: 'image/webp', width: 768, height: 1024 });
    expect(r['preview-2048']).toMatchObject({ mimeType: 'image/jpeg', width: 1536, height: 2048 });
    const preview = await sharp(await downloadRendition(assetId, 'preview-2048')).metadata();
    expect([preview.format, preview.width, preview.height]).toEqual(['jpeg', 1536, 2048]);
    const thumb = await sharp(await downloadRendition(assetId, 'thumb-256')).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['webp', 192, 256]);

    // The extracted facts are also asset metadata, and the original is kept byte for byte at its content address.
    const rows = await platform.db
      .selectFrom('asset_metadata')
      .select(['key', 'value'])
      .where('asset_id', '=', assetId)
      .where('key', 'like', 'media.%')
      .execute();
    expect(Object.fromEntries(rows.map((row) => [row.key, row.value]))).toMatchObject({
      'media.width': '4000',
      'media.cameraModel': 'EOS R5',
    });
    const blob = await platform.blobs.get(sha256(data));
    expect(blob).toMatchObject({ refcount: 1, status: 'ready' });
    expect((await sha256OfStream(await platform.store.read(blob!.object_key))).sha256).toBe(sha256(data));
    expect(await platform.store.list(`uploads/6006/${assetId}`)).toEqual([]);
    // Rendering was the blob's last media stage (the workflow checks an image's renditions itself): the worker's
    // local copy of the original is gone.
    expect(await fs.readdir(path.join(platform.workDir!, 'sources')).catch(() => [])).not.toContain(
      sha256(data),
    );
  });

  it('a PNG with alpha is never upscaled and keeps its transparency in WebP', async () => {
    const file = path.join(dir, 'alpha.png');
    await halfTransparentPng(file);
    const assetId = await uploadFile(platform.baseUrl, token, await fs.readFile(file), 'image/png', 'a.png');
    const asset = await settle(assetId);
    expect(asset.status).toBe('ready');
    const r = renditionsOf(asset);
    expect(r['thumb-1024']).toMatchObject({ width: 300, height: 200 });
    expect(r['preview-2048']).toMatchObject({ width: 300, height: 200 });
    expect((await sharp(await downloadRendition(assetId, 'thumb-1024')).metadata()).hasAlpha).toBe(true);
  });

  it('an animated GIF gives still renditions of its first frame', async () => {
    const file = path.join(dir, 'anim.gif');
    await animatedGif(file);
    const asset = await settle(
      await uploadFile(platform.baseUrl, token, await fs.readFile(file), 'image/gif', 'anim.gif'),
    );
    expect(asset).toMatchObject({ status: 'ready', media: { frames: 3 } });
    const r = renditionsOf(asset);
    expect(r['thumb-256']).toMatchObject({ width: 120, height: 80 });
  });

  it('a PDF gets a first-page PNG', async () => {
    const asset = await settle(
      await uploadFile(platform.baseUrl, token, onePagePdf(), 'application/pdf', 'doc.pdf'),
    );
    expect(asset).toMatchObject({ status: 'ready', media: { kind: 'document', pages: 1 } });
    expect(renditionsOf(asset)['page-1']).toMatchObject({ mimeType: 'image/png', height: 1024 });
  });

  it.each([
    [
      'an executable named .jpg',
      Buffer.concat([Buffer.from('7f454c46020101', 'hex'), Buffer.alloc(200)]),
      'image/jpeg',
      'detected application/x-elf',
    ],
    [
      'a PNG declared as video',
      Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108020000', 'hex'),
      'video/mp4',
      'detected image/png (image) but video/mp4 (video) was declared',
    ],
    [
      'an SVG with a script',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      'image/png',
      'SVG is not accepted',
    ],
    [
      'unrecognisable bytes',
      Buffer.from('just some text that is not media'),
      'image/png',
      'could not be recognised',
    ],
  ])('%s is rejected by sniffing and its bytes removed', async (_what, data, contentType, reason) => {
    const assetId = await uploadFile(platform.baseUrl, token, data, contentType, 'x.jpg');
    const asset = await settle(assetId);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toContain(reason);
    expect(await platform.store.list(`uploads/6006/${assetId}`)).toEqual([]);
    expect(await platform.blobs.get(sha256(data))).toBeUndefined();
  });

  it('the bare EICAR file named .png is rejected: its bytes are no image', async () => {
    const data = Buffer.from(EICAR_TEST_FILE, 'latin1');
    const asset = await settle(await uploadFile(platform.baseUrl, token, data, 'image/png', 'eicar.png'));
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toContain('could not be recognised');
  });

  it('a valid PNG carrying EICAR is quarantined with the signature, moved under quarantine/, never listed', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    const data = Buffer.concat([png, Buffer.from(EICAR_TEST_FILE, 'latin1')]);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'innocent.png');
    const asset = await settle(assetId);
    expect(asset.status).toBe('quarantined');
    expect(asset.statusReason).toContain('Eicar-Test-Signature');
    expect(asset.scan).toMatchObject({ status: 'infected' });
    expect(asset.renditions).toEqual([]);
    const sha = sha256(data);
    expect(await platform.store.head(`quarantine/${sha}`)).not.toBeNull();
    expect(await platform.store.list(`blobs/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`)).toEqual([]);
    expect(await platform.store.list(`renditions/${sha}/`)).toEqual([]);
  });

  it('a 30000×30000 PNG bomb is rejected from its header with the dimensions, and nothing is kept', async () => {
    const file = path.join(dir, 'bomb.png');
    await pngBomb(file);
    const data = await fs.readFile(file);
    const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'bomb.png');
    const asset = await settle(assetId);
    expect(asset.status).toBe('rejected');
    expect(asset.statusReason).toContain('30000×30000');
    expect(await platform.blobs.get(sha256(data))).toBeUndefined();
    expect(
      await platform.store.list(`blobs/${sha256(data).slice(0, 2)}/${sha256(data).slice(2, 4)}/`),
    ).toEqual([]);
  });

  it('the same bytes twice: one blob with refcount 2, renditions reused, the second upload deleted', async () => {
    const file = path.join(dir, 'twice.png');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .png()
      .toFile(file);
    const data = await fs.readFile(file);
    const first = await settle(await uploadFile(platform.baseUrl, token, data, 'image/png', 'one.png'));
    const other = await platform.token('7007');
    const secondId = await uploadFile(platform.baseUrl, other, data, 'image/png', 'two.png');
    const second = await waitForStatus(platform.baseUrl, other, secondId, SETTLED, 60_000);
    expect([first.status, second.status]).toEqual(['ready', 'ready']);
    expect(second.renditions).toEqual(first.renditions);
    expect(await platform.blobs.get(sha256(data))).toMatchObject({ refcount: 2, status: 'ready' });
    expect(await platform.store.list(`uploads/7007/${secondId}`)).toEqual([]);
    const stages = (second.events as { stage: string | null; reason: string }[]).map((e) => e.reason);
    expect(stages).toContain('duplicate of stored content');
    expect(stages.some((s) => s.startsWith('metadata'))).toBe(false);
  });

  it('the same bytes twice at the same moment: still one blob with refcount 2', async () => {
    const data = await sharp({ create: { width: 300, height: 300, channels: 3, background: 'purple' } })
      .jpeg()
      .toBuffer();
    const ids = await Promise.all([
      uploadFile(platform.baseUrl, token, data, 'image/jpeg', 'a.jpg'),
      uploadFile(platform.baseUrl, token, data, 'image/jpeg', 'b.jpg'),
    ]);
    const assets = await Promise.all(ids.map(settle));
    expect(assets.map((a) => a.status)).toEqual(['ready', 'ready']);
    expect(await platform.blobs.get(sha256(data))).toMatchObject({ refcount: 2 });
    const blobs = await platform.db
      .selectFrom('blobs')
      .select('sha256')
      .where('sha256', '=', sha256(data))
      .execute();
    expect(blobs).toHaveLength(1);
  });
});

describe('scanning when clamd is away', () => {
  it('waits and retries; nothing is marked clean until clamd answers', async () => {
    const stack = inject('stack');
    const port = await freePort();
    const platform = await startPlatform({
      scanner: new ClamdScanner({ host: '127.0.0.1', port, timeoutMs: 2_000 }),
    });
    let clamd: ClamdHandle | undefined;
    try {
      const token = await platform.token('9009');
      const data = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'teal' } })
        .png()
        .toBuffer();
      const assetId = await uploadFile(platform.baseUrl, token, data, 'image/png', 'wait.png');
      const waiting = await eventually(
        'the scan stage',
        async () => (await request('GET', `${platform.baseUrl}/media/${assetId}`, { token })).body,
        (body) => (body.stage as { name?: string } | null)?.name === 'scan',
      );
      await new Promise((r) => setTimeout(r, 4_000));
      const still = await request('GET', `${platform.baseUrl}/media/${assetId}`, { token });
      expect(still.body).toMatchObject({
        status: 'processing',
        stage: { name: 'scan' },
        scan: { status: 'pending' },
      });
      expect(waiting.status).toBe('processing');

      clamd = await startClamd({ dataDir: path.join(stack.tmpDir, uniqueName('late-clamd')), port });
      const asset = await waitForStatus(platform.baseUrl, token, assetId, SETTLED, 90_000);
      expect(asset).toMatchObject({ status: 'ready', scan: { status: 'clean' } });
    } finally {
      await platform.stop();
      await clamd?.stop();
    }
  });
});
