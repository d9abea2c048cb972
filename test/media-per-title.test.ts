import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffmpeg } from './helpers/ffmpeg';
import { probeAv } from '../activities/media/tools/probe';
import { validateVideo } from '../activities/media/tools/validate';
import { TARGET_SSIM, transcodeVideo, type TranscodeOptions } from '../activities/media/tools/video';

const execFileP = promisify(execFile);

/** Per-title decisions and the per-rung quality loop, with real ffmpeg on generated clips. */
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p'];

let dir: string;
const clip = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-per-title-'));
  // Near-static: colour bars that never change. High motion: the moving test pattern spinning, under fresh grain every frame.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'smptehdbars=size=854x480:rate=30:duration=4'],
    ...[...X264, clip('static.mp4')],
  );
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30:duration=4'],
    ...['-vf', "rotate=a='t*2',noise=alls=10:allf=t", ...X264, clip('motion.mp4')],
  );
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30:duration=4', ...X264, clip('small.mp4'));
  // Heavy grain on every frame: more bits barely move SSIM, and every rung spends its cap.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=854x480:rate=30:duration=4'],
    ...['-vf', 'noise=alls=14:allf=t', ...X264, clip('grain.mp4')],
  );
  // Variable frame rate (30 fps for a second, then 10 fps) and an odd size just above 360p.
  await ffmpeg(
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=5'],
    ...['-vf', "select='lt(n,30)+not(mod(n,3))'", '-fps_mode', 'vfr', ...X264, clip('vfr.mp4')],
  );
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=641x361:rate=30:duration=3', ...X264, clip('odd.mp4'));
  // A minute, small: its probe windows are far apart (each one seeks), unlike a short clip's (one decode).
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=60', ...X264, clip('minute.mp4'));
  // Shorter than one probe window (1 s), and exactly one.
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=0.5', ...X264, clip('half.mp4'));
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=1', ...X264, clip('one.mp4'));
}, 120_000);

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function run(name: string, out: string, options: TranscodeOptions = {}) {
  const info = await probeAv(clip(name));
  const outDir = clip(out);
  const result = await transcodeVideo(clip(name), outDir, info, {}, options);
  return { info, outDir, ...result };
}

describe('per-title ladder', () => {
  it('gives a high-motion clip more complexity and higher caps than a static one, rung by rung', async () => {
    // No re-encodes: this is about the decision, and each would cost a full encode of a rung.
    const still = await run('static.mp4', 'out-static', { maxReencodes: 0 });
    const motion = await run('motion.mp4', 'out-motion', { maxReencodes: 0 });
    expect(motion.ladder.complexityBitsPerPixel).toBeGreaterThan(still.ladder.complexityBitsPerPixel * 5);
    const caps = (l: typeof still.ladder) => Object.fromEntries(l.rungs.map((r) => [r.name, r.capKbps]));
    const [stillCaps, motionCaps] = [caps(still.ladder), caps(motion.ladder)];
    expect(Object.keys(motionCaps)).toEqual(['360p', '480p']);
    for (const [name, cap] of Object.entries(stillCaps)) expect(motionCaps[name]).toBeGreaterThan(cap);
    // The static clip's rungs are far below the fixed ladder; the hard one may go above it, within the margin.
    for (const rung of still.ladder.rungs) expect(rung.capKbps).toBeLessThan(rung.fixedKbps / 2);
    for (const rung of motion.ladder.rungs) {
      // Caps are whole kbps, rounded from the margin's product.
      expect(rung.capKbps).toBeLessThanOrEqual(Math.round(rung.fixedKbps * motion.ladder.margins.fixed));
      expect(rung.capKbps).toBeLessThanOrEqual(
        Math.round(motion.ladder.sourceVideoKbps! * motion.ladder.margins.source),
      );
    }
    const bytes = async (outDir: string) => (await fs.stat(path.join(outDir, 'hls/480p/seg-000.m4s'))).size;
    expect(await bytes(motion.outDir)).toBeGreaterThan((await bytes(still.outDir)) * 5);
  }, 300_000);

  it('catches a starved rung: validation fails it, and the re-encode with more bits fixes it', async () => {
    const starve = { rung: '480p' as const, capKbps: 12 };
    const bad = await run('small.mp4', 'out-starved', { starve, maxReencodes: 0 });
    const failed = await validateVideo(clip('small.mp4'), bad.outDir, bad.info, bad.renditions);
    expect(failed.ok).toBe(false);
    expect(failed.reason).toMatch(/hls\/480p SSIM 0\.\d{4} against the source is below 0\.9/);
    expect(failed.reason).not.toContain('hls/360p');
    expect(bad.ladder.rungs.find((r) => r.name === '480p')!.attempts).toHaveLength(1);

    const fixed = await run('small.mp4', 'out-starved-fixed', { starve });
    const attempts = fixed.ladder.rungs.find((r) => r.name === '480p')!.attempts;
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatchObject({ capKbps: 12 });
    expect(attempts[0]!.ssim).toBeLessThan(0.9);
    // The re-encode target is the validation threshold.
    expect(TARGET_SSIM).toBe(0.9);
    expect(attempts.at(-1)!.ssim).toBeGreaterThanOrEqual(0.9);
    expect(fixed.ladder.rungs.find((r) => r.name === '480p')!.publishedAttempt).toBe(attempts.length - 1);
    expect(attempts.at(-1)!.capKbps).toBeGreaterThan(12);
    expect(fixed.ladder.rungs.find((r) => r.name === '360p')!.attempts).toHaveLength(1);
    const passed = await validateVideo(clip('small.mp4'), fixed.outDir, fixed.info, fixed.renditions);
    expect(passed.reason).toBeUndefined();
    expect(passed.measurements['hls/480p.ssim']).toBeGreaterThanOrEqual(0.9);
    // Each rung's figures are x264's own (every frame, luma SSIM), in ladder order: the starved rung's is the low
    // one, and each agrees with the validation's measurement on the sampled windows.
    expect(bad.ladder.rungs.map((r) => r.attempts[0]!.ssim! < 0.9)).toEqual([false, true]);
    for (const rung of fixed.ladder.rungs) {
      const published = rung.attempts[rung.publishedAttempt]!;
      expect(published.ssim).toBeCloseTo(passed.measurements[`hls/${rung.name}.ssim`] as number, 1);
      expect(published.psnr).toBeGreaterThan(25);
    }
    expect(fixed.phasesMs.quality).toBeLessThan(100);
  }, 300_000);

  it('does not encode again a rung below the target whose cap is spent and may not rise', async () => {
    const grain = await run('grain.mp4', 'out-grain');
    expect(grain.ladder.rungs.map((r) => r.limitedBy)).toEqual(['fixed-margin', 'fixed-margin']);
    const low = grain.ladder.rungs.filter((r) => r.attempts[0]!.ssim! < TARGET_SSIM);
    expect(low.length).toBeGreaterThan(0);
    for (const rung of low) {
      // One encode, published, at no more than 0.8× the fixed rate (plus the VBV buffer's start-up share).
      expect(rung.attempts).toHaveLength(1);
      expect(rung.publishedAttempt).toBe(0);
      expect(rung.attempts[0]!.encodedKbps!).toBeGreaterThanOrEqual(rung.capKbps * 0.9);
      expect(rung.attempts[0]!.encodedKbps!).toBeLessThan(rung.fixedKbps);
      expect(rung.why).toContain('not encoded again');
    }
    const files = await fs.readdir(grain.outDir);
    expect(files).not.toContain('.kept');
  }, 300_000);

  it('probes clips shorter than a window: one window of the clip’s own length', async () => {
    for (const [name, seconds] of [
      ['half.mp4', 0.5],
      ['one.mp4', 1],
    ] as const) {
      const t = await run(name, `out-${name}`);
      expect(t.ladder.probe.windows).toHaveLength(1);
      expect(t.ladder.probe.windows[0]).toMatchObject({ startSeconds: 0 });
      expect(t.ladder.probe.windows[0]!.seconds).toBeCloseTo(seconds, 1);
      expect(t.ladder.probe.windows[0]!.bytes).toBeGreaterThan(0);
      expect(t.ladder.rungs.map((r) => r.name)).toEqual(['360p']);
      const report = await validateVideo(clip(name), t.outDir, t.info, t.renditions);
      expect(report.reason).toBeUndefined();
    }
  }, 120_000);

  it('probes a long clip on the keyframes nearest its spread windows, one second each', async () => {
    const minute = await run('minute.mp4', 'out-minute', { maxReencodes: 0 });
    // x264's default GOP (250 frames): keyframes every 8.33 s. Listed here from every packet, independently.
    const listed = await execFileP('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags'],
      ...['-of', 'csv=p=0', clip('minute.mp4')],
    ]);
    const keyframes = listed.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('K'))
      .map((l) => Number(l.split(',')[0]));
    expect(keyframes.length).toBeGreaterThan(6);
    const windows = minute.ladder.probe.windows;
    expect(windows.map((w) => w.seconds)).toEqual([1, 1, 1]);
    // Each window starts on a keyframe (so nothing before it is decoded), the one nearest its spread target.
    windows.forEach((w, i) => {
      const target = [8, 28, 48][i]!;
      const nearest = keyframes.reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
      expect(w.startSeconds - nearest).toBeGreaterThanOrEqual(0);
      expect(w.startSeconds - nearest).toBeLessThan(0.002);
    });
    expect(windows.map((w) => w.startSeconds)).toEqual([8.334, 25, 50]);
    for (const w of windows) {
      expect(w.bytes).toBeGreaterThan(0);
      expect(w.keyFrameBytes).toBeGreaterThan(w.otherFrameBytes!);
    }
    // The same picture everywhere: the windows are alike.
    const bpp = minute.ladder.probe.windows.map((w) => w.bitsPerPixel);
    expect(Math.max(...bpp) / Math.min(...bpp)).toBeLessThan(1.5);
  }, 120_000);

  it('keeps variable-frame-rate and odd-sized clips working: probed, encoded, validated', async () => {
    const vfr = await run('vfr.mp4', 'out-vfr');
    expect(vfr.ladder.probe.windows.every((w) => w.bytes > 0)).toBe(true);
    expect(
      (await validateVideo(clip('vfr.mp4'), vfr.outDir, vfr.info, vfr.renditions)).reason,
    ).toBeUndefined();
    const odd = await run('odd.mp4', 'out-odd');
    expect(odd.ladder.rungs.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(['360p 640x360']);
    expect(
      (await validateVideo(clip('odd.mp4'), odd.outDir, odd.info, odd.renditions)).reason,
    ).toBeUndefined();
  }, 180_000);
});
