import os from 'node:os';
import ffmpeg from 'fluent-ffmpeg';
import { lastLines } from './probe';
import { MediaError, MediaStalled, type WorkControl } from './types';

/** Encoder threads per output: the machine's cores, capped; ffmpeg runs several encoders side by side. */
export const ENCODER_THREADS = String(Math.max(1, Math.min(os.availableParallelism(), 8)));

/** Quiet logs but keep the stats line fluent-ffmpeg turns into 'progress' events. */
const globalOptions = (logLevel: string) => ['-hide_banner', '-nostdin', '-loglevel', logLevel, '-stats'];

export interface FfmpegRun {
  src: string;
  /** Options for the first input, e.g. ['-ss', '1.5']. */
  inputOptions?: string[];
  /** 'error' unless a filter's summary (ssim) is wanted from stderr. */
  logLevel?: string;
  /** Every stderr line, for runs whose result is in the log. */
  onStderrLine?: (line: string) => void;
  /** Working directory: outputs are named relative to it so '%' in the path cannot clash with ffmpeg patterns. */
  cwd: string;
  /** Adds outputs, maps and filters to the command. */
  build: (command: ffmpeg.FfmpegCommand) => void;
  /** Seconds of media the run decodes, to turn ffmpeg's timemark into a percentage. */
  durationSeconds: number;
  /** What is being made, for error messages. */
  what: string;
  control?: WorkControl;
  /** Part of the caller's 0-100 scale this run covers. */
  progressRange?: [number, number];
}

/** What abortError makes: work stopped on purpose, not a verdict on the media. */
export const isAbortError = (err: unknown) => err instanceof Error && err.name === 'AbortError';

export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  const detail = reason instanceof Error ? `: ${reason.message}` : '';
  const err = new Error(`media processing aborted${detail}`);
  err.name = 'AbortError';
  return err;
}

/**
 * Runs one ffmpeg command. Resolves when ffmpeg exits cleanly; rejects with MediaError (carrying ffmpeg's last
 * stderr lines) when it fails, and with an AbortError once the process has died after control.signal aborted.
 */
export function runFfmpeg(run: FfmpegRun): Promise<void> {
  const { control, progressRange = [0, 100] } = run;
  const signal = control?.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));

  const command = ffmpeg({ cwd: run.cwd })
    .input(run.src)
    .inputOptions([...globalOptions(run.logLevel ?? 'error'), ...(run.inputOptions ?? [])]);
  run.build(command);

  return new Promise<void>((resolve, reject) => {
    let started = false;
    let aborted = false;
    let lastPercent = -1;

    // Silence for stallMs (no stats line, no message) means ffmpeg hangs: heartbeats alone would keep the attempt
    // alive for hours, so the watchdog kills it and the workflow counts a lost attempt.
    let stalled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const stallMs = control?.stallMs;
    const alive = () => {
      if (!stallMs) return;
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        command.kill('SIGKILL');
      }, stallMs);
    };

    const onAbort = () => {
      aborted = true;
      if (started) command.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      clearTimeout(watchdog);
      signal?.removeEventListener('abort', onAbort);
    };

    command.on('start', () => {
      started = true;
      if (aborted) command.kill('SIGKILL');
      alive();
    });

    command.on('stderr', (line: string) => {
      alive();
      run.onStderrLine?.(line);
    });
    if (stallMs) command.on('progress', alive);

    const onProgress = control?.onProgress;
    if (onProgress) {
      command.on('progress', (p: { timemark?: string }) => {
        const seconds = timemarkSeconds(p.timemark);
        if (seconds === undefined || run.durationSeconds <= 0) return;
        const [from, to] = progressRange;
        const fraction = Math.min(1, Math.max(0, seconds / run.durationSeconds));
        const percent = Math.round((from + (to - from) * fraction) * 10) / 10;
        if (percent > lastPercent) {
          lastPercent = percent;
          onProgress(percent);
        }
      });
    }

    // 'error' and 'end' come after the process has exited and its pipes have closed.
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      finish();
      if (aborted) {
        reject(abortError(signal));
        return;
      }
      if (stalled) {
        reject(new MediaStalled(`${run.what}: ffmpeg made no progress for ${stallMs! / 1000} s`));
        return;
      }
      const tail = lastLines(withoutStats(stderr ?? '')) || err.message;
      reject(new MediaError(`${run.what} failed: ${tail}`, { stderr: tail, error: err.message }));
    });
    command.on('end', () => {
      finish();
      if (aborted) reject(abortError(signal));
      else resolve();
    });

    command.run();
  });
}

/** Drops the 'frame= … time= …' / 'size= … time= …' stats lines, leaving ffmpeg's messages. */
function withoutStats(stderr: string): string {
  return stderr
    .split(/\r\n|\r|\n/)
    .filter((line) => !/^\s*(frame|size)=/.test(line))
    .join('\n');
}

/** '00:01:02.50' → 62.5; 'N/A' and negative marks → undefined */
export function timemarkSeconds(mark: string | undefined): number | undefined {
  if (!mark || mark.startsWith('-')) return undefined;
  let seconds = 0;
  for (const part of mark.split(':')) {
    const n = Number(part);
    if (!Number.isFinite(n)) return undefined;
    seconds = seconds * 60 + n;
  }
  return seconds;
}
