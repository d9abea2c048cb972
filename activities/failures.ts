import { ApplicationFailure, Context } from '@temporalio/activity';
import { MediaError, MediaRejected, MediaStalled } from './media/tools/types';
import { MEDIA_FAILURE, MEDIA_REJECTED, MEDIA_STALLED } from '../workflows/definitions';

/** Corrupt or unsupported media fails for good; anything else is rethrown for Temporal to retry. */
export async function classifyMediaErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // Work stopped because the activity was cancelled is reported as a cancellation, not as a failure.
    const cancelled = Context.current().cancellationSignal;
    if (cancelled.aborted) throw cancelled.reason;
    if (err instanceof MediaStalled) {
      throw ApplicationFailure.create({
        message: withoutPaths(err.message),
        type: MEDIA_STALLED,
        nonRetryable: true,
      });
    }
    if (err instanceof MediaError) {
      throw ApplicationFailure.create({
        message: withoutPaths(err.message),
        type: err instanceof MediaRejected ? MEDIA_REJECTED : MEDIA_FAILURE,
        nonRetryable: true,
        details: [err.details],
      });
    }
    throw err;
  }
}

/**
 * A failure's message becomes the asset's reason, which its owner reads. The tools name their files by absolute
 * paths into the worker's scratch directories: only the file's own name says anything to the owner, the rest is
 * the worker's layout. (URLs and relative names such as hls/480p are left alone.)
 */
export function withoutPaths(message: string): string {
  return message.replace(/(?<![\w:/.~-])\/(?:[\w.+@-]+\/)+([\w.+@-]+)/g, '$1');
}
