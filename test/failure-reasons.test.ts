import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyMediaErrors, withoutPaths } from '../activities/failures';
import { probeAv } from '../activities/media/tools/probe';
import { MEDIA_FAILURE } from '../workflows/definitions';
import { clip } from './helpers/generate-media';

/** The reason an owner reads for a failed asset names the file, never the worker's scratch directories. */
describe('failure reasons', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'assetline-scratch-'));
  });
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  it("a real ffmpeg failure's reason keeps the file's name and loses its directories", async () => {
    const whole = path.join(dir, 'whole.mp4');
    await clip(whole, { width: 160, height: 120, seconds: 1 });
    const truncated = path.join(dir, 'source.mp4');
    await fs.writeFile(truncated, (await fs.readFile(whole)).subarray(0, 2000));
    const failure = await new MockActivityEnvironment()
      .run(() => classifyMediaErrors(() => probeAv(truncated)))
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const { message, type, nonRetryable } = failure as ApplicationFailure;
    expect({ type, nonRetryable }).toEqual({ type: MEDIA_FAILURE, nonRetryable: true });
    expect(message).toContain('source.mp4');
    expect(message).not.toContain(dir);
    expect(message).not.toContain(os.tmpdir());
  });

  it('strips absolute paths only', () => {
    expect(withoutPaths('/var/lib/assetline/work/k3j/source: Invalid data found')).toBe(
      'source: Invalid data found',
    );
    expect(withoutPaths("Error opening input file '/tmp/x/y/in.mp4'.")).toBe(
      "Error opening input file 'in.mp4'.",
    );
    expect(withoutPaths('hls/480p SSIM 0.8123 against the source is below 0.9')).toBe(
      'hls/480p SSIM 0.8123 against the source is below 0.9',
    );
    expect(withoutPaths('fetching http://edge:8080/d/abc/hls/master.m3u8 failed')).toBe(
      'fetching http://edge:8080/d/abc/hls/master.m3u8 failed',
    );
    expect(withoutPaths('frame 1/2 at 25/1 fps')).toBe('frame 1/2 at 25/1 fps');
  });
});
