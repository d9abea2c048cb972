import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAv } from '../activities/media/tools/probe';
import { MediaStalled, type AvInfo, type RenditionFile } from '../activities/media/tools/types';
import { validateVideo } from '../activities/media/tools/validate';
import { transcodeVideo } from '../activities/media/tools/video';
import { clip } from './helpers/generate-media';
import { ffmpegChildren } from './helpers/ffmpeg';

/**
 * Validation's SSIM/PSNR run decodes the source and every rung again, the longest step after rendering: a hung
 * ffmpeg there is killed by the same stall watchdog as in rendering, and a cancelled attempt stops it. The hang is
 * forced (the ffmpeg process is stopped with SIGSTOP as soon as it exists), not hoped for.
 */
describe('validation stops a stalled or cancelled quality run', () => {
  let dir: string;
  let src: string;
  let info: AvInfo;
  let files: RenditionFile[];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-validate-stall-'));
    src = path.join(dir, 'src.mp4');
    await clip(src, { width: 320, height: 240, seconds: 4 });
    info = await probeAv(src);
    files = (await transcodeVideo(src, path.join(dir, 'out'), info)).renditions;
  }, 120_000);
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  /** Resolves with the pid of the first ffmpeg child once one runs. */
  async function firstFfmpeg(): Promise<number> {
    for (;;) {
      const [pid] = ffmpegChildren();
      if (pid) return pid;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('passes on the outputs as they are (the runs below are stopped, not failed checks)', async () => {
    const report = await validateVideo(src, path.join(dir, 'out'), info, files, {
      control: { stallMs: 30_000 },
    });
    expect(report.ok, report.reason).toBe(true);
  });

  it('kills an ffmpeg that makes no progress and reports MediaStalled', async () => {
    const run = validateVideo(src, path.join(dir, 'out'), info, files, { control: { stallMs: 1_500 } });
    const pid = await firstFfmpeg();
    process.kill(pid, 'SIGSTOP');
    await expect(run).rejects.toBeInstanceOf(MediaStalled);
    await expect(run).rejects.toThrow(/made no progress for 1.5 s/);
    expect(ffmpegChildren()).toEqual([]);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('stops at once when the attempt is cancelled', async () => {
    const controller = new AbortController();
    const run = validateVideo(src, path.join(dir, 'out'), info, files, {
      control: { signal: controller.signal, stallMs: 30_000 },
    });
    const pid = await firstFfmpeg();
    process.kill(pid, 'SIGSTOP');
    controller.abort(new Error('cancelled by the workflow'));
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(ffmpegChildren()).toEqual([]);
  });
});
