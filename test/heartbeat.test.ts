import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepBeating, type BeatOptions, type Beat } from '../activities/heartbeat';

/** The one heartbeat helper, on the SDK's activity environment; time is vitest's fake clock. */
describe('keepBeating', () => {
  let env: MockActivityEnvironment;
  let beats: unknown[];
  beforeEach(() => {
    vi.useFakeTimers();
    env = new MockActivityEnvironment();
    beats = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
  });
  afterEach(() => vi.useRealTimers());

  /** Runs `steps` inside an activity wrapped in keepBeating; each step gets the beat and the clock. */
  function run(opts: BeatOptions, steps: (beat: Beat) => Promise<void>) {
    return env.run(() => keepBeating(steps, opts));
  }

  it('beats every 5 s while the work is awaited, with the latest details, and stops when it ends', async () => {
    await run({ details: { percent: 0 } }, async (beat) => {
      await vi.advanceTimersByTimeAsync(10_001);
      beat.now({ phase: 'copied' });
      await vi.advanceTimersByTimeAsync(5_000);
    });
    expect(beats).toEqual([{ percent: 0 }, { percent: 0 }, { phase: 'copied' }, { phase: 'copied' }]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(beats).toHaveLength(4);
  });

  it('without periodic beats, only the work beats: a stall beats nothing', async () => {
    await run({ everyMs: null }, async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(beats).toEqual([]);
  });

  it('throttled beats go out at most once per gap, or when due, and keep the latest details', async () => {
    const sent: boolean[] = [];
    await run({ everyMs: null, minGapMs: 5_000 }, async (beat) => {
      sent.push(beat.throttled({ n: 1 }));
      sent.push(beat.throttled({ n: 2 }));
      sent.push(beat.throttled({ n: 3 }, true));
      await vi.advanceTimersByTimeAsync(5_000);
      sent.push(beat.throttled({ n: 4 }));
    });
    expect(sent).toEqual([true, false, true, true]);
    expect(beats).toEqual([{ n: 1 }, { n: 3 }, { n: 4 }]);
  });

  it('media progress never goes back, stops at 100, and the periodic beats carry it', async () => {
    await run({ details: { percent: 0 } }, async (beat) => {
      const control = beat.progress();
      control.onProgress!(40.4);
      await vi.advanceTimersByTimeAsync(1_001);
      control.onProgress!(30);
      await vi.advanceTimersByTimeAsync(1_001);
      control.onProgress!(250);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(control.signal).toBe(beat.signal);
    });
    expect(beats).toEqual([{ percent: 40 }, { percent: 40 }, { percent: 100 }, { percent: 100 }]);
  });
});
