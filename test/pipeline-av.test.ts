import { execFileSync } from 'node:child_process';
import type { LadderDecision } from '../activities/media/tools/per-title';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { request, eventually } from './helpers/http';
import { ffprobe } from './helpers/ffmpeg';
import { clip, tone, type ClipOptions } from './helpers/generate-media';
import { SETTLED, sha256, uploadFile, waitForStatus, type RenditionView } from './helpers/media';
import { startPlatform, uniqueName, type TestPlatform } from './helpers/stack';

/** Video and audio through the whole pipeline: real ffmpeg, the HLS ladder checked with ffprobe. */
describe('video and audio pipeline', () => {
  let platform: TestPlatform;
  let token: string;
  let dir: string;
  let operator: string;

  beforeAll(async () => {
    dir = path.join(inject('stack').tmpDir, uniqueName('av'));
    await fs.mkdir(dir, { recursive: true });
    platform = await startPlatform();
    token = await platform.token('8008');
    operator = await platform.token('1', { role: 'operator' });
  });
  afterAll(async () => platform?.stop());

  const settle = (assetId: string) => waitForStatus(platform.baseUrl, token, assetId, SETTLED, 240_000);
  const byName = (asset: Record<string, unknown>) =>
    Object.fromEntries((asset.renditions as RenditionView[]).map((r) => [r.name, r]));

  async function makeClip(name: string, o: ClipOptions): Promise<Buffer> {
    const file = path.join(dir, name);
    await clip(file, o);
    return fs.readFile(file);
  }

  /** Downloads the blob's published renditions into a directory, as a player would see them. */
  async function downloadRenditions(assetId: string): Promise<string> {
    const row = await platform.db
      .selectFrom('media_assets')
      .innerJoin('blobs', 'blobs.sha256', 'media_assets.blob_sha256')
      .select('blobs.rendition_prefix')
      .where('asset_id', '=', assetId)
      .executeTakeFirstOrThrow();
    const target = path.join(dir, uniqueName('out'));
    for (const key of await platform.store.list(row.rendition_prefix!)) {
      const file = path.join(target, key.slice(row.rendition_prefix!.length));
      await fs.mkdir(path.dirname(file), { recursive: true });
      const chunks: Buffer[] = [];
      for await (const c of await platform.store.read(key)) chunks.push(c as Buffer);
      await fs.writeFile(file, Buffer.concat(chunks));
    }
    return target;
  }

  async function ladderOf(outDir: string): Promise<{ name: string; width: number; height: number }[]> {
    const master = await fs.readFile(path.join(outDir, 'hls/master.m3u8'), 'utf8');
    const lines = master.split('\n');
    const variants: { name: string; width: number; height: number }[] = [];
    lines.forEach((line, i) => {
      if (!line.startsWith('#EXT-X-STREAM-INF')) return;
      expect(line).toMatch(/BANDWIDTH=\d+/);
      expect(line).toMatch(/CODECS="avc1\.[0-9a-fA-F]{6}/);
      const [w, h] = line
        .match(/RESOLUTION=(\d+)x(\d+)/)!
        .slice(1)
        .map(Number) as [number, number];
      variants.push({ name: lines[i + 1]!.trim(), width: w, height: h });
    });
    for (const v of variants) {
      const playlist = path.join(outDir, 'hls', v.name);
      const probed = await ffprobe(playlist);
      const video = probed.streams.find((s) => s.codec_type === 'video')!;
      expect([video.codec_name, video.width, video.height]).toEqual(['h264', v.width, v.height]);
      const text = await fs.readFile(playlist, 'utf8');
      const durations = [...text.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
      for (const d of durations.slice(0, -1)) expect(d).toBeLessThanOrEqual(4.6);
    }
    return variants;
  }

  it('a 1080p landscape clip with audio: 360p-1080p ladder, a 720p MP4, a poster, live progress', async () => {
    const data = await makeClip('landscape.mp4', { width: 1920, height: 1080, seconds: 8, audio: true });
    const assetId = await uploadFile(platform.baseUrl, token, data, 'video/mp4', 'landscape.mp4');
    const seen = new Set<string>();
    const asset = await eventually(
      'the clip to settle',
      async () => {
        const res = await request('GET', `${platform.baseUrl}/media/${assetId}`, { token });
        const stage = res.body.stage as { name: string; percent: number | null } | null;
        if (stage?.name === 'renditions' && typeof stage.percent === 'number') seen.add('percent');
        if (stage) seen.add(stage.name);
        return res.body;
      },
      (body) => SETTLED.includes(String(body.status)),
      240_000,
    );
    expect(asset).toMatchObject({
      status: 'ready',
      media: { kind: 'video', video: { codec: 'h264', width: 1920, height: 1080 }, audio: { codec: 'aac' } },
    });
    expect(seen).toContain('renditions');
    expect(seen).toContain('percent');
    const r = byName(asset);
    expect(r.hls).toMatchObject({ mimeType: 'application/vnd.apple.mpegurl', width: 1920, height: 1080 });
    expect(r.mp4).toMatchObject({ mimeType: 'video/mp4', width: 1280, height: 720 });
    expect(r.poster).toMatchObject({ mimeType: 'image/jpeg' });
    const out = await downloadRenditions(assetId);
    const ladder = await ladderOf(out);
    expect(ladder.map((v) => [v.width, v.height])).toEqual([
      [640, 360],
      [854, 480],
      [1280, 720],
      [1920, 1080],
    ]);
    const mp4 = await ffprobe(path.join(out, 'mp4/720p.mp4'));
    expect(Number(mp4.format.duration)).toBeCloseTo(8, 0);
    const audio = mp4.streams.find((s) => s.codec_type === 'audio')!;
    expect([audio.codec_name, audio.channels]).toEqual(['aac', 2]);
    const validated = (asset.events as { reason: string; details: Record<string, unknown> }[]).find(
      (e) => e.reason === 'renditions validated',
    );
    expect(Object.keys(validated!.details).join(' ')).toContain('ssim');
    // The per-title decision is in the asset's metadata: every rung in the master with its cap, reason, quality.
    const decision = (asset.media as { ladder: LadderDecision }).ladder;
    expect(decision.rungs.map((d) => `${d.width}x${d.height}`)).toEqual(
      ladder.map((v) => `${v.width}x${v.height}`),
    );
    for (const d of decision.rungs) {
      expect(d.capKbps).toBeLessThanOrEqual(d.fixedKbps * decision.margins.fixed);
      expect(d.attempts[d.publishedAttempt]!.ssim).toBeGreaterThan(0.9);
    }
    expect(decision.probe.windows.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'a portrait clip',
      { width: 720, height: 1280, seconds: 3, audio: true },
      'portrait.mp4',
      'video/mp4',
      [
        [360, 640],
        [480, 854],
        [720, 1280],
      ],
    ],
    [
      'a clip with rotation metadata',
      { width: 640, height: 360, seconds: 3, rotate: 90 as const },
      'rotated.mp4',
      'video/mp4',
      [[360, 640]],
    ],
    [
      'a VP9 webm',
      { width: 640, height: 480, seconds: 3, codec: 'vp9' as const, audio: true },
      'clip.webm',
      'video/webm',
      [
        [480, 360],
        [640, 480],
      ],
    ],
  ])('%s reaches ready with the right rungs', async (_what, options, filename, contentType, rungs) => {
    const data = await makeClip(filename, options);
    const assetId = await uploadFile(platform.baseUrl, token, data, contentType, filename);
    const asset = await settle(assetId);
    expect(asset.status, String(asset.statusReason)).toBe('ready');
    const ladder = await ladderOf(await downloadRenditions(assetId));
    expect(ladder.map((v) => [v.width, v.height])).toEqual(rungs);
  });

  it.each([
    ['an mp3', 'tone.mp3', 'audio/mpeg'],
    ['a wav', 'tone.wav', 'audio/wav'],
  ])('%s gets an AAC rendition and a waveform', async (_what, filename, contentType) => {
    const file = path.join(dir, filename);
    await tone(file, 3);
    const assetId = await uploadFile(platform.baseUrl, token, await fs.readFile(file), contentType, filename);
    const asset = await settle(assetId);
    // This platform has no scanner configured: the asset says so, and never claims to be clean.
    expect(asset).toMatchObject({ status: 'ready', media: { kind: 'audio' }, scan: { status: 'skipped' } });
    const r = byName(asset);
    expect(r.audio).toMatchObject({ mimeType: 'audio/mp4' });
    expect(r.waveform).toMatchObject({ mimeType: 'image/png', width: 1200, height: 200 });
    const out = await downloadRenditions(assetId);
    const probed = await ffprobe(path.join(out, 'audio.m4a'));
    expect(Number(probed.format.duration)).toBeCloseTo(3, 0);
    expect(probed.streams[0]).toMatchObject({ codec_name: 'aac', channels: 2 });
  });

  it('a truncated MP4 fails at its stage; operators list it and a retry runs the stage again', async () => {
    const whole = await makeClip('whole.mp4', { width: 320, height: 240, seconds: 3, audio: true });
    const data = whole.subarray(0, Math.floor(whole.length * 0.3));
    const assetId = await uploadFile(platform.baseUrl, token, data, 'video/mp4', 'broken.mp4');
    const asset = await settle(assetId);
    expect(asset).toMatchObject({ status: 'failed', failedStage: 'metadata' });
    expect(String(asset.statusReason)).toMatch(/^metadata failed: /);

    expect((await request('GET', `${platform.baseUrl}/admin/failures`, { token })).status).toBe(404);
    const failures = await request('GET', `${platform.baseUrl}/admin/failures`, { token: operator });
    expect(failures.status).toBe(200);
    expect(failures.body.failures).toEqual(
      expect.arrayContaining([expect.objectContaining({ assetId, stage: 'metadata', attempts: 1 })]),
    );

    expect((await request('POST', `${platform.baseUrl}/media/${assetId}/retry`, { token })).status).toBe(404);
    const retried = await request('POST', `${platform.baseUrl}/media/${assetId}/retry`, { token: operator });
    expect(retried.status).toBe(202);
    await eventually(
      'the retry to fail again',
      () => platform.assets.findById(assetId),
      (row) => row?.failure_attempts === 2,
      60_000,
    );
    const again = await request('POST', `${platform.baseUrl}/media/${assetId}/retry`, {
      token: operator,
    });
    expect([202, 409]).toContain(again.status);
    // An accepted retry puts the blob back to processing while the stage runs again: its outcome is what counts.
    if (again.status === 202) {
      await eventually(
        'the third attempt to fail too',
        () => platform.assets.findById(assetId),
        (row) => row?.failure_attempts === 3,
        60_000,
      );
    }
    expect(await platform.blobs.get(sha256(data))).toMatchObject({ status: 'failed' });
  });

  it('deleting during transcoding kills ffmpeg, removes temporary objects and the blob', async () => {
    const data = await makeClip('long.mp4', { width: 1920, height: 1080, seconds: 40, audio: true });
    const assetId = await uploadFile(platform.baseUrl, token, data, 'video/mp4', 'long.mp4');
    await eventually(
      'transcoding to start',
      async () => (await request('GET', `${platform.baseUrl}/media/${assetId}`, { token })).body,
      (body) => (body.stage as { name?: string } | null)?.name === 'renditions',
      120_000,
    );
    const sha = sha256(data);
    const ffmpegRunning = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => /(^|\/)ffmpeg\s/.test(l) && l.includes(sha));
    await eventually(
      'ffmpeg to run',
      async () => ffmpegRunning().length,
      (n) => n > 0,
      30_000,
    );

    expect((await request('DELETE', `${platform.baseUrl}/media/${assetId}`, { token })).status).toBe(202);
    const deleted = await waitForStatus(platform.baseUrl, token, assetId, ['deleted'], 60_000);
    expect(deleted.status).toBe('deleted');
    await eventually(
      'ffmpeg to be gone',
      async () => ffmpegRunning().length,
      (n) => n === 0,
      30_000,
    );
    expect(await platform.blobs.get(sha)).toBeUndefined();
    expect(await platform.store.list(`renditions/${sha}/`)).toEqual([]);
    expect(await platform.store.list(`blobs/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`)).toEqual([]);
  });
});
