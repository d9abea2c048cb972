import { Context } from '@temporalio/activity';
import type { WorkControl } from './media/tools/types';

/** Default gap between periodic beats: well inside the shortest heartbeat timeout an activity is given (20 s). */
const EVERY_MS = 5_000;
/** Default shortest gap between beats a hot loop asks for. */
const MIN_GAP_MS = 1_000;

export interface BeatOptions {
  /**
   * Periodic beats while the work is awaited (default 5 s). `null`: only the work's own beats, so that a stalled
   * read stops beating and the attempt is retried at the heartbeat timeout.
   */
  everyMs?: number | null;
  /** The shortest gap between `throttled` beats (default 1 s). */
  minGapMs?: number;
  /** Details the periodic beats carry until the work sends its own. */
  details?: unknown;
}

/**
 * The one way an activity heartbeats. Periodic beats say the worker is alive while an await takes long; `now` and
 * `throttled` send the work's own progress (the latest details ride on every later periodic beat too). Temporal
 * delivers cancellation with heartbeat answers, so beating also makes a delete reach the work promptly.
 */
export class Beat {
  private lastAt = 0;
  private latest: unknown;

  constructor(
    private readonly ctx: Context,
    private readonly minGapMs: number,
    details?: unknown,
  ) {
    this.latest = details;
  }

  /** Cancelled when the activity is (a delete of the asset, a timeout). */
  get signal(): AbortSignal {
    return this.ctx.cancellationSignal;
  }

  /** Beats now; `details`, when given, become the latest. */
  now(details?: unknown): void {
    if (details !== undefined) this.latest = details;
    this.lastAt = Date.now();
    // A local activity has no heartbeats: its workflow task is what times out when its worker is lost.
    if (!this.ctx.info.isLocal) this.ctx.heartbeat(this.latest);
  }

  /** For hot loops: keeps `details` as the latest and beats when `due` or the gap has passed. True if it beat. */
  throttled(details: unknown, due = false): boolean {
    this.latest = details;
    if (!due && Date.now() - this.lastAt < this.minGapMs) return false;
    this.now();
    return true;
  }

  /** Media work's control: its percent (never going back, at most 100) in throttled beats, and cancellation. */
  progress(): WorkControl {
    let percent = 0;
    return {
      signal: this.signal,
      onProgress: (p) => {
        percent = Math.max(percent, Math.min(100, Math.round(p)));
        this.throttled({ percent });
      },
    };
  }
}

/**
 * Runs `work` while telling Temporal every few seconds that this worker is alive and on it. With a short heartbeat
 * timeout, a worker killed under the activity (or a task lost while the Temporal server restarted) is retried within
 * that timeout, however long the work itself may legitimately take.
 */
export async function keepBeating<T>(work: (beat: Beat) => Promise<T>, opts: BeatOptions = {}): Promise<T> {
  const beat = new Beat(Context.current(), opts.minGapMs ?? MIN_GAP_MS, opts.details);
  const everyMs = opts.everyMs === undefined ? EVERY_MS : opts.everyMs;
  const timer = everyMs === null ? undefined : setInterval(() => beat.now(), everyMs);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}
