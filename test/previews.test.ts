import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { NginxHandle } from '../devstack/nginx';
import { thumbnailWorkflowId } from '../workflows/definitions';
import { colourClip, nearest } from './helpers/colour-clip';
import { ffmpeg } from './helpers/ffmpeg';
import { serveObjectRanges } from '../infra/adapters/range-server';
import { ThumbnailRepository } from '../infra/adapters/thumbnail-repository';
import { frameAt } from '../activities/media/tools/frame-at';
import { noisyPng } from './helpers/generate-media';
import { request } from './helpers/http';
import { SETTLED, uploadFile, waitForStatus, type RenditionView } from './helpers/media';
import { parseThumbnailVtt } from './helpers/vtt';
import { uniqueName, type TestPlatform } from './helpers/stack';
import { startPlatformBehindEdge } from './helpers/edge';

/** Storyboards, previews, thumbnails at a time and AVIF, through the API and a real nginx edge. */
describe('previews on the real stack', () => {
  let platform: TestPlatform;
  let nginx: NginxHandle;
  let owner: string;
  let stranger: string;
  let videoId: string;
  let imageId: string;

  beforeAll(async () => {
    const dir = path.join(inject('stack').tmpDir, uniqueName('previews'));
    await fs.mkdir(dir, { recursive: true });
    ({ platform, nginx } = await startPlatformBehindEdge(dir, { thumbnailsPerAsset: 3 }));
    owner = await platform.token('7001');
    stranger = await platform.token('7002');
    await colourClip(path.join(dir, 'colours.mp4'));
    [videoId, imageId] = await Promise.all([
      uploadFile(
        platform.baseUrl,
        owner,
        await fs.readFile(path.join(dir, 'colours.mp4')),
        'video/mp4',
        'c.mp4',
      ),
      uploadFile(platform.baseUrl, owner, await noisyPng(1200, 800), 'image/png', 'noise.png'),
    ]);
    for (const id of [videoId, imageId]) {
      expect(await waitForStatus(platform.baseUrl, owner, id, SETTLED, 240_000)).toMatchObject({
        status: 'ready',
      });
    }
  }, 300_000);
  afterAll(async () => {
    await nginx?.stop();
    await platform?.stop();
  });

  const renditions = async (id: string) =>
    (
      await request<{ renditions: RenditionView[] }>('GET', `${platform.baseUrl}/media/${id}`, {
        token: owner,
      })
    ).body.renditions;
  async function located(id: string, rendition: string): Promise<string> {
    const res = await request('GET', `${platform.baseUrl}/media/${id}/content?rendition=${rendition}`, {
      token: owner,
      redirect: 'manual',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(302);
    return res.headers.get('location')!;
  }
  const thumbnail = (query: string, token = owner, id = videoId) =>
    request('GET', `${platform.baseUrl}/media/${id}/thumbnail?${query}`, { token, redirect: 'manual' });
  const bytes = async (url: string) => {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    return { type: res.headers.get('content-type'), data: Buffer.from(await res.arrayBuffer()) };
  };

  it('publishes the storyboard, its sheets and the animated preview with the video', async () => {
    const byName = new Map((await renditions(videoId)).map((r) => [r.name, r]));
    expect(byName.get('storyboard')).toMatchObject({ mimeType: 'text/vtt' });
    expect(byName.get('storyboard-0.jpg')).toMatchObject({ mimeType: 'image/jpeg' });
    expect(byName.get('preview')).toMatchObject({ mimeType: 'image/webp', width: 320, height: 180 });
    const preview = await bytes(await located(videoId, 'preview'));
    expect(preview.type).toBe('image/webp');
    expect((await sharp(preview.data, { pages: -1 }).metadata()).pages).toBeGreaterThan(1);
  });

  it('serves the VTT through the edge with signed cue URLs that load the sprites the cues fit in', async () => {
    const vttUrl = await located(videoId, 'storyboard');
    const vtt = await bytes(vttUrl);
    expect(vtt.type).toMatch(/^text\/vtt/);
    const cues = parseThumbnailVtt(vtt.data.toString('utf8'));
    expect(cues.length).toBe(6);
    expect(cues[0]!.start).toBe(0);
    expect(cues.at(-1)!.end).toBeCloseTo(6, 1);
    const token = new URL(vttUrl).search;
    const sheets = new Map<string, { width: number; height: number; data: Buffer }>();
    for (const cue of cues) {
      // The cue URL carries the VTT's own token, so a player resolving it against the VTT's URL is let in.
      expect(cue.url).toBe(`storyboard-0.jpg${token}`);
      const url = new URL(cue.url, vttUrl).toString();
      if (!sheets.has(url)) {
        const sheet = await bytes(url);
        expect(sheet.type).toBe('image/jpeg');
        const meta = await sharp(sheet.data).metadata();
        sheets.set(url, { width: meta.width, height: meta.height, data: sheet.data });
      }
      const sheet = sheets.get(url)!;
      expect(cue.x + cue.w).toBeLessThanOrEqual(sheet.width);
      expect(cue.y + cue.h).toBeLessThanOrEqual(sheet.height);
    }
    // Without the token the same sheet is refused at the edge.
    expect((await fetch(new URL('storyboard-0.jpg', vttUrl).toString())).status).toBe(403);
    // A sheet is a rendition like any other: its own content URL serves the same bytes.
    const [sheetUrl, sheet] = [...sheets].find(([url]) =>
      new URL(url).pathname.endsWith('/storyboard-0.jpg'),
    )!;
    expect((await bytes(await located(videoId, 'storyboard-0.jpg'))).data).toEqual(sheet.data);
    expect(sheetUrl).toContain('storyboard-0.jpg');
    for (const bad of ['storyboard-0..jpg', '.jpg', 'storyboard-0.', '../hls']) {
      const refused = await request('GET', `${platform.baseUrl}/media/${videoId}/content?rendition=${bad}`, {
        token: owner,
        redirect: 'manual',
      });
      expect(refused.status, bad).toBe(400);
    }
  });

  it('makes a thumbnail at a time on the first request, then serves the cached rendition', async () => {
    const first = await thumbnail('time=2.5&width=160');
    expect(first.status, JSON.stringify(first.body)).toBe(302);
    const location = first.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${nginx.url}/d/${videoId}/r/thumb-t2500-w160\\?md5=`));
    const frame = await bytes(location);
    expect(frame.type).toBe('image/jpeg');
    const { data, info } = await sharp(frame.data).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([160, 90]);
    const centre = (45 * 160 + 80) * info.channels;
    expect(nearest(data.subarray(centre, centre + 3))).toBe(1); // green: 2–4 s

    const sha = (await platform.assets.findById(videoId))!.blob_sha256!;
    const cached = (await platform.blobs.renditions(sha)).find((r) => r.name === 'thumb-t2500-w160');
    expect(cached).toMatchObject({ mime_type: 'image/jpeg', width: 160, height: 90 });
    const handle = platform.temporal.workflow.getHandle(
      thumbnailWorkflowId({ sha256: sha, name: 'thumb-t2500-w160' }),
    );
    const run = (await handle.describe()).runId;

    const again = await thumbnail('time=2.5&width=160');
    expect(again.status).toBe(302);
    expect(new URL(again.headers.get('location')!).pathname).toBe(new URL(location).pathname);
    // Served from the cache: no second workflow ran for it.
    expect((await handle.describe()).runId).toBe(run);
  });

  it('gives the first and the last frame at 0 and at the duration; a width above the video is its own', async () => {
    const start = await thumbnail('time=0&width=1920');
    expect(start.status, JSON.stringify(start.body)).toBe(302);
    expect(start.headers.get('location')).toContain('/r/thumb-t0-w320?');
    const end = await thumbnail('time=6');
    expect(end.status, JSON.stringify(end.body)).toBe(302);
    for (const [res, colour] of [
      [start, 0],
      [end, 2],
    ] as const) {
      const frame = await bytes(res.headers.get('location')!);
      const { data, info } = await sharp(frame.data).raw().toBuffer({ resolveWithObject: true });
      const centre = ((info.height >> 1) * info.width + (info.width >> 1)) * info.channels;
      expect(nearest(data.subarray(centre, centre + 3))).toBe(colour);
    }
  });

  it('refuses a new time beyond the bound (429) while cached times are still served', async () => {
    // Three are cached by the tests above (THUMBNAILS_PER_ASSET=3 here).
    const refused = await thumbnail('time=1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ maxCached: 3 });
    expect((await thumbnail('time=2.5&width=160')).status).toBe(302);
  });

  it('lets only one of two racing thumbnails take the last place under the bound', async () => {
    const sha = (await platform.assets.findById(videoId))!.blob_sha256!;
    const blob = (await platform.blobs.get(sha))!;
    const repo = new ThumbnailRepository(platform.db);
    const held = await repo.count(sha);
    const row = (name: string) => ({
      name,
      objectKey: `${blob.rendition_prefix}thumbs/${name}.jpg`,
      mimeType: 'image/jpeg',
      sizeBytes: 1,
    });
    // Forced interleaving: the blob's row is held while both start, so both are past their start when it is let
    // go. Without add()'s row lock both would count the same and both insert.
    let racing: Promise<string[]> | undefined;
    await platform.db.transaction().execute(async (tx) => {
      await tx.selectFrom('blobs').select('sha256').where('sha256', '=', sha).forUpdate().execute();
      racing = Promise.all([
        repo.add(sha, blob.rendition_prefix!, row('thumb-t111-w32'), held + 1),
        repo.add(sha, blob.rendition_prefix!, row('thumb-t222-w32'), held + 1),
      ]);
      const waiting = async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`.execute(platform.db)
          ).rows[0]!.n,
        );
      for (let i = 0; i < 100 && (await waiting()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(2);
    });
    const outcomes = await racing!;
    expect(outcomes.sort()).toEqual(['added', 'limit']);
    expect(await repo.count(sha)).toBe(held + 1);
    // A set republished since (another prefix) takes nothing.
    expect(await repo.add(sha, 'renditions/elsewhere/', row('thumb-t333-w32'), 100)).toBe('gone');
    await platform.db
      .deleteFrom('blob_renditions')
      .where('blob_sha256', '=', sha)
      .where('name', 'in', ['thumb-t111-w32', 'thumb-t222-w32'])
      .execute();
  });

  it('answers bad input with problems naming it', async () => {
    const beyond = await thumbnail('time=6.5');
    expect(beyond.status).toBe(400);
    expect(beyond.body).toMatchObject({ errors: [{ field: 'time' }] });
    expect(String((beyond.body as { detail: string }).detail)).toContain('duration');
    for (const query of [
      'time=-1',
      'time=abc',
      'time=1e3',
      '',
      'time=1&width=8',
      'time=1&width=99999',
      'time=1&x=2',
    ]) {
      const res = await thumbnail(query);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await thumbnail('time=1', stranger)).status).toBe(404);
    const image = await thumbnail('time=0', owner, imageId);
    expect(image.status).toBe(409);
    expect(String((image.body as { detail: string }).detail)).toContain('not a video');
    const pending = await request<{ assetId: string }>('POST', `${platform.baseUrl}/media/upload-url`, {
      token: owner,
      body: { filename: 'p.mp4', contentType: 'video/mp4', sizeBytes: 1000 },
    });
    expect((await thumbnail('time=0', owner, pending.body.assetId)).status).toBe(409);
  });

  it('gives images AVIF renditions only where smaller than the WebP of the same size', async () => {
    const byName = new Map((await renditions(imageId)).map((r) => [r.name, r]));
    const avifs = [...byName.values()].filter((r) => r.mimeType === 'image/avif');
    expect(avifs.length).toBeGreaterThan(0);
    for (const avif of avifs) {
      const webp = byName.get(avif.name.replace(/-avif$/, ''))!;
      expect(webp.mimeType).toBe('image/webp');
      expect(avif.sizeBytes).toBeLessThan(webp.sizeBytes);
      expect([avif.width, avif.height]).toEqual([webp.width, webp.height]);
      const served = await bytes(await located(imageId, avif.name));
      expect(served.type).toBe('image/avif');
      expect((await sharp(served.data).metadata()).compression).toBe('av1');
    }
  });

  it('reads a frame deep in a stored video through ranged reads, not the whole object', async () => {
    const dir = path.join(inject('stack').tmpDir, uniqueName('ranges'));
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'long.mp4');
    await ffmpeg(
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=40,noise=alls=40:allf=t'],
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-crf',
        '20',
        '-g',
        '50',
        '-movflags',
        '+faststart',
        file,
      ],
    );
    const data = await fs.readFile(file);
    await platform.store.write('tests/long.mp4', data);
    const ranges = await serveObjectRanges(platform.store, 'tests/long.mp4');
    try {
      const size = await frameAt({
        input: ranges.url,
        dir,
        file: 'deep.jpg',
        timeSeconds: 35,
        width: 320,
        displayWidth: 640,
        displayHeight: 360,
      });
      expect(size).toEqual({ width: 320, height: 180 });
      // The index and about a GOP near 35 s: a small share of the file.
      expect(ranges.bytesServed()).toBeLessThan(data.length / 4);
    } finally {
      await ranges.close();
    }
  });
});
