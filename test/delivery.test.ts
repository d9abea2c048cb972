import fs from 'node:fs/promises';
import path from 'node:path';
import { ffprobe } from './helpers/ffmpeg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { NginxHandle } from '../devstack/nginx';
import { parseMaster, parseMasterMedia, parseMediaPlaylist } from '../activities/media/tools/hls-playlist';
import { queryString, signQuery } from '../domain/delivery/secure-link';
import { eventually, request } from './helpers/http';
import { clip, noisyPng } from './helpers/generate-media';
import { SETTLED, requestUpload, sha256, uploadFile, waitForStatus } from './helpers/media';
import { DELIVERY_SECRET, uniqueName, type TestPlatform } from './helpers/stack';
import { startPlatformBehindEdge } from './helpers/edge';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The platform behind a real nginx secure_link edge: every answer below went through nginx unless it says origin. */
describe('delivery: signed URLs, the origin and an nginx edge', () => {
  let platform: TestPlatform;
  let nginx: NginxHandle;
  let owner: string;
  let stranger: string;
  let image: Buffer;
  let imageId: string;
  let clipId: string;

  beforeAll(async () => {
    const dir = path.join(inject('stack').tmpDir, uniqueName('delivery'));
    await fs.mkdir(dir, { recursive: true });
    ({ platform, nginx } = await startPlatformBehindEdge(dir, { releaseWarmSeconds: 4 }));
    owner = await platform.token('4001');
    stranger = await platform.token('4002');
    image = await noisyPng(300, 200);
    await clip(path.join(dir, 'clip.mp4'), { width: 320, height: 240, seconds: 2, audio: true });
    [imageId, clipId] = await Promise.all([
      uploadFile(platform.baseUrl, owner, image, 'image/png', 'noise.png'),
      uploadFile(
        platform.baseUrl,
        owner,
        await fs.readFile(path.join(dir, 'clip.mp4')),
        'video/mp4',
        'c.mp4',
      ),
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
  });

  /** GET /media/:id/content, not following the redirect: the Location is what a client is handed. */
  async function located(id: string, rendition?: string, token = owner): Promise<string> {
    const query = rendition ? `?rendition=${rendition}` : '';
    const res = await fetch(`${platform.baseUrl}/media/${id}/content${query}`, {
      headers: { authorization: `Bearer ${token}` },
      redirect: 'manual',
    });
    expect(res.status, await res.clone().text()).toBe(302);
    return res.headers.get('location')!;
  }
  const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(url, { headers, method });
  const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());
  const edgeUrl = (id: string, p: string, query: string) => `${nginx.url}/d/${id}/${p}?${query}`;
  const now = () => Math.floor(Date.now() / 1000);

  it('serves the exact original through a signed URL, never to be cached', async () => {
    const url = await located(imageId);
    expect(url).toMatch(new RegExp(`^${nginx.url}/d/${imageId}/original\\?md5=[\\w-]{22}&expires=\\d+$`));
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(sha256(await bytes(res))).toBe(sha256(image));
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('private, no-store, max-age=0');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^"/);
  });

  it('refuses a tampered (403), expired (410) or missing token, at the edge and at the origin reached directly', async () => {
    const url = new URL(await located(imageId));
    const md5 = url.searchParams.get('md5')!;
    const tampered = edgeUrl(
      imageId,
      'original',
      `md5=${md5[0] === 'A' ? 'B' : 'A'}${md5.slice(1)}&expires=${url.searchParams.get('expires')}`,
    );
    const longer = edgeUrl(imageId, 'original', `md5=${md5}&expires=${now() + 86_400}`);
    const expired = queryString(signQuery(imageId, now() - 60, DELIVERY_SECRET));
    const otherAssets = new URL(await located(clipId)).search.slice(1);
    expect((await get(tampered)).status).toBe(403);
    expect((await get(longer)).status).toBe(403);
    expect((await get(edgeUrl(imageId, 'original', expired))).status).toBe(410);
    expect((await get(edgeUrl(imageId, 'original', otherAssets))).status).toBe(403);
    expect((await get(`${nginx.url}/d/${imageId}/original`)).status).toBe(403);

    const origin = `${platform.baseUrl}/origin/d/${imageId}/original`;
    expect((await get(origin)).status).toBe(403);
    expect((await get(`${origin}?${expired}`)).status).toBe(410);
    expect((await get(`${origin}?md5=${md5}&expires=${now() + 86_400}`)).status).toBe(403);
    expect((await get(`${origin}${url.search}`)).status).toBe(200);

    // Another owner gets no URL at all (the asset does not exist for them).
    expect(
      (await request('GET', `${platform.baseUrl}/media/${imageId}/content`, { token: stranger })).status,
    ).toBe(404);
  });

  it('answers a byte range (206), an unsatisfiable one (416), If-None-Match (304) and HEAD', async () => {
    const url = await located(imageId);
    const part = await get(url, { range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${image.length}`);
    const body = await bytes(part);
    expect(body.length).toBe(100);
    expect(Buffer.compare(body, image.subarray(0, 100))).toBe(0);

    const beyond = await get(url, { range: `bytes=${image.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${image.length}`);

    const etag = (await get(url, {}, 'HEAD')).headers.get('etag')!;
    const cached = await get(url, { 'if-none-match': etag });
    expect(cached.status).toBe(304);
    expect((await bytes(cached)).length).toBe(0);
    expect((await get(url, { 'if-none-match': '"something-else"' })).status).toBe(200);

    const head = await get(url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(image.length));
    expect(head.headers.get('content-type')).toBe('image/png');
    expect((await bytes(head)).length).toBe(0);
  });

  it('caches renditions immutably, names an unknown rendition and refuses an asset that is not ready', async () => {
    const thumb = await get(await located(imageId, 'thumb-256'));
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('cache-control')).toBe(IMMUTABLE);
    expect((await bytes(thumb)).subarray(8, 12).toString('latin1')).toBe('WEBP');

    const unknown = await request('GET', `${platform.baseUrl}/media/${imageId}/content?rendition=nope`, {
      token: owner,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('nope');
    expect(unknown.body.detail).toContain('thumb-256');

    const pending = await requestUpload(platform.baseUrl, owner, {
      filename: 'later.png',
      contentType: 'image/png',
      sizeBytes: 10,
    });
    const early = await request('GET', `${platform.baseUrl}/media/${pending.body.assetId}/content`, {
      token: owner,
    });
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain('pending');
  });

  it('plays HLS through the signed master URL alone: variants, init and segments carry the token', async () => {
    const masterUrl = await located(clipId, 'hls');
    expect(masterUrl).toContain(`/d/${clipId}/hls/master.m3u8?md5=`);
    const master = await get(masterUrl);
    expect(master.status).toBe(200);
    expect(master.headers.get('content-type')).toContain('application/vnd.apple.mpegurl');
    expect(master.headers.get('cache-control')).toBe(IMMUTABLE);
    const variants = parseMaster(await master.text());
    expect(variants.length).toBeGreaterThan(0);
    expect(variants[0]!.uri).toMatch(/^360p\/index\.m3u8\?md5=[\w-]{22}&expires=\d+$/);

    const variantUrl = new URL(variants[0]!.uri, masterUrl).toString();
    const variant = await get(variantUrl);
    expect(variant.status).toBe(200);
    const media = parseMediaPlaylist(await variant.text());
    expect(media.map).toMatch(/^init[\w]*\.mp4\?md5=/);
    expect(media.segments[0]!.uri).toMatch(/^seg-000\.m4s\?md5=/);

    const init = await get(new URL(media.map!, variantUrl).toString());
    expect(init.status).toBe(200);
    expect(init.headers.get('content-type')).toBe('video/mp4');
    await init.arrayBuffer();
    const segment = await get(new URL(media.segments[0]!.uri, variantUrl).toString());
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/iso.segment');
    expect(segment.headers.get('cache-control')).toBe(IMMUTABLE);
    expect((await bytes(segment)).length).toBeGreaterThan(1000);

    // The shared audio rendition (EXT-X-MEDIA URI="...") carries the token too, and plays through the edge.
    const masterText = await (await get(masterUrl)).text();
    const [audio] = parseMasterMedia(masterText);
    expect(audio).toMatchObject({ TYPE: 'AUDIO', 'GROUP-ID': 'audio' });
    expect(audio!.URI).toMatch(/^audio\/index\.m3u8\?md5=[\w-]{22}&expires=\d+$/);
    expect(variants.every((v) => v.attributes.AUDIO === 'audio')).toBe(true);
    const audioUrl = new URL(audio!.URI!, masterUrl).toString();
    const audioPlaylist = parseMediaPlaylist(await (await get(audioUrl)).text());
    expect(audioPlaylist.map).toMatch(/^init[\w]*\.mp4\?md5=/);
    const audioSegment = await get(new URL(audioPlaylist.segments[0]!.uri, audioUrl).toString());
    expect(audioSegment.status).toBe(200);
    expect((await bytes(audioSegment)).length).toBeGreaterThan(100);
    // Without the token the edge refuses the audio playlist.
    expect((await get(audioUrl.split('?')[0]!)).status).toBe(403);

    // A player with nothing but the URL: ffprobe walks master → variant → init → segments over HTTP.
    const { streams } = await ffprobe(masterUrl);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 320 });
    expect(streams.some((s) => s.codec_type === 'audio')).toBe(true);
  });

  it('counts successful reads in memory and writes them in one flush', async () => {
    const count = async () =>
      Number(
        (
          await platform.db
            .selectFrom('asset_access')
            .select('access_count')
            .where('asset_id', '=', imageId)
            .executeTakeFirst()
        )?.access_count ?? 0,
      );
    await platform.accessRecorder.flush();
    const before = await count();
    const url = await located(imageId);
    const etag = (await get(url, {}, 'HEAD')).headers.get('etag')!;
    for (let i = 0; i < 5; i++) await bytes(await get(url));
    await get(url, { 'if-none-match': etag }); // not a read
    await get(`${nginx.url}/d/${imageId}/original`); // refused: not a read
    await platform.accessRecorder.flush();
    expect(await count()).toBe(before + 5);
  });

  it('gives a public asset a stable unsigned /p/ URL, until it is private again', async () => {
    const visibility = (v: string) =>
      request('PUT', `${platform.baseUrl}/media/${imageId}/visibility`, {
        token: owner,
        body: { visibility: v },
      });
    expect((await visibility('public')).status).toBe(200);
    const url = await located(imageId);
    expect(url).toBe(`${nginx.url}/p/${imageId}/original`);
    expect(await located(imageId)).toBe(url);
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(sha256(await bytes(res))).toBe(sha256(image));
    expect((await get(`${nginx.url}/p/${imageId}/r/thumb-256`)).status).toBe(200);
    expect((await get(`${nginx.url}/p/${clipId}/original`)).status).toBe(404);

    expect((await visibility('private')).status).toBe(200);
    expect((await get(url)).status).toBe(404);
  });

  it('stops serving a deleted asset, even with a valid token', async () => {
    const url = await located(imageId);
    expect((await get(url)).status).toBe(200);
    expect((await request('DELETE', `${platform.baseUrl}/media/${imageId}`, { token: owner })).status).toBe(
      202,
    );
    await waitForStatus(platform.baseUrl, owner, imageId, ['deleted']);
    expect((await get(url)).status).toBe(404);
  });

  it('warms the edge with the playlists, first segments and posters before a scheduled release', async () => {
    const accessLog = path.join(nginx.dataDir, 'access.log');
    const publishAt = new Date(Math.ceil((Date.now() + 9_000) / 1000) * 1000);
    const scheduled = await request('PUT', `${platform.baseUrl}/media/${clipId}/visibility`, {
      token: owner,
      body: { visibility: 'public', publishAt: publishAt.toISOString() },
    });
    expect(scheduled.status).toBe(200);
    const readWarmUp = async () =>
      (await fs.readFile(accessLog, 'utf8'))
        .split('\n')
        .map((l) => /\[([^\]]+)\] "GET \/p\/([^/]+)\/([^? ]+)\?md5=[^ ]+ HTTP\/1\.1" (\d+)/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[2] === clipId)
        .map((m) => ({ at: m[1]!, path: m[3]!, status: Number(m[4]) }));
    // Once the warm-up has begun, what it should fetch is known from the playlists (read here through /d/, which
    // the log lines below do not count): wait for all of it, since its fetches run at once and log in any order.
    await eventually('the warm-up through the edge', readWarmUp, (lines) => lines.length > 0, 20_000);
    const query = queryString(signQuery(clipId, now() + 60, DELIVERY_SECRET));
    const variants = parseMaster(await (await get(edgeUrl(clipId, 'hls/master.m3u8', query))).text());
    expect(variants.length).toBeGreaterThan(0);
    const firstSegments = new Map<string, string[]>();
    for (const variant of variants) {
      const uri = variant.uri.split('?')[0]!;
      const rung = uri.slice(0, uri.lastIndexOf('/') + 1);
      const playlist = parseMediaPlaylist(await (await get(edgeUrl(clipId, `hls/${uri}`, query))).text());
      firstSegments.set(
        `hls/${rung}`,
        playlist.segments.slice(0, 2).map((seg) => `hls/${rung}${seg.uri.split('?')[0]}`),
      );
    }
    const expected = [
      'hls/master.m3u8',
      'r/poster',
      'hls/audio/index.m3u8',
      ...variants.map((v) => `hls/${v.uri.split('?')[0]!}`),
      ...[...firstSegments.values()].flat(),
    ];
    const warmed = await eventually(
      'every playlist, poster and first segment warmed',
      readWarmUp,
      (lines) => expected.every((p) => lines.some((l) => l.path === p)),
      20_000,
    );
    // Before the release, through the edge, and every answer a 200 the edge could keep.
    for (const line of warmed) {
      const at = Date.parse(line.at.replace(/^(\d+)\/(\w+)\/(\d+):(\d+:\d+:\d+) (.*)$/, '$2 $1 $3 $4 $5'));
      expect(at, line.path).toBeLessThan(publishAt.getTime());
      expect(line.status, line.path).toBe(200);
    }
    // Only the first two segments of each rung: the warm-up does not pull whole videos through the edge.
    const paths = warmed.map((l) => l.path);
    for (const [rung, first] of firstSegments) {
      expect(paths.filter((p) => p.startsWith(rung) && p.endsWith('.m4s')).sort()).toEqual([...first].sort());
    }
    // Nobody else could fetch them before the release: the public URL without a token is refused until then.
    expect((await get(`${nginx.url}/p/${clipId}/r/poster`)).status).toBe(404);
    await eventually(
      'the release',
      async () => (await get(`${nginx.url}/p/${clipId}/r/poster`)).status,
      (s) => s === 200,
      20_000,
    );
  });
});
