import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg, ffmpegChildren } from './helpers/ffmpeg';
import { transcodeAudio } from '../activities/media/tools/audio';
import { probeAv } from '../activities/media/tools/probe';
import { MediaError, type AvInfo } from '../activities/media/tools/types';
import { validateAudio } from '../activities/media/tools/validate';

let dir: string;
const media = { mp3: '', wav: '', long: '', truncated: '' };

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-media-audio-'));
  const at = (name: string) => path.join(dir, name);
  Object.assign(media, {
    mp3: at('song.mp3'),
    wav: at('stereo.wav'),
    long: at('long.wav'),
    truncated: at('cut.m4a'),
  });

  // 5 s mono MP3 with cover art: the picture is a video stream with disposition attached_pic.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=5'],
    ...['-f', 'lavfi', '-i', 'color=c=red:size=300x300:duration=0.1'],
    ...['-map', '0:a', '-map', '1:v', '-c:a', 'libmp3lame', '-b:a', '128k'],
    ...[
      '-c:v',
      'mjpeg',
      '-frames:v',
      '1',
      '-disposition:v',
      'attached_pic',
      '-id3v2_version',
      '3',
      media.mp3,
    ],
  );
  // 4 s stereo 44.1 kHz PCM, a different tone per channel.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*220*t)|0.3*sin(2*PI*330*t):s=44100:d=4'],
    ...['-c:a', 'pcm_s16le', media.wav],
  );
  // 10 minutes at 8 kHz: long enough to abort (tens of ms to write, seconds to encode).
  await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=8000:duration=600', media.long);
  // An M4A whose moov box (at the end) is cut off.
  const whole = at('whole.m4a');
  await ffmpeg('-i', media.wav, '-c:a', 'aac', whole);
  const bytes = await fs.readFile(whole);
  await fs.writeFile(media.truncated, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
}, 120_000);

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('probeAv for audio', () => {
  it('treats an MP3 with cover art as audio', async () => {
    const info = await probeAv(media.mp3);
    expect(info).toMatchObject({
      kind: 'audio',
      container: 'mp3',
      audio: { codec: 'mp3', channels: 1, sampleRate: 44100 },
    });
    expect(info.video).toBeUndefined();
    expect(info.durationSeconds).toBeCloseTo(5, 0);
  });

  it('reads a stereo WAV', async () => {
    const info = await probeAv(media.wav);
    expect(info).toMatchObject({
      kind: 'audio',
      container: 'wav',
      audio: { codec: 'pcm_s16le', channels: 2, sampleRate: 44100 },
    });
    expect(info.durationSeconds).toBeCloseTo(4, 1);
  });

  it('rejects a truncated M4A with MediaError', async () => {
    await expect(probeAv(media.truncated)).rejects.toBeInstanceOf(MediaError);
  });
});

describe('transcodeAudio and validateAudio', () => {
  for (const source of ['mp3', 'wav'] as const) {
    it(`makes AAC stereo 48 kHz and a waveform from the ${source}`, async () => {
      const src = media[source];
      const info = await probeAv(src);
      const outDir = path.join(dir, `out-${source}`);
      const progress: number[] = [];
      const renditions = await transcodeAudio(src, outDir, info, { onProgress: (p) => progress.push(p) });

      const [audio, waveform] = renditions;
      expect(audio).toMatchObject({ name: 'audio', relativePath: 'audio.m4a', mimeType: 'audio/mp4' });
      expect(Math.abs(audio!.durationSeconds! - info.durationSeconds)).toBeLessThan(0.5);
      expect(audio!.bitRate).toBeGreaterThan(96_000);
      expect(audio!.bitRate).toBeLessThan(160_000);
      expect(waveform).toEqual({
        name: 'waveform',
        relativePath: 'waveform.png',
        mimeType: 'image/png',
        width: 1200,
        height: 200,
      });

      const out = await probeAv(path.join(outDir, 'audio.m4a'));
      expect(out).toMatchObject({ kind: 'audio', audio: { codec: 'aac', channels: 2, sampleRate: 48000 } });
      expect(out.container).toContain('mp4');
      const bytes = await fs.readFile(path.join(outDir, 'audio.m4a'));
      expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat')); // +faststart

      const png = sharp(path.join(outDir, 'waveform.png'));
      expect(await png.metadata()).toMatchObject({ format: 'png', width: 1200, height: 200 });
      const stats = await png.stats();
      expect(stats.channels.some((c) => c.max > 0)).toBe(true); // something was drawn

      expect(progress.at(-1)).toBe(100);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));

      const report = await validateAudio(src, outDir, info, renditions);
      expect(report.reason).toBeUndefined();
      expect(report).toMatchObject({ ok: true, measurements: { 'audio.codec': 'aac', 'audio.channels': 2 } });
    });
  }

  it('fails validation with the numbers when the m4a is shorter than the source', async () => {
    const info = await probeAv(media.mp3);
    const outDir = path.join(dir, 'out-short');
    const renditions = await transcodeAudio(media.mp3, outDir, info);
    const m4a = path.join(outDir, 'audio.m4a');
    const copy = path.join(outDir, 'full.m4a');
    await fs.rename(m4a, copy);
    await ffmpeg('-i', copy, '-t', '2', '-c', 'copy', m4a);
    const report = await validateAudio(media.mp3, outDir, info, renditions);
    expect(report.ok).toBe(false);
    expect(report.reason).toMatch(
      /audio duration 2\.\d\d s differs from source 5\.\d\d s by more than 0\.5 s/,
    );

    await ffmpeg('-i', copy, '-ac', '1', '-c:a', 'aac', m4a);
    const mono = await validateAudio(media.mp3, outDir, info, renditions);
    expect(mono.reason).toBe('audio has 1 channels, expected 2');
  });

  it('kills ffmpeg and rejects with AbortError when aborted', async () => {
    const info = await probeAv(media.long);
    expect(info.durationSeconds).toBeCloseTo(600, 0);
    const controller = new AbortController();
    let running: number[] = [];
    let abortedAt: number | undefined;
    const pending = transcodeAudio(media.long, path.join(dir, 'out-aborted'), info, {
      signal: controller.signal,
      onProgress: (p) => {
        if (!controller.signal.aborted && p > 0) {
          running = ffmpegChildren();
          abortedAt = p;
          controller.abort();
        }
      },
    });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(abortedAt).toBeLessThan(50);
    expect(running.length).toBe(1);
    expect(ffmpegChildren()).toEqual([]);
    expect(() => process.kill(running[0]!, 0)).toThrow();
  });

  it('rejects a source without audio and unreadable input with MediaError', async () => {
    const noAudio: AvInfo = { kind: 'video', container: 'mp4', durationSeconds: 1 };
    await expect(transcodeAudio(media.wav, path.join(dir, 'out-none'), noAudio)).rejects.toBeInstanceOf(
      MediaError,
    );
    const info = await probeAv(media.wav);
    const err = await transcodeAudio(media.truncated, path.join(dir, 'out-bad'), info).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).message).toMatch(/audio transcode failed: .*moov atom not found/s);
  });
});
