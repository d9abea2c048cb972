import type { Readable } from 'node:stream';

/**
 * What a malware scan concluded. `skipped` means nothing looked at the bytes (no scanner configured); callers decide
 * whether that is acceptable. A scan that could not finish is never a verdict: it throws.
 */
export type ScanVerdict =
  { verdict: 'clean' } | { verdict: 'infected'; signature: string } | { verdict: 'skipped'; reason: string };

/**
 * A malware scanner. `scan` takes ownership of the stream: it reads it to the end, or destroys it when the scan
 * fails, is aborted or does not need the bytes (so e.g. an S3 body never stays open).
 *
 * `scan` rejects with {@link ScannerUnavailableError} when the scanner cannot be reached or the conversation breaks
 * off (connection refused or reset, timeout, the input stream failing): retry later. Any other rejection means the
 * scanner answered but refused the input (e.g. larger than it accepts): retrying the same bytes will not help.
 * Neither is ever "clean".
 */
export interface Scanner {
  readonly name: string;
  scan(stream: Readable, opts?: { signal?: AbortSignal }): Promise<ScanVerdict>;
  /** Resolves when the scanner answers; throws {@link ScannerUnavailableError} otherwise. */
  ping(): Promise<void>;
}

/** The scanner could not be reached or the scan broke off. Transient: the caller retries; never treat as clean. */
export class ScannerUnavailableError extends Error {
  override readonly name: string = 'ScannerUnavailableError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The scanner had the whole input and went away before its verdict: the connection dropped with no reply. Still
 * transient, but it is also how a scanner crashing on this very input looks, so the pipeline counts these per input
 * (workflows/stage-guard.ts) instead of retrying them for ever.
 */
export class ScannerLostError extends ScannerUnavailableError {
  override readonly name = 'ScannerLostError';
}

/** For deployments without a scanner: every scan is `skipped`, and the stream is released without reading it. */
export class NoScanner implements Scanner {
  readonly name = 'none';

  async scan(stream: Readable): Promise<ScanVerdict> {
    stream.destroy();
    return { verdict: 'skipped', reason: 'no scanner configured' };
  }

  async ping(): Promise<void> {}
}
