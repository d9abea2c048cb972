import { describe, expect, it } from 'vitest';
import { planLadder, progressiveRung } from '../activities/media/tools/ladder';
import type { VideoStreamInfo } from '../activities/media/tools/types';
import { keyframeWindows, sampleWindows } from '../activities/media/tools/complexity-probe';
import {
  BUFSIZE_FACTOR,
  decidedRungs,
  decidePerTitle,
  FIXED_MARGIN,
  SOURCE_MARGIN,
  type ComplexityProbe,
} from '../activities/media/tools/per-title';

function video(width: number, height: number, rotation = 0): VideoStreamInfo {
  const swap = rotation === 90 || rotation === 270;
  return {
    codec: 'h264',
    width,
    height,
    rotation,
    displayWidth: swap ? height : width,
    displayHeight: swap ? width : height,
    frameRate: 30,
  };
}

const sizes = (v: VideoStreamInfo) => planLadder(v).map((r) => `${r.name} ${r.width}x${r.height}`);

describe('planLadder', () => {
  it('gives a 1080p landscape source the rungs up to 1080p', () => {
    expect(sizes(video(1920, 1080))).toEqual([
      '360p 640x360',
      '480p 854x480',
      '720p 1280x720',
      '1080p 1920x1080',
    ]);
  });

  it('goes up to 2160p for 4K and 1440p for 2560x1440', () => {
    expect(planLadder(video(3840, 2160)).map((r) => r.name)).toEqual([
      '360p',
      '480p',
      '720p',
      '1080p',
      '1440p',
      '2160p',
    ]);
    expect(sizes(video(2560, 1440)).at(-1)).toBe('1440p 2560x1440');
  });

  it('decides by the short side for portrait pictures', () => {
    expect(sizes(video(1080, 1920))).toEqual([
      '360p 360x640',
      '480p 480x854',
      '720p 720x1280',
      '1080p 1080x1920',
    ]);
    expect(sizes(video(720, 1280))).toEqual(['360p 360x640', '480p 480x854', '720p 720x1280']);
  });

  it('uses the displayed (rotated) picture', () => {
    // a phone video stored landscape with a 90° display matrix plays portrait
    expect(sizes(video(1920, 1080, 90))).toEqual(sizes(video(1080, 1920)));
    expect(sizes(video(640, 360, 270))).toEqual(['360p 360x640']);
    expect(sizes(video(1920, 1080, 180))).toEqual(sizes(video(1920, 1080)));
  });

  it('never scales up: a short side between rungs stops at the rung below', () => {
    expect(sizes(video(1920, 1040))).toEqual(['360p 664x360', '480p 886x480', '720p 1330x720']);
    expect(planLadder(video(1280, 719)).map((r) => r.name)).toEqual(['360p', '480p']);
  });

  it('keeps the aspect ratio with even dimensions', () => {
    for (const [w, h] of [
      [1920, 1080],
      [1440, 1080],
      [2560, 1080],
      [1000, 1000],
      [1080, 1350],
      [853, 480],
      [3840, 1600],
    ] as const) {
      for (const rung of planLadder(video(w, h))) {
        expect(rung.width % 2, `${w}x${h} ${rung.name}`).toBe(0);
        expect(rung.height % 2, `${w}x${h} ${rung.name}`).toBe(0);
        expect(Math.abs(rung.width / rung.height - w / h), `${w}x${h} ${rung.name}`).toBeLessThan(0.01);
        expect(Math.min(rung.width, rung.height)).toBe(Number.parseInt(rung.name, 10));
        expect(rung.width).toBeLessThanOrEqual(w);
        expect(rung.height).toBeLessThanOrEqual(h);
      }
    }
    expect(sizes(video(1440, 1080))).toContain('480p 640x480');
    expect(sizes(video(1000, 1000))).toContain('720p 720x720');
  });

  it('gives a source below 360p one rung at its own even size', () => {
    expect(sizes(video(320, 240))).toEqual(['360p 320x240']);
    expect(sizes(video(321, 179))).toEqual(['360p 320x178']);
    expect(sizes(video(180, 320))).toEqual(['360p 180x320']);
    const [tiny] = planLadder(video(160, 90));
    expect(tiny!.videoBitrateKbps).toBeLessThan(planLadder(video(640, 360))[0]!.videoBitrateKbps);
  });

  it('raises bitrates with the rung and caps them with maxrate and bufsize', () => {
    const ladder = planLadder(video(3840, 2160));
    for (let i = 1; i < ladder.length; i++) {
      expect(ladder[i]!.videoBitrateKbps).toBeGreaterThan(ladder[i - 1]!.videoBitrateKbps);
    }
    for (const rung of ladder) {
      expect(rung.maxrateKbps).toBeGreaterThan(rung.videoBitrateKbps);
      expect(rung.bufsizeKbps).toBeGreaterThanOrEqual(rung.maxrateKbps);
      expect(rung.audioBitrateKbps).toBeGreaterThanOrEqual(96);
    }
  });

  it('rejects a picture without a size', () => {
    expect(() => planLadder(video(0, 0))).toThrow(RangeError);
  });
});

describe('progressiveRung', () => {
  it('is the highest rung up to 720p', () => {
    expect(progressiveRung(planLadder(video(3840, 2160))).name).toBe('720p');
    expect(progressiveRung(planLadder(video(1920, 1080))).name).toBe('720p');
    expect(progressiveRung(planLadder(video(854, 480))).name).toBe('480p');
    expect(progressiveRung(planLadder(video(320, 240)))).toMatchObject({ width: 320, height: 240 });
  });
});

describe('decidePerTitle', () => {
  const fixed = planLadder(video(1920, 1080));
  const probe = (bitsPerPixel: number[]): ComplexityProbe => ({
    width: 640,
    height: 360,
    frameRate: 30,
    crf: 22,
    preset: 'veryfast',
    windows: bitsPerPixel.map((bpp, i) => ({
      startSeconds: i * 4,
      seconds: 2,
      bytes: Math.round((bpp * 640 * 360 * 60) / 8),
      bitsPerPixel: bpp,
    })),
  });

  it('derives caps from the hardest window and keeps them within both margins', () => {
    const easy = decidePerTitle(fixed, probe([0.01, 0.02]), undefined);
    const hard = decidePerTitle(fixed, probe([0.05, 0.4, 0.1]), undefined);
    expect(hard.complexityBitsPerPixel).toBe(0.4);
    for (const [i, rung] of hard.rungs.entries()) {
      expect(rung.capKbps).toBeGreaterThan(easy.rungs[i]!.capKbps);
      expect(rung.capKbps).toBe(Math.round(rung.fixedKbps * FIXED_MARGIN));
      expect(rung.limitedBy).toBe('fixed-margin');
      expect(rung.bufsizeKbps).toBe(Math.round(rung.capKbps * BUFSIZE_FACTOR));
    }
    expect(easy.rungs.map((r) => r.limitedBy)).toEqual([
      'complexity',
      'complexity',
      'complexity',
      'complexity',
    ]);
    const lowSource = decidePerTitle(fixed, probe([0.4]), 1000);
    expect(Math.max(...lowSource.rungs.map((r) => r.capKbps))).toBeLessThanOrEqual(1000 * SOURCE_MARGIN);
    expect(lowSource.rungs.at(-1)!.limitedBy).toBe('source-margin');
    expect(lowSource.rungs.at(-1)!.why).toContain('the source');
  });

  it('gives hard content no more than 0.8× the fixed rate on any rung, easy content what the probe predicts', () => {
    // What the fixed ABR encode spends on hard content is its rate or less; a capped CRF encode spends its cap.
    expect(FIXED_MARGIN).toBe(0.8);
    for (const bpp of [0.2, 1.2, 5]) {
      const decision = decidePerTitle(fixed, probe([bpp]), undefined);
      expect(decision.rungs.map((r) => r.name)).toEqual(fixed.map((r) => r.name));
      for (const rung of decision.rungs) {
        expect(rung.capKbps).toBe(Math.round(rung.fixedKbps * 0.8));
        expect(rung.why).toContain(`capped at 0.8× the fixed ${rung.fixedKbps} kbps`);
      }
    }
    const easy = decidePerTitle(fixed, probe([0.03]), undefined);
    for (const rung of easy.rungs) {
      expect(rung.limitedBy).toBe('complexity');
      expect(rung.capKbps).toBe(Math.round(rung.predictedKbps * easy.margins.headroom));
      expect(rung.capKbps).toBeLessThan(rung.fixedKbps * 0.8);
    }
  });

  it('drops rungs that add too little over the one below, never the top or the lowest, and never adds sizes', () => {
    // A 700 kbps source: every rung from 480p up would be capped at 1.25× that, under 1.4× the 360p rung's cap.
    const decision = decidePerTitle(fixed, probe([0.4]), 700);
    expect(decision.rungs.map((r) => r.name)).toEqual(['360p', '1080p']);
    expect(decision.dropped.map((r) => r.name)).toEqual(['480p', '720p']);
    expect(decision.dropped[0]!.why).toMatch(/less than 1\.4× the 360p rung/);
    const sizes = new Set(fixed.map((r) => `${r.width}x${r.height}`));
    for (const r of decision.rungs) expect(sizes.has(`${r.width}x${r.height}`)).toBe(true);
    const rungs = decidedRungs(fixed, decision);
    expect(rungs.map((r) => [r.name, r.crf, r.maxrateKbps])).toEqual(
      decision.rungs.map((r) => [r.name, r.crf, r.capKbps]),
    );
  });

  it('takes a clip the probe measured nothing of as hard content: the fixed-margin caps', () => {
    const decision = decidePerTitle(fixed, probe([]), undefined);
    expect(decision.rungs.map((r) => [r.limitedBy, r.capKbps])).toEqual(
      fixed.map((r) => ['no-probe', Math.round(r.videoBitrateKbps * FIXED_MARGIN)]),
    );
  });
});

describe('sampleWindows', () => {
  it('spreads up to three 2 s windows on the segment grid; a short clip is one window of its length', () => {
    expect(sampleWindows(60, 4)).toEqual([
      { startSeconds: 8, seconds: 2 },
      { startSeconds: 28, seconds: 2 },
      { startSeconds: 48, seconds: 2 },
    ]);
    expect(sampleWindows(6, 4)).toEqual([
      { startSeconds: 0, seconds: 2 },
      { startSeconds: 4, seconds: 2 },
    ]);
    expect(sampleWindows(0.5, 4)).toEqual([{ startSeconds: 0, seconds: 0.5 }]);
    expect(sampleWindows(4.5, 4)).toEqual([
      { startSeconds: 0, seconds: 2 },
      { startSeconds: 4, seconds: 0.5 },
    ]);
  });
});

describe('keyframeWindows', () => {
  const spread = sampleWindows(10, 4);

  it('starts each probe window on the free keyframe nearest its spread window, one second long', () => {
    // x264's default GOP on a 10 s clip: keyframes at 0 and 8.33 s only. Two windows, not three of the same one.
    expect(keyframeWindows(spread, [0, 8.333333], 10)).toEqual([
      { startSeconds: 0, seconds: 1 },
      { startSeconds: 8.334, seconds: 1 },
    ]);
    // Keyframes every second: the spread windows' own starts.
    const everySecond = Array.from({ length: 10 }, (_, i) => i);
    expect(keyframeWindows(spread, everySecond, 10)).toEqual([
      { startSeconds: 0, seconds: 1 },
      { startSeconds: 4, seconds: 1 },
      { startSeconds: 8, seconds: 1 },
    ]);
  });

  it('drops a window that would overlap the one before, and cuts one at the end of the video', () => {
    expect(keyframeWindows(spread, [0, 0.5], 10)).toEqual([{ startSeconds: 0, seconds: 1 }]);
    expect(keyframeWindows(spread, [0, 9.6], 10)).toEqual([
      { startSeconds: 0, seconds: 1 },
      { startSeconds: 9.6, seconds: 0.4 },
    ]);
  });

  it('falls back to the spread windows when no keyframe was listed', () => {
    expect(keyframeWindows(spread, [], 10)).toEqual(spread);
  });
});
