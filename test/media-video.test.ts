import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, ffprobe, ffmpegChildren } from './helpers/ffmpeg';
import { parseMaster, parseMasterMedia, parseMediaPlaylist } from '../activities/media/tools/hls-playlist';
import type { LadderDecision } from '../activities/media/tools/per-title';
import { ffprobe as probeWithLimit, probeAv } from '../activities/media/tools/probe';
import { MediaError, type AvInfo, type RenditionFile } from '../activities/media/tools/types';
import { validateVideo } from '../activities/media/tools/validate';
import { transcodeVideo } from '../activities/media/tools/video';

const X264_FAST = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

let dir: string;
const media = {
  landscape: '',
  portrait: '',
  rotated: '',
  webm: '',
  truncated: '',
  garbage: '',
};

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-media-video-'));
  const at = (name: string) => path.join(dir, name);
  Object.assign(media, {
    landscape: at('landscape.mp4'),
    portrait: at('portrait.mp4'),
    rotated: at('rotated.mp4'),
    webm: at('tiny.webm'),
    truncated: at('truncated.mp4'),
    garbage: at('garbage.mp4'),
  });

  // 6 s 1080p with sound, fading in from black so a first-frame poster would be black.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=6'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=6'],
    ...['-vf', 'fade=t=in:st=0:d=1', ...X264_FAST, '-c:a', 'aac', '-b:a', '96k', media.landscape],
  );
  // Portrait, no audio track.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=720x1280:rate=30:duration=4'],
    ...[...X264_FAST, media.portrait],
  );
  // Landscape pixels with a 90° display matrix: plays as 360x640. The rotate tag only becomes a display matrix
  // when the stream is copied, so encode first, then remux.
  const unrotated = at('unrotated.mp4');
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=3'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=44100:duration=3'],
    ...[...X264_FAST, '-c:a', 'aac', unrotated],
  );
  await ffmpeg('-i', unrotated, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', media.rotated);
  // VP9 + Opus in WebM, smaller than 360p.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=2'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=550:sample_rate=48000:duration=2'],
    ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
    ...['-c:a', 'libopus', '-b:a', '64k', media.webm],
  );
  // The moov box of a plain (not faststart) MP4 is at the end: the first 30 % has no index.
  const whole = await fs.readFile(unrotated);
  await fs.writeFile(media.truncated, whole.subarray(0, Math.floor(whole.length * 0.3)));
  await fs.writeFile(media.garbage, Buffer.from('this is not a video '.repeat(4000)));
}, 120_000);

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('probeAv', () => {
  it('reads a landscape clip with audio', async () => {
    const info = await probeAv(media.landscape);
    expect(info).toMatchObject({
      kind: 'video',
      video: {
        codec: 'h264',
        width: 1920,
        height: 1080,
        rotation: 0,
        displayWidth: 1920,
        displayHeight: 1080,
        frameRate: 30,
      },
      audio: { codec: 'aac', channels: 1, sampleRate: 48000 },
    });
    expect(info.container).toContain('mp4');
    expect(info.durationSeconds).toBeCloseTo(6, 1);
    expect(info.bitRate).toBeGreaterThan(0);
  });

  it('reports the display rotation and swaps the displayed size', async () => {
    const info = await probeAv(media.rotated);
    expect(info.video).toMatchObject({
      width: 640,
      height: 360,
      rotation: 90,
      displayWidth: 360,
      displayHeight: 640,
    });
  });

  it('reads VP9/Opus WebM and a video without audio', async () => {
    const webm = await probeAv(media.webm);
    expect(webm).toMatchObject({
      kind: 'video',
      video: { codec: 'vp9', width: 320, height: 240, frameRate: 25 },
      audio: { codec: 'opus' },
    });
    expect(webm.container).toContain('webm');
    expect(webm.durationSeconds).toBeCloseTo(2, 0);
    const portrait = await probeAv(media.portrait);
    expect(portrait.audio).toBeUndefined();
    expect(portrait.video).toMatchObject({ displayWidth: 720, displayHeight: 1280 });
  });

  it('rejects a truncated MP4 and a file that is not media with MediaError', async () => {
    await expect(probeAv(media.truncated)).rejects.toBeInstanceOf(MediaError);
    await expect(probeAv(media.garbage)).rejects.toBeInstanceOf(MediaError);
    await expect(probeAv(path.join(dir, 'missing.mp4'))).rejects.toBeInstanceOf(MediaError);
    await expect(probeAv(media.truncated)).rejects.toThrow(
      /ffprobe cannot read the file: .*moov atom not found/,
    );
  });

  it('ends an ffprobe that does not finish in time: a MediaError naming the limit, and no process left', async () => {
    // A named pipe nobody writes to: ffprobe blocks opening it, as it would on input built to stall it.
    const fifo = path.join(dir, 'stalled.mp4');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(probeWithLimit(fifo, 1_000)).rejects.toThrow(
      new MediaError('ffprobe did not finish within 1 s', { src: fifo }),
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    const left = execFileSync('ps', ['-eo', 'args']).toString().split('\n');
    expect(left.filter((l) => l.startsWith('ffprobe') && l.includes(fifo))).toEqual([]);
  });
});

interface Transcoded {
  info: AvInfo;
  outDir: string;
  renditions: RenditionFile[];
  ladder: LadderDecision;
  progress: number[];
  ms: number;
}

async function transcode(src: string, name: string): Promise<Transcoded> {
  const info = await probeAv(src);
  const outDir = path.join(dir, name);
  const progress: number[] = [];
  const started = performance.now();
  const { renditions, ladder } = await transcodeVideo(src, outDir, info, {
    onProgress: (p) => progress.push(p),
  });
  return { info, outDir, renditions, ladder, progress, ms: performance.now() - started };
}

/** Checks every variant against the ladder with ffprobe; returns the master's variants. */
async function expectLadder(t: Transcoded, expected: string[], withAudio: boolean) {
  const masterText = await fs.readFile(path.join(t.outDir, 'hls/master.m3u8'), 'utf8');
  const variants = parseMaster(masterText);
  expect(variants.map((v) => v.uri)).toEqual(expected.map((s) => `${s.split(' ')[0]}/index.m3u8`));
  const ladder = t.ladder.rungs;
  expect(ladder.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(expected);
  // Audio is encoded once: one AAC rendition in an audio group every variant names.
  const audioGroup = parseMasterMedia(masterText);
  expect(audioGroup).toEqual(
    withAudio
      ? [expect.objectContaining({ TYPE: 'AUDIO', 'GROUP-ID': 'audio', URI: 'audio/index.m3u8' })]
      : [],
  );
  if (withAudio) {
    const audio = await ffprobe(path.join(t.outDir, 'hls/audio/index.m3u8'));
    expect(audio.streams.map((s) => s.codec_name)).toEqual(['aac']);
  }

  for (const [i, rung] of ladder.entries()) {
    const variant = variants[i]!;
    expect(Number(variant.attributes.BANDWIDTH)).toBeGreaterThanOrEqual(
      Number(variant.attributes['AVERAGE-BANDWIDTH']),
    );
    expect(Number(variant.attributes['AVERAGE-BANDWIDTH'])).toBeGreaterThan(0);
    expect(variant.attributes.RESOLUTION).toBe(`${rung.width}x${rung.height}`);
    expect(variant.attributes.AUDIO).toBe(withAudio ? 'audio' : undefined);
    expect(variant.attributes.CODECS).toMatch(
      withAudio ? /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/ : /^avc1\.64[0-9a-f]{4}$/,
    );

    const playlist = path.join(t.outDir, 'hls', variant.uri);
    const probed = await ffprobe(playlist);
    const v = probed.streams.find((s) => s.codec_type === 'video');
    expect(v).toMatchObject({ codec_name: 'h264', width: rung.width, height: rung.height });
    expect(probed.streams.find((s) => s.codec_type === 'audio')).toBeUndefined();

    const media = parseMediaPlaylist(await fs.readFile(playlist, 'utf8'));
    expect(media.ended).toBe(true);
    expect(media.map).toBeDefined();
    const durations = media.segments.map((s) => s.durationSeconds);
    for (const d of durations.slice(0, -1)) expect(d).toBeGreaterThan(3.5);
    for (const d of durations.slice(0, -1)) expect(d).toBeLessThanOrEqual(4.5);
    const total = durations.reduce((a, b) => a + b, 0);
    expect(Math.abs(total - t.info.durationSeconds)).toBeLessThan(0.5);
    for (const segment of media.segments) {
      await expect(fs.stat(path.join(path.dirname(playlist), segment.uri))).resolves.toBeTruthy();
    }
  }
  return variants;
}

describe('transcodeVideo and validateVideo', () => {
  let landscape: Transcoded;

  it('makes the 1080p ladder, a faststart 720p MP4 and a poster from a 1080p clip', async () => {
    landscape = await transcode(media.landscape, 'out-landscape');
    console.log(`1080p 6 s clip: transcodeVideo took ${(landscape.ms / 1000).toFixed(1)} s`);

    await expectLadder(landscape, ['360p 640x360', '480p 854x480', '720p 1280x720', '1080p 1920x1080'], true);

    const byName = Object.fromEntries(landscape.renditions.map((r) => [r.name, r]));
    expect(byName.hls).toEqual({
      name: 'hls',
      relativePath: 'hls/master.m3u8',
      mimeType: 'application/vnd.apple.mpegurl',
      width: 1920,
      height: 1080,
    });
    expect(byName.mp4).toMatchObject({
      relativePath: 'mp4/720p.mp4',
      mimeType: 'video/mp4',
      width: 1280,
      height: 720,
    });
    expect(byName.mp4!.durationSeconds).toBeCloseTo(6, 0);
    expect(byName.mp4!.bitRate).toBeGreaterThan(1_000_000);
    expect(byName.poster).toMatchObject({
      relativePath: 'poster.jpg',
      mimeType: 'image/jpeg',
      width: 1280,
      height: 720,
    });

    const mp4Path = path.join(landscape.outDir, 'mp4/720p.mp4');
    const mp4 = await ffprobe(mp4Path);
    expect(mp4.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const bytes = await fs.readFile(mp4Path);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat')); // +faststart
    // Encoded once: the MP4's video packets are the 720p rung's, byte for byte (framemd5 of the copied packets).
    const packets = (input: string) =>
      execFileSync(
        'ffmpeg',
        ['-v', 'error', '-i', input, '-map', '0:v:0', '-c', 'copy', '-f', 'framemd5', '-'],
        {
          encoding: 'utf8',
        },
      )
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(',').at(-1)!.trim());
    const mp4Packets = packets(mp4Path);
    expect(mp4Packets.length).toBeGreaterThan(150);
    expect(mp4Packets).toEqual(packets(path.join(landscape.outDir, 'hls/720p/index.m3u8')));
    expect(mp4Packets).not.toEqual(packets(path.join(landscape.outDir, 'hls/480p/index.m3u8')));

    // The clip fades in from black: the poster must come from later, brighter frames.
    const firstFrame = await sharp(
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-i',
        media.landscape,
        '-frames:v',
        '1',
        '-f',
        'image2pipe',
        '-c:v',
        'png',
        '-',
      ]),
    )
      .greyscale()
      .stats();
    const poster = await sharp(path.join(landscape.outDir, 'poster.jpg')).greyscale().stats();
    expect(firstFrame.channels[0]!.mean).toBeLessThan(20);
    expect(poster.channels[0]!.mean).toBeGreaterThan(60);

    expect(landscape.progress.length).toBeGreaterThan(2);
    expect(landscape.progress).toEqual([...landscape.progress].sort((a, b) => a - b));
    expect(landscape.progress.at(-1)).toBe(100);
    expect(landscape.progress.every((p) => p >= 0 && p <= 100)).toBe(true);
  });

  it('validates the good output with its measurements', async () => {
    const report = await validateVideo(
      media.landscape,
      landscape.outDir,
      landscape.info,
      landscape.renditions,
    );
    expect(report.reason).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(report.measurements['ssim.top']).toBeGreaterThanOrEqual(0.9);
    expect(report.measurements['hls/720p.durationSeconds']).toBeCloseTo(6, 0);
    expect(report.measurements['mp4.width']).toBe(1280);
  });

  it('fails validation when a variant playlist is gone or the MP4 is too short', async () => {
    const missing = path.join(dir, 'tampered-missing');
    await fs.cp(landscape.outDir, missing, { recursive: true });
    await fs.rm(path.join(missing, 'hls/480p/index.m3u8'));
    const gone = await validateVideo(media.landscape, missing, landscape.info, landscape.renditions);
    expect(gone.ok).toBe(false);
    expect(gone.reason).toContain('hls/480p playlist hls/480p/index.m3u8 is missing');

    const short = path.join(dir, 'tampered-short');
    await fs.cp(landscape.outDir, short, { recursive: true });
    const mp4 = path.join(short, 'mp4/720p.mp4');
    await ffmpeg('-i', path.join(landscape.outDir, 'mp4/720p.mp4'), '-t', '3', '-c', 'copy', mp4);
    const cut = await validateVideo(media.landscape, short, landscape.info, landscape.renditions);
    expect(cut.ok).toBe(false);
    expect(cut.reason).toMatch(/mp4 duration 3\.\d\d s differs from source 6\.00 s by more than 0\.5 s/);
    expect(cut.measurements['mp4.durationSeconds']).toBeCloseTo(3, 0);

    // A strict SSIM threshold fails with the measured number.
    const strict = await validateVideo(
      media.landscape,
      landscape.outDir,
      landscape.info,
      landscape.renditions,
      {
        ssimThreshold: 0.99999,
      },
    );
    expect(strict.ok).toBe(false);
    expect(strict.reason).toMatch(/hls\/1080p SSIM 0\.\d{4} against the source is below 0\.99999/);
  });

  it('records the per-title decision with each rung’s cap, reason and measured quality', () => {
    const { ladder } = landscape;
    expect(ladder.probe.windows.length).toBeGreaterThan(0);
    expect(ladder.complexityBitsPerPixel).toBeGreaterThan(0);
    for (const rung of ladder.rungs) {
      expect(rung.capKbps).toBeLessThanOrEqual(rung.fixedKbps * ladder.margins.fixed);
      expect(rung.why).toBeTruthy();
      const last = rung.attempts[rung.publishedAttempt]!;
      expect(last.ssim).toBeGreaterThanOrEqual(0.94);
      expect(last.psnr).toBeGreaterThan(30);
      expect(last.encodedKbps).toBeGreaterThan(0);
    }
  });

  it('makes portrait rungs without audio from a portrait clip without sound', async () => {
    const t = await transcode(media.portrait, 'out-portrait');
    await expectLadder(t, ['360p 360x640', '480p 480x854', '720p 720x1280'], false);
    const mp4 = await ffprobe(path.join(t.outDir, 'mp4/720p.mp4'));
    expect(mp4.streams.map((s) => s.codec_name)).toEqual(['h264']);
    const report = await validateVideo(media.portrait, t.outDir, t.info, t.renditions);
    expect(report.reason).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('applies the display rotation: a rotated 640x360 clip gives a 360x640 rung', async () => {
    const t = await transcode(media.rotated, 'out-rotated');
    await expectLadder(t, ['360p 360x640'], true);
    const mp4 = await probeAv(path.join(t.outDir, 'mp4/360p.mp4'));
    expect(mp4.video).toMatchObject({ width: 360, height: 640, rotation: 0 });
    expect(t.renditions.find((r) => r.name === 'poster')).toMatchObject({ width: 360, height: 640 });
    const report = await validateVideo(media.rotated, t.outDir, t.info, t.renditions);
    expect(report.reason).toBeUndefined();
    expect(report.measurements['ssim.top']).toBeGreaterThanOrEqual(0.9);
  });

  it('transcodes VP9 WebM smaller than 360p at its own size', async () => {
    const t = await transcode(media.webm, 'out-webm');
    await expectLadder(t, ['360p 320x240'], true);
    const report = await validateVideo(media.webm, t.outDir, t.info, t.renditions);
    expect(report.reason).toBeUndefined();
    expect(report.ok).toBe(true);
  });

  it('kills ffmpeg and rejects with AbortError when aborted mid-transcode', async () => {
    const info = await probeAv(media.landscape);
    const controller = new AbortController();
    let running: number[] = [];
    let abortedAt: number | undefined;
    const pending = transcodeVideo(media.landscape, path.join(dir, 'out-aborted'), info, {
      signal: controller.signal,
      onProgress: (p) => {
        if (abortedAt === undefined && p > 3) {
          running = ffmpegChildren();
          abortedAt = p;
          controller.abort();
        }
      },
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(abortedAt).toBeLessThan(90);
    expect(running.length).toBe(1);
    expect(ffmpegChildren()).toEqual([]);
    // The process is gone, not merely detached.
    expect(() => process.kill(running[0]!, 0)).toThrow();
  });

  it('rejects at once when the signal is already aborted', async () => {
    const info = await probeAv(media.portrait);
    const pending = transcodeVideo(media.portrait, path.join(dir, 'out-pre-aborted'), info, {
      signal: AbortSignal.abort(),
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(ffmpegChildren()).toEqual([]);
  });

  it('turns an unreadable input into MediaError with ffmpeg’s stderr', async () => {
    const info = await probeAv(media.landscape);
    const err = await transcodeVideo(media.garbage, path.join(dir, 'out-garbage'), info).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).message).toMatch(/complexity probe failed: .*Invalid data found/s);
    expect((err as MediaError).details.stderr).toBeTruthy();

    const audioOnly: AvInfo = { kind: 'audio', container: 'mp3', durationSeconds: 3 };
    await expect(transcodeVideo(media.landscape, path.join(dir, 'out-x'), audioOnly)).rejects.toBeInstanceOf(
      MediaError,
    );
  });
});
